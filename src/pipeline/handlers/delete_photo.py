"""DeletePhotoFunction: a deleted raw upload is removed everywhere (items, derived objects, faces)."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.common.models import StepState
from pipeline.handlers import step_photo
from pipeline.processing import results

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: StepState, context) -> dict:
    photo = step_photo(event, logger)
    removed = results.default_store().remove(photo, event["executionName"])
    if removed:
        metrics.add_metric(name="PhotosDeleted", unit=MetricUnit.Count, value=1)
    logger.info("Photo deleted" if removed else "Raw object exists again; photo kept")
    return {"deleted": removed}
