"""What IndexFaces does: the photo's faces into the event's collection (ExternalImageId = photoId),
noted under the run before anything uses them (pipeline.store.runs), and a runner erased from this
photo's content stays erased (pipeline.retention.erasure): a face indexed where an erased one was
is deleted at once. Nothing is indexed while the organiser has face search off."""

from dataclasses import dataclass, field

from pipeline.common import rekognition
from pipeline.common.keys import RawPhoto
from pipeline.common.models import StepState
from pipeline.retention import erasure
from pipeline.store import Store


@dataclass(frozen=True)
class IndexedFaces:
    faces: list[dict] = field(default_factory=list)  # {"faceId", "box", ...}: searchable from now on
    others: list[dict] = field(default_factory=list)  # boxes only, for the second look
    erased: int = 0
    faces_off: bool = False


def index_photo_faces(
    store: Store, client, collection: str, bucket: str, photo: RawPhoto, state: StepState
) -> IndexedFaces:
    ids = (photo.org_id, photo.event_id)
    if not store.settings.faces_on(*ids):  # the organiser turned face search off
        return IndexedFaces(faces_off=True)
    faces, others = rekognition.index_faces(
        client, collection, bucket, state["image"]["processedKey"], photo.photo_id
    )
    store.runs.record_faces(*ids, photo.photo_id, state["executionName"], [face.face_id for face in faces])
    found = [face.as_dict() for face in faces]
    boxes = erasure.erased_boxes(store.erasures.of_event(*ids), photo.photo_id, state["photo"]["etag"])
    erased = erasure.faces_where_erased(found, boxes)
    if erased:  # the note above covers a crash before this
        rekognition.delete_faces(client, collection, sorted(erased))
    kept = [face for face in found if face["faceId"] not in erased]
    return IndexedFaces(kept, erasure.others_and_erased_places(others, boxes), len(erased))
