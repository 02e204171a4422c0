"""SaveResultsFunction: the run's reads become the photo's results, replacing whatever an earlier
run wrote (pipeline.processing.save decides how)."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.common import clients
from pipeline.common.config import get_config
from pipeline.common.models import INDEXED, StepState
from pipeline.handlers import step_photo
from pipeline.processing.save import save_run
from pipeline.store import Store

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: StepState, context) -> dict:
    photo = step_photo(event, logger)
    saved = save_run(Store(clients.dynamodb_table(get_config().table_name)), photo, event)
    if saved.status == INDEXED:
        metrics.add_metric(name="PhotosIndexed", unit=MetricUnit.Count, value=1)
    logger.info(
        "Results saved",
        extra={"status": saved.status, "bibs": saved.bibs, "faces": saved.faces, "linked": saved.linked},
    )
    return {"status": saved.status, "bibs": saved.bibs, "faces": saved.faces}
