"""PreprocessFunction: raw upload -> processed JPEG and thumbnail, or InvalidImage with the reason
(pipeline.processing.preprocess)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from pipeline.common import clients
from pipeline.common.config import get_config
from pipeline.common.models import StepState
from pipeline.handlers import step_photo
from pipeline.processing.preprocess import preprocess

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: StepState, context) -> dict:
    photo = step_photo(event, logger)
    image = preprocess(clients.s3(), get_config().bucket_name, photo, event["photo"])
    logger.info("Photo normalised", extra={"sourceFormat": image["sourceFormat"], "bytes": image["bytes"]})
    return image
