"""Erasing personal data: an organiser's whole event (every object version, table item and the
collection) and one runner (their faces and links, recorded so every later run honours it,
pipeline.retention.erasure). Each plan says what would go before anything is deleted; `snaprace.cli` asks for
confirmation."""

import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from pipeline.common import keys
from pipeline.common.errors import BadRequest, InvalidImage
from pipeline.common.rekognition import delete_faces, listed_faces, search_faces, search_faces_by_image
from pipeline.jobs import purge, queue
from pipeline.processing.bibs import normalise_bib
from pipeline.processing.links import LINKED_FACE_THRESHOLD
from pipeline.retention import erasure
from pipeline.search.selfie import SELFIE_THRESHOLD, check_selfie, selfie_problem
from snaprace.operations import validate_ids
from snaprace.stack import Stack, StackError

PURGE_STALLED_S = 900.0


@dataclass
class PurgePlan:
    """What an event purge would delete, counted (pipeline.jobs.purge deletes it in the background)."""

    collection: str
    event: tuple[str, str] = ("", "")  # (org id, event id)
    object_versions: int = 0  # every version and delete marker, both layouts
    table_items: int = 0
    collection_exists: bool = False
    faces: int = 0

    def summary(self) -> dict:
        return {
            "objectVersions": self.object_versions,
            "tableItems": self.table_items,
            "collection": self.collection if self.collection_exists else None,
            "faces": self.faces,
        }

    @property
    def empty(self) -> bool:
        return not (self.object_versions or self.table_items or self.collection_exists)


def purge_plan(stack: Stack, org_id: str, event_id: str) -> PurgePlan:
    """Counted, not kept: a listing of the event's object versions (1,000 a page) and a count of its
    items (DynamoDB's Select COUNT: no item comes back). At 150,000 photos ~450 listing pages and
    ~1,400 Query pages: about a minute and a half of requests, within a command's limit."""
    validate_ids(org_id, event_id)
    plan = PurgePlan(keys.collection_id(stack.collection_prefix, org_id, event_id), (org_id, event_id))
    s3 = stack.client("s3")
    for prefix in keys.event_prefixes(org_id, event_id):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=stack.bucket, Prefix=prefix):
            plan.object_versions += len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
    plan.table_items = stack.photo_table.core.count_event_items(org_id, event_id)
    try:
        plan.faces = stack.client("rekognition").describe_collection(CollectionId=plan.collection)[
            "FaceCount"
        ]
        plan.collection_exists = True
    except stack.client("rekognition").exceptions.ResourceNotFoundException:
        pass
    return plan


def start_purge(stack: Stack, plan: PurgePlan) -> str:
    """Delete the collection first (the face data: a purge that stops half-way leaves none), then
    start the job that deletes every object version and table item and the event's registry item
    (pipeline.jobs.purge); its id. A purge of the event at work already (its item moved within
    PURGE_STALLED_S) is the one to wait for; one that stopped is finished by a new job, which
    finds what it left."""
    rekognition = stack.client("rekognition")
    with suppress(rekognition.exceptions.ResourceNotFoundException):  # already gone: run twice
        rekognition.delete_collection(CollectionId=plan.collection)
    running = stack.photo_table.jobs.latest(*plan.event, purge.KIND)
    if running is not None and not purge_stalled(running):
        return running["jobId"]
    start_job = queue.starter(stack.photo_table, stack.client("sqs"), stack.output("JobQueueUrl"))
    return start_job(*plan.event, purge.KIND, {})


def purge_stalled(job: dict, now: datetime | None = None) -> bool:
    """No page of the purge for PURGE_STALLED_S: its pages went to the job DLQ (a failed page
    comes back within the job queue's visibility timeout, 6 minutes)."""
    moved = datetime.fromisoformat(job.get("updatedAt") or job["startedAt"])
    return ((now or datetime.now(UTC)) - moved).total_seconds() > PURGE_STALLED_S


@dataclass
class RunnerPlan:
    face_ids: set[str]
    photo_ids: set[str]
    bib: str | None = None  # the bib the erasure was asked for


def runner_plan(
    stack: Stack, org_id: str, event_id: str, bib: str | None, selfie: bytes | None
) -> RunnerPlan:
    """Every face of one runner in the event: the faces linked to their bib and the faces that
    match those (or the selfie), at the thresholds the search uses."""
    validate_ids(org_id, event_id)
    rekognition = stack.client("rekognition")
    collection = keys.collection_id(stack.collection_prefix, org_id, event_id)
    faces: dict[str, str] = {}  # face id -> photo id
    try:
        if selfie is not None:
            check_selfie(selfie)
            response = search_faces_by_image(rekognition, collection, selfie, SELFIE_THRESHOLD)
            faces.update(
                {m["Face"]["FaceId"]: m["Face"].get("ExternalImageId") for m in response["FaceMatches"]}
            )
        else:
            for item in stack.photo_table.bibs.photos_with(org_id, event_id, normalise_bib(bib)):
                if item.get("faceId"):
                    faces[item["faceId"]] = item["photoId"]
            for face_id in list(faces):
                response = search_faces(rekognition, collection, face_id, LINKED_FACE_THRESHOLD)
                faces.update(
                    {m["Face"]["FaceId"]: m["Face"].get("ExternalImageId") for m in response["FaceMatches"]}
                )
    except BadRequest as exc:
        raise StackError(str(exc)) from None
    except InvalidImage as exc:
        raise StackError(selfie_problem(str(exc))) from None
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    return RunnerPlan(set(faces), {p for p in faces.values() if p}, normalise_bib(bib) if bib else None)


def delete_runner(stack: Stack, org_id: str, event_id: str, plan: RunnerPlan) -> None:
    """Record the erasure (so every later run honours it, pipeline.retention.erasure), then delete the
    runner's faces from the collection and every reference to them in the table."""
    if not plan.face_ids:
        return
    rekognition_client, table = stack.client("rekognition"), stack.photo_table
    collection = keys.collection_id(stack.collection_prefix, org_id, event_id)
    photos = table.photos.get_many(org_id, event_id, plan.photo_ids, consistent=True)
    faces_on: dict[str, list[dict]] = {}
    for photo_id, box in listed_faces(rekognition_client, collection, sorted(plan.face_ids)).values():
        if photo_id in photos:
            faces_on.setdefault(photo_id, []).append(box)
    erased = {
        photo_id: erasure.ErasedPhoto(photos[photo_id].get("etag", ""), tuple(found))
        for photo_id, found in faces_on.items()
    }
    now = datetime.now(UTC)
    table.erasures.put(
        org_id,
        event_id,
        now.isoformat(timespec="seconds"),
        uuid.uuid4().hex[:12],
        erasure.record([plan.bib] if plan.bib else [], erased),
    )
    table.faces.forget_matches(org_id, event_id)  # no bib search answers from them meanwhile
    delete_faces(rekognition_client, collection, sorted(plan.face_ids))
    table.faces.forget_on(org_id, event_id, plan.face_ids, photos)
