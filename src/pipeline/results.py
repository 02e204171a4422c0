"""A photo's results everywhere: the table items, its faces in the collection, its derived objects.

Every step that ends a photo (SaveResults, RecordRejection/RecordFailure, DeletePhoto) goes through
here, so "the new results replace the old ones completely" is written once. The table is written
first and the side effects outside it follow; the faces about to be deleted are noted under the run
(FACES#{photoId}#{execution}) until they are gone. If a step dies half-way, the photo item is
already right, and the note tells a retry (or the audit) which faces (biometric data) still have to
go: no face is ever left without a record of it.
"""

import datetime
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from pipeline import clients, rekognition
from pipeline.config import get_config
from pipeline.keys import RawPhoto, collection_id, is_same_upload, normalise_etag, started_after
from pipeline.table import PhotoTable, gallery_key

INDEXED, REJECTED, FAILED, SUPERSEDED = "INDEXED", "REJECTED", "FAILED", "SUPERSEDED"


@dataclass(frozen=True)
class Outcome:
    """What one run found out about a photo."""

    status: str
    attributes: dict = field(default_factory=dict)  # image attributes, or the reason
    bibs: list[dict] = field(default_factory=list)  # {"bib", "confidence", "box"}
    faces: list[dict] = field(default_factory=list)  # {"faceId", "confidence", "box"}, this run's


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


class PhotoStore:
    def __init__(self, *, s3, rekognition_client, table: PhotoTable, bucket: str, collection_prefix: str):
        self.s3 = s3
        self.rekognition = rekognition_client
        self.table = table
        self.bucket = bucket
        self.collection_prefix = collection_prefix

    def save(self, photo: RawPhoto, source: dict, execution_name: str, outcome: Outcome) -> str:
        """Replace the photo's results with this run's; returns the status written.

        ``source`` is the state's "photo" (etag, and versionId in a versioned bucket). A run whose
        raw object was deleted or uploaded again meanwhile, or whose result a later event's run of
        the same content has already stored (a retried step, an operator's reprocess), writes
        nothing and removes the faces it indexed (SUPERSEDED): the newer run owns the photo.

        The table is written first; the faces it no longer lists are noted under the run until
        deleted, and the derived objects of a photo that is not indexed go last. A step that dies
        half-way leaves a consistent photo item (never INDEXED without its photo and faces), and
        its retry, or the audit, finds the faces in the note.
        """
        etag = normalise_etag(source["etag"])
        run_faces = {face["faceId"] for face in outcome.faces}
        notes = self.table.run_notes(photo.org_id, photo.event_id, photo.photo_id)
        noted = notes.get(execution_name, set())
        previous = self.table.get_photo(photo.org_id, photo.event_id, photo.photo_id) or {}
        owned = set(previous.get("faceIds", []))
        stale = previous.get("etag") == etag and started_after(
            previous.get("executionName", ""), execution_name
        )
        if stale or not self.is_current(photo, source):
            self._delete_faces(photo, (run_faces | noted) - owned)
            self.table.forget_runs(photo.org_id, photo.event_id, photo.photo_id, [execution_name])
            return SUPERSEDED
        indexed = outcome.status == INDEXED
        kept_faces = run_faces if indexed else set()
        # runs of earlier events still noted: superseded by this one, or dead before their end
        ended = [name for name in notes if name != execution_name and started_after(execution_name, name)]
        # faces of an earlier result, any this run indexed but lost track of (a retried step), and
        # those the ended runs left
        doomed = (owned | run_faces | noted | {face for name in ended for face in notes[name]}) - kept_faces
        self.table.record_run_faces(photo.org_id, photo.event_id, photo.photo_id, execution_name, doomed)
        now = now_iso()
        bibs = outcome.bibs if indexed else []
        item = {
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
            "createdAt": previous.get("createdAt", now),
            "updatedAt": now,
        }
        if indexed:  # only indexed photos are in the gallery (a sparse index)
            item["galleryKey"] = gallery_key(item["createdAt"], photo.photo_id)
        self.table.replace_photo(item, bibs, previous)
        self._delete_faces(photo, doomed)
        if not indexed:
            self._delete_derived(photo)
        self.table.forget_runs(photo.org_id, photo.event_id, photo.photo_id, [execution_name, *ended])
        return outcome.status

    def remove(self, photo: RawPhoto, execution_name: str) -> bool:
        """Remove a deleted upload everywhere; False when the key was uploaded again since.
        Same order as save: the items go first, the faces they listed are noted until deleted."""
        if self._head(photo) is not None:
            return False
        previous = self.table.get_photo(photo.org_id, photo.event_id, photo.photo_id)
        notes = self.table.run_notes(photo.org_id, photo.event_id, photo.photo_id)
        doomed = set((previous or {}).get("faceIds", [])).union(*notes.values())
        self.table.record_run_faces(photo.org_id, photo.event_id, photo.photo_id, execution_name, doomed)
        self.table.delete_photo(photo.org_id, photo.event_id, photo.photo_id, previous)
        self._delete_faces(photo, doomed)
        self._delete_derived(photo)
        self.table.forget_runs(photo.org_id, photo.event_id, photo.photo_id, [*notes, execution_name])
        return True

    def is_current(self, photo: RawPhoto, source: dict) -> bool:
        """Whether the raw object is still the upload this run is for (same ETag, and the same
        version when the state names one)."""
        head = self._head(photo)
        return head is not None and is_same_upload(source, head)

    def _head(self, photo: RawPhoto) -> dict | None:
        """The raw object's HeadObject, or None when it no longer exists."""
        try:
            return self.s3.head_object(Bucket=self.bucket, Key=photo.raw_key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def _delete_faces(self, photo: RawPhoto, face_ids: set[str]) -> None:
        if face_ids:
            collection = collection_id(self.collection_prefix, photo.org_id, photo.event_id)
            rekognition.delete_faces(self.rekognition, collection, sorted(face_ids))

    def _delete_derived(self, photo: RawPhoto) -> None:
        response = self.s3.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": photo.processed_key}, {"Key": photo.thumbnail_key}], "Quiet": True},
        )
        if response.get("Errors"):
            failed = ", ".join(f"{e.get('Key')}: {e.get('Code')}" for e in response["Errors"])
            raise RuntimeError(f"could not delete derived objects ({failed})")


def default_store() -> PhotoStore:
    """The store wired to this function's configuration and clients."""
    config = get_config()
    return PhotoStore(
        s3=clients.s3(),
        rekognition_client=clients.rekognition(),
        table=PhotoTable(clients.dynamodb_table(config.table_name)),
        bucket=config.bucket_name,
        collection_prefix=config.collection_prefix,
    )
