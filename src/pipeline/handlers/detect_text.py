"""DetectTextFunction: the bibs Rekognition reads on the processed photo, and the bib-shaped numbers
the event's settings refused, for the review queue (pipeline.corrections.review).

Rekognition's answer is kept with the photo (pipeline.store.photos text_read): a run of the same
content reads bibs from it again under the event's current settings without calling DetectText
(a re-run after a change of bib settings), unless the run is "fresh" (`snaprace reprocess --fresh`)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.common import clients, governor, keys, rekognition
from pipeline.common.config import get_config
from pipeline.common.models import StepState
from pipeline.handlers import step_photo
from pipeline.processing import bibs
from pipeline.processing.reading import event_settings, rules_for
from pipeline.store import Store

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: StepState, context) -> dict:
    config = get_config()
    photo = step_photo(event, logger)
    # a re-run reads settings no older than itself: it follows a change made a moment before
    settings = event_settings(photo.org_id, photo.event_id, keys.rerun_started_at(event["executionName"]))
    store, etag = Store(clients.dynamodb_table(config.table_name)), event["photo"]["etag"]
    ids = (photo.org_id, photo.event_id, photo.photo_id)
    detections = None if event.get("fresh") else store.photos.text_read(*ids, etag)
    if detections is None:
        with governor.booked(event):
            detections = rekognition.detect_text(
                clients.rekognition(),
                rekognition.s3_image(config.bucket_name, event["image"]["processedKey"]),
            )
        store.photos.keep_text_read(*ids, etag, detections)
    else:
        metrics.add_metric(name="TextReadsKept", unit=MetricUnit.Count, value=1)
    rules = rules_for(settings)
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
