"""DetectTextFunction: the bibs Rekognition reads on the processed photo (no raw output kept), and
the bib-shaped numbers the event's settings refused, for the review queue (pipeline.corrections.review)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.common import clients, rekognition
from pipeline.common.config import get_config
from pipeline.common.models import StepState
from pipeline.events.settings import Cached, EventSettings
from pipeline.handlers import step_photo
from pipeline.processing import bibs
from pipeline.store import Store

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def _load_settings(org_id: str, event_id: str) -> EventSettings:
    table = Store(clients.dynamodb_table(get_config().table_name))
    return EventSettings.from_item(table.settings.get(org_id, event_id))


event_settings = Cached(_load_settings)


def bib_rules() -> bibs.BibRules:
    config = get_config()
    return bibs.BibRules(min_length=config.bib_min_length, max_length=config.bib_max_length)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: StepState, context) -> dict:
    config = get_config()
    photo = step_photo(event, logger)
    settings = event_settings(photo.org_id, photo.event_id)
    detections = rekognition.detect_text(
        clients.rekognition(), rekognition.s3_image(config.bucket_name, event["image"]["processedKey"])
    )
    rules = bib_rules().for_event(settings.bib_range, settings.participants)
    found = bibs.read_bibs(detections, rules)
    doubtful = bibs.doubtful_reads(detections, rules)
    metrics.add_metric(name="BibsFound", unit=MetricUnit.Count, value=len(found))
    logger.info(
        "Text detected", extra={"words": len(detections), "bibs": len(found), "doubtful": len(doubtful)}
    )
    return {
        "bibs": [bib.as_dict() for bib in found],
        "doubtful": doubtful,
        "settings": settings.reads_fingerprint(),  # kept with the result (an identical re-upload)
    }
