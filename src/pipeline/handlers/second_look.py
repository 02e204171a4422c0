"""SecondLookFunction: the photo's bibs looked at again with its faces
(pipeline.processing.look_again). Returns the photo's bibs."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.common import clients
from pipeline.common.config import get_config
from pipeline.common.keys import collection_id
from pipeline.common.models import BibRead, StepState
from pipeline.handlers import step_photo
from pipeline.processing.look_again import look_again
from pipeline.store import Store

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: StepState, context) -> list[BibRead]:
    config = get_config()
    photo = step_photo(event, logger)
    store = Store(clients.dynamodb_table(config.table_name))
    collection = collection_id(config.collection_prefix, photo.org_id, photo.event_id)
    looked = look_again(
        store, clients.s3(), clients.rekognition(), config.bucket_name, collection, photo, event
    )
    metrics.add_metric(name="SecondLookBibs", unit=MetricUnit.Count, value=looked.added)
    logger.info(
        "Second look",
        extra={
            "notWorn": looked.not_worn,
            "torsos": looked.torsos,
            "words": looked.words,
            "bibs": looked.added,
            "resolvedByFace": looked.resolved_by_face,
        },
    )
    return looked.bibs
