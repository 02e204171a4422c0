"""DetectTextFunction: the bibs Rekognition reads on the processed photo (no raw output kept)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from pipeline import bibs, clients, rekognition
from pipeline.config import get_config
from pipeline.handlers import step_photo

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def bib_rules() -> bibs.BibRules:
    config = get_config()
    return bibs.BibRules(
        min_length=config.bib_min_length,
        max_length=config.bib_max_length,
        min_confidence=config.bib_min_confidence,
        min_height=config.bib_min_height,
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> dict:
    config = get_config()
    step_photo(event, logger)
    detections = rekognition.detect_text(
        clients.rekognition(), config.bucket_name, event["image"]["processedKey"]
    )
    found = bibs.read_bibs(detections, bib_rules())
    metrics.add_metric(name="BibsFound", unit=MetricUnit.Count, value=len(found))
    logger.info("Text detected", extra={"words": len(detections), "bibs": len(found)})
    return {"bibs": [bib.as_dict() for bib in found]}
