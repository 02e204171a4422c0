"""IndexFacesFunction: the photo's faces into the event's collection, ExternalImageId = photoId."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.common import clients, rekognition
from pipeline.common.config import get_config
from pipeline.common.keys import collection_id
from pipeline.common.models import StepState
from pipeline.handlers import step_photo
from pipeline.retention import erasure
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
    table = Store(clients.dynamodb_table(config.table_name))
    if not table.settings.faces_on(photo.org_id, photo.event_id):  # the organiser turned face search off
        logger.info("Face search is off for this event: no faces indexed")
        return {"faces": [], "otherFaces": []}
    collection = collection_id(config.collection_prefix, photo.org_id, photo.event_id)
    faces, others = rekognition.index_faces(
        clients.rekognition(),
        collection,
        config.bucket_name,
        event["image"]["processedKey"],
        photo.photo_id,
    )
    table.runs.record_faces(
        photo.org_id, photo.event_id, photo.photo_id, event["executionName"], [face.face_id for face in faces]
    )
    found = [face.as_dict() for face in faces]
    # a runner erased from this photo stays erased (pipeline.retention.erasure); the note covers a crash here
    boxes = erasure.erased_boxes(
        table.erasures.of_event(photo.org_id, photo.event_id), photo.photo_id, event["photo"]["etag"]
    )
    erased = erasure.faces_where_erased(found, boxes)
    if erased:
        rekognition.delete_faces(clients.rekognition(), collection, sorted(erased))
    kept = [face for face in found if face["faceId"] not in erased]
    # boxes only (no face data), for the second look: where runners are whose faces are not
    # searchable, and where an erased runner was (someone wears the bib there; it is not read again)
    others = [
        face
        for face in others
        if not any(erasure.overlap(face["box"], box) >= erasure.MATCH_OVERLAP for box in boxes)
    ] + [{"box": {side: float(value) for side, value in box.items()}, "erased": True} for box in boxes]
    metrics.add_metric(name="FacesIndexed", unit=MetricUnit.Count, value=len(kept))
    logger.info("Faces indexed", extra={"faces": len(kept), "otherFaces": len(others), "erased": len(erased)})
    return {"faces": kept, "otherFaces": others}
