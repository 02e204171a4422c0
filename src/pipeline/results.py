"""A photo's results everywhere: the table items, its faces in the collection, its derived objects.

Every step that ends a photo (SaveResults, RecordRejection/RecordFailure, DeletePhoto) goes through
here, so "the new results replace the old ones completely" is written once. Side effects outside
the table come first and the table write last: if a step dies half-way, the old photo item still
lists the faces a retry must delete, so no face (biometric data) is ever left without an owner.
"""

import datetime
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from pipeline import clients, rekognition
from pipeline.config import get_config
from pipeline.keys import RawPhoto, collection_id, normalise_etag, started_after
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

    def save(self, photo: RawPhoto, etag: str, execution_name: str, outcome: Outcome) -> str:
        """Replace the photo's results with this run's; returns the status written.

        A run whose raw object was deleted or replaced meanwhile, or whose result a later event's
        run of the same content has already stored (duplicate events, a retried step), writes
        nothing and removes the faces it indexed (SUPERSEDED): the newer run owns the photo.
        """
        run_faces = {face["faceId"] for face in outcome.faces}
        noted, noted_keys = self.table.run_faces(photo.org_id, photo.event_id, photo.photo_id, execution_name)
        if self.current_etag(photo) != normalise_etag(etag):
            self._delete_faces(photo, run_faces | noted)
            self.table.delete_items(noted_keys)
            return SUPERSEDED
        previous = self.table.get_photo(photo.org_id, photo.event_id, photo.photo_id) or {}
        if previous.get("etag") == normalise_etag(etag) and started_after(
            previous.get("executionName", ""), execution_name
        ):  # a later event's run of this same content stored its result first; this run is stale
            self._delete_faces(photo, (run_faces | noted) - set(previous.get("faceIds", [])))
            self.table.delete_items(noted_keys)
            return SUPERSEDED
        indexed = outcome.status == INDEXED
        kept_faces = run_faces if indexed else set()
        # faces of an earlier result, and any this run indexed but lost track of (a retried step)
        self._delete_faces(photo, (set(previous.get("faceIds", [])) | run_faces | noted) - kept_faces)
        if not indexed:
            self._delete_derived(photo)
        now = now_iso()
        bibs = outcome.bibs if indexed else []
        item = {
            **outcome.attributes,
            "orgId": photo.org_id,
            "eventId": photo.event_id,
            "photoId": photo.photo_id,
            "rawKey": photo.raw_key,
            "etag": normalise_etag(etag),
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
        self.table.delete_items(noted_keys)
        return outcome.status

    def remove(self, photo: RawPhoto) -> bool:
        """Remove a deleted upload everywhere; False when the key was uploaded again since."""
        if self.current_etag(photo) is not None:
            return False
        previous = self.table.get_photo(photo.org_id, photo.event_id, photo.photo_id)
        noted, noted_keys = self.table.run_faces(photo.org_id, photo.event_id, photo.photo_id)
        self._delete_faces(photo, set((previous or {}).get("faceIds", [])) | noted)
        self._delete_derived(photo)
        self.table.delete_photo(photo.org_id, photo.event_id, photo.photo_id, previous)
        self.table.delete_items(noted_keys)
        return True

    def current_etag(self, photo: RawPhoto) -> str | None:
        """The raw object's ETag now, or None when it no longer exists."""
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=photo.raw_key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return normalise_etag(head.get("ETag"))

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
