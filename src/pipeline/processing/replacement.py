"""What replacing a photo's results must do, decided from what the store read (no I/O here).

Every step that ends a photo (SaveResults, RecordRejection/RecordFailure, DeletePhoto) asks for a
plan; pipeline.processing.results carries it out in a fixed order: note the faces to delete under the run,
write the table, delete those faces, delete derived objects, forget the ended runs. The table is
written before anything outside it changes, and the note tells a retry (or the audit) which faces
(biometric data) still have to go if a step dies half-way.
"""

from dataclasses import dataclass, field

from pipeline.common.keys import RawPhoto, normalise_etag, started_after
from pipeline.common.models import INDEXED, SUPERSEDED, BibRead, PhotoItem, PhotoState
from pipeline.store.photos import camera_key, gallery_key
from pipeline.timing.rules import camera_time


@dataclass(frozen=True)
class Outcome:
    """What one run found out about a photo."""

    status: str
    attributes: dict = field(default_factory=dict)  # image attributes, or the reason
    bibs: list[BibRead] = field(default_factory=list)
    faces: list[dict] = field(default_factory=list)  # {"faceId", "confidence", "box"}, this run's


@dataclass(frozen=True)
class Plan:
    status: str
    note_faces: frozenset[str] = frozenset()  # noted under the run before the table is written
    item: PhotoItem | None = None  # the photo item to write (None: nothing in the table changes)
    bibs: list[BibRead] = field(default_factory=list)
    delete_item: bool = False  # a deletion: the photo and its bib items go
    delete_faces: frozenset[str] = frozenset()
    delete_derived: bool = False
    forget_runs: tuple[str, ...] = ()


def plan_save(
    photo: RawPhoto,
    source: PhotoState,
    execution_name: str,
    outcome: Outcome,
    *,
    previous: PhotoItem,
    notes: dict[str, set[str]],
    current: bool,
    now: str,
) -> Plan:
    """Replace the photo's results with this run's.

    `source` is the state's "photo" (etag, versionId); `previous` the photo item ({} when none);
    `notes` the run-faces notes by execution; `current` whether the raw object is still this run's
    upload. A run whose upload was deleted or replaced, or whose result a later event's run of the
    same content has stored already (a retried step, an operator's reprocess), writes nothing and
    removes the faces it indexed: SUPERSEDED, the newer run owns the photo.
    """
    etag = normalise_etag(source["etag"])
    run_faces = {face["faceId"] for face in outcome.faces}
    noted = notes.get(execution_name, set())
    owned = set(previous.get("faceIds", []))
    stale = previous.get("etag") == etag and started_after(previous.get("executionName", ""), execution_name)
    if stale or not current:
        return Plan(
            status=SUPERSEDED,
            delete_faces=frozenset((run_faces | noted) - owned),
            forget_runs=(execution_name,),
        )
    indexed = outcome.status == INDEXED
    kept_faces = run_faces if indexed else set()
    # runs of earlier events still noted: superseded by this one, or dead before their end
    ended = [name for name in notes if name != execution_name and started_after(execution_name, name)]
    # faces of an earlier result, any this run indexed but lost track of (a retried step), and
    # those the ended runs left
    doomed = (owned | run_faces | noted | {face for name in ended for face in notes[name]}) - kept_faces
    bibs = outcome.bibs if indexed else []
    item: PhotoItem = {
        **outcome.attributes,
        "orgId": photo.org_id,
        "eventId": photo.event_id,
        "photoId": photo.photo_id,
        "rawKey": photo.raw_key,
        "etag": etag,
        "status": outcome.status,
        "executionName": execution_name,
        "bibs": [found["bib"] for found in bibs],
        "faceIds": sorted(kept_faces),
        # where each face is: a person's correction ties a bib to a face by it (pipeline.corrections.records)
        "faceBoxes": {face["faceId"]: face["box"] for face in outcome.faces if face["faceId"] in kept_faces},
        "createdAt": previous.get("createdAt", now),
        "updatedAt": now,
    }
    if indexed:  # only indexed photos are in the gallery (a sparse index)
        item["galleryKey"] = gallery_key(item["createdAt"], photo.photo_id)
    # where and when by the camera's clock: a runner's photos by time (pipeline.timing.rules, CameraIndex)
    camera, taken = outcome.attributes.get("photographer") or photo.folder, camera_time(item.get("takenAt"))
    if indexed and camera and taken:
        item.update(
            {
                "camera": camera,
                "cameraKey": camera_key(photo.org_id, photo.event_id, camera),
                "cameraTime": taken,
            }
        )
    return Plan(
        status=outcome.status,
        note_faces=frozenset(doomed),
        item=item,
        bibs=bibs,
        delete_faces=frozenset(doomed),
        delete_derived=not indexed,
        forget_runs=(execution_name, *ended),
    )


def plan_removal(execution_name: str, *, previous: PhotoItem, notes: dict[str, set[str]]) -> Plan:
    """A deleted upload removed everywhere (the caller has checked the key holds nothing new):
    the items first, with the faces they listed and every run's noted faces, then the faces."""
    doomed = set(previous.get("faceIds", [])).union(*notes.values())
    return Plan(
        status="DELETED",
        note_faces=frozenset(doomed),
        delete_item=True,
        delete_faces=frozenset(doomed),
        delete_derived=True,
        forget_runs=(*notes, execution_name),
    )
