"""RetentionSweepFunction: daily, deletes the collections of events past their face retention (or
with face search off and face data left) and starts the job that clears their items
(pipeline.retention.faces, pipeline.jobs.scrub). Also invoked at once by `snaprace retention sweep`."""

import datetime

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.common import clients
from pipeline.common.config import get_config
from pipeline.jobs import queue
from pipeline.retention import faces as retention
from pipeline.store import Store

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> dict:
    config = get_config()
    store = Store(clients.dynamodb_table(config.table_name))
    swept = retention.sweep(
        store,
        clients.rekognition(),
        config.collection_prefix,
        queue.starter(store, clients.sqs(), config.job_queue_url),
        datetime.datetime.now(datetime.UTC),
    )
    metrics.add_metric(name="EventsFacesExpired", unit=MetricUnit.Count, value=len(swept))
    logger.info("Retention sweep", extra={"events": len(swept), "faces": sum(s["faces"] for s in swept)})
    return {"swept": swept}
