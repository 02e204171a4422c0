"""IndexFacesFunction: the photo's faces into the event's collection (pipeline.processing.faces)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.common import clients, governor
from pipeline.common.config import get_config
from pipeline.common.keys import collection_id
from pipeline.common.models import StepState
from pipeline.handlers import step_photo
from pipeline.processing.faces import index_photo_faces
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
    collection = collection_id(config.collection_prefix, photo.org_id, photo.event_id)
    store = Store(clients.dynamodb_table(config.table_name))
    with governor.booked(event):
        indexed = index_photo_faces(
            store, clients.rekognition(), collection, config.bucket_name, photo, event
        )
    if indexed.faces_off:
        logger.info("Face search is off for this event: no faces indexed")
        return {"faces": [], "otherFaces": [], "indexed": False}
    metrics.add_metric(
        name="FacesKept" if indexed.reused else "FacesIndexed",
        unit=MetricUnit.Count,
        value=len(indexed.faces),
    )
    logger.info(
        "Faces kept from an earlier run of this content" if indexed.reused else "Faces indexed",
        extra={"faces": len(indexed.faces), "otherFaces": len(indexed.others), "erased": indexed.erased},
    )
    return {"faces": indexed.faces, "otherFaces": indexed.others, "indexed": True}
