"""A photo's results everywhere: the table items, its faces in the collection, its derived objects.

Every step that ends a photo (SaveResults, RecordRejection/RecordFailure, DeletePhoto) goes through
here, so "the new results replace the old ones completely" is written once. The table is written
first and the side effects outside it follow; the faces about to be deleted are noted under the run
(FACES#{photoId}#{execution}) until they are gone. If a step dies half-way, the photo item is
already right, and the note tells a retry (or the audit) which faces (biometric data) still have to
go: no face is ever left without a record of it.
"""

import datetime

from botocore.exceptions import ClientError

from pipeline.common import clients, rekognition
from pipeline.common.config import get_config
from pipeline.common.keys import RawPhoto, collection_id, is_missing_object, is_same_upload
from pipeline.common.models import FAILED, INDEXED, REJECTED, SUPERSEDED, PhotoItem, PhotoState
from pipeline.processing.replacement import Outcome, Plan, plan_removal, plan_save
from pipeline.store import Store

__all__ = ["FAILED", "INDEXED", "REJECTED", "SUPERSEDED", "Outcome", "PhotoStore", "default_store"]


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


class PhotoStore:
    """Reads what the replacement plan needs (replacement), then carries it out in order."""

    def __init__(self, *, s3, rekognition_client, table: Store, bucket: str, collection_prefix: str):
        self.s3 = s3
        self.rekognition = rekognition_client
        self.table = table
        self.bucket = bucket
        self.collection_prefix = collection_prefix

    def save(
        self,
        photo: RawPhoto,
        source: PhotoState,
        execution_name: str,
        outcome: Outcome,
        now: str | None = None,
    ) -> str:
        """Replace the photo's results with this run's (plan_save says how); returns the status."""
        current = self.is_current(photo, source)
        previous: PhotoItem = self.table.photos.get(photo.org_id, photo.event_id, photo.photo_id) or {}
        notes = self.table.runs.of_photo(photo.org_id, photo.event_id, photo.photo_id)
        plan = plan_save(
            photo,
            source,
            execution_name,
            outcome,
            previous=previous,
            notes=notes,
            current=current,
            now=now or now_iso(),
        )
        self._carry_out(photo, execution_name, plan, previous)
        return plan.status

    def remove(self, photo: RawPhoto, execution_name: str) -> bool:
        """Remove a deleted upload everywhere; False when the key was uploaded again since."""
        if self._head(photo) is not None:
            return False
        previous: PhotoItem = self.table.photos.get(photo.org_id, photo.event_id, photo.photo_id) or {}
        notes = self.table.runs.of_photo(photo.org_id, photo.event_id, photo.photo_id)
        self._carry_out(
            photo, execution_name, plan_removal(execution_name, previous=previous, notes=notes), previous
        )
        return True

    def _carry_out(self, photo: RawPhoto, execution_name: str, plan: Plan, previous: PhotoItem) -> None:
        """The plan, in the order that keeps a step that dies half-way safe: the note, the table,
        the faces, the derived objects, and last the notes of the runs that ended."""
        ids = (photo.org_id, photo.event_id, photo.photo_id)
        if plan.note_faces:
            self.table.runs.record_faces(*ids, execution_name, plan.note_faces)
        if plan.item is not None:
            self.table.photos.replace(plan.item, plan.bibs, previous)
        if plan.delete_item:
            self.table.photos.delete(*ids, previous)
        if plan.delete_faces:
            collection = collection_id(self.collection_prefix, photo.org_id, photo.event_id)
            rekognition.delete_faces(self.rekognition, collection, sorted(set(plan.delete_faces)))
        if plan.delete_derived:
            derived = [{"Key": photo.processed_key}, {"Key": photo.thumbnail_key}]
            response = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": derived, "Quiet": True})
            if response.get("Errors"):
                failed = ", ".join(f"{e.get('Key')}: {e.get('Code')}" for e in response["Errors"])
                raise RuntimeError(f"could not delete derived objects ({failed})")
        self.table.runs.forget(*ids, list(plan.forget_runs))

    def is_current(self, photo: RawPhoto, source: PhotoState) -> bool:
        """Whether the raw object is still the upload this run is for (same ETag, and the same
        version when the state names one)."""
        head = self._head(photo)
        return head is not None and is_same_upload(source, head)

    def _head(self, photo: RawPhoto) -> dict | None:
        """The raw object's HeadObject, or None when it no longer exists."""
        try:
            return self.s3.head_object(Bucket=self.bucket, Key=photo.raw_key)
        except ClientError as exc:
            if is_missing_object(exc):
                return None
            raise


def default_store(table: Store | None = None) -> PhotoStore:
    """The store wired to this function's configuration and clients."""
    config = get_config()
    return PhotoStore(
        s3=clients.s3(),
        rekognition_client=clients.rekognition(),
        table=table or Store(clients.dynamodb_table(config.table_name)),
        bucket=config.bucket_name,
        collection_prefix=config.collection_prefix,
    )
