"""What IndexFaces does: the photo's faces into the event's collection (ExternalImageId = photoId),
noted under the run before anything uses them (pipeline.store.runs), and a runner erased from this
photo's content stays erased (pipeline.retention.erasure): a face indexed where an erased one was
is deleted at once. Nothing is indexed while the organiser has face search off.

A run of content whose faces are indexed already (the photo item's facesIndexed, same etag) uses
them again without calling IndexFaces (a re-run after a change of bib settings), unless the run is
"fresh"; erasures since are applied to them as to new ones. Every path that deletes a photo's
faces clears facesIndexed (pipeline.store.faces), so a re-run after faces off and on indexes again."""

from dataclasses import dataclass, field

from pipeline.common import rekognition
from pipeline.common.geometry import as_floats
from pipeline.common.keys import RawPhoto, normalise_etag
from pipeline.common.models import INDEXED, StepState
from pipeline.retention import erasure
from pipeline.store import Store


@dataclass(frozen=True)
class IndexedFaces:
    faces: list[dict] = field(default_factory=list)  # {"faceId", "box", ...}: searchable from now on
    others: list[dict] = field(default_factory=list)  # boxes only, for the second look
    erased: int = 0
    faces_off: bool = False
    reused: bool = False


def index_photo_faces(
    store: Store, client, collection: str, bucket: str, photo: RawPhoto, state: StepState
) -> IndexedFaces:
    ids = (photo.org_id, photo.event_id)
    if not store.settings.faces_on(*ids):  # the organiser turned face search off
        return IndexedFaces(faces_off=True)
    reused = None if state.get("fresh") else indexed_before(store, photo, state)
    if reused is None:
        faces, others = rekognition.index_faces(
            client, collection, bucket, state["image"]["processedKey"], photo.photo_id
        )
        store.runs.record_faces(
            *ids, photo.photo_id, state["executionName"], [face.face_id for face in faces]
        )
        found = [face.as_dict() for face in faces]
    else:
        found, others = reused
    boxes = erasure.erased_boxes(store.erasures.of_event(*ids), photo.photo_id, state["photo"]["etag"])
    erased = erasure.faces_where_erased(found, boxes)
    if erased:  # the note above covers a crash before this
        rekognition.delete_faces(client, collection, sorted(erased))
    kept = [face for face in found if face["faceId"] not in erased]
    others_now = erasure.others_and_erased_places(others, boxes)
    return IndexedFaces(kept, others_now, len(erased), reused=reused is not None)


def indexed_before(store: Store, photo: RawPhoto, state: StepState) -> tuple[list[dict], list[dict]] | None:
    """(faces, other faces' boxes) an earlier run of this very content indexed, or None."""
    previous = store.photos.get(photo.org_id, photo.event_id, photo.photo_id) or {}
    if not (
        previous.get("facesIndexed")
        and previous.get("status") == INDEXED
        and previous.get("etag") == normalise_etag(state["photo"]["etag"])
    ):
        return None
    boxes = previous.get("faceBoxes") or {}
    faces = [
        {"faceId": face, "box": as_floats(boxes[face])}
        for face in previous.get("faceIds", [])
        if face in boxes
    ]
    return faces, [{"box": as_floats(box)} for box in previous.get("otherFaceBoxes", [])]
