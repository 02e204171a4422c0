"""RetentionSweepFunction: daily, deletes the face data of events past their face retention
(pipeline.retention.faces). Also invoked at once by `snaprace retention sweep`."""

import datetime

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.common import clients
from pipeline.common.config import get_config
from pipeline.retention import faces as retention
from pipeline.store import Store

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> dict:
    config = get_config()
    swept = retention.sweep(
        Store(clients.dynamodb_table(config.table_name)),
        clients.rekognition(),
        config.collection_prefix,
        datetime.datetime.now(datetime.UTC),
    )
    metrics.add_metric(name="EventsFacesExpired", unit=MetricUnit.Count, value=len(swept))
    logger.info("Retention sweep", extra={"events": len(swept), "faces": sum(s["faces"] for s in swept)})
    return {"swept": swept}
