"""A whole-event re-run as a background job: each page of the event's uploads (or of its photos
with one status) becomes messages in the upload queue, which the starter admits at the pace of the
Rekognition governors like any upload (pipeline.processing.pacing). Why the paced queue and not a
Step Functions Distributed Map: one admission path for uploads and re-runs (the same governors, the
same DLQ and alarms, the same 14 days of retention), live uploads and a re-run share the quotas
fairly in arrival order, and nothing new to run on the local stack; a Distributed Map would need its
own rate limit (its MaxConcurrency bounds runs in flight, not calls per second) and bills its child
executions' transitions on top. A page waits while QUEUE_AHEAD messages wait in the upload queue, so
new uploads interleave with a re-run instead of queueing behind all of it.

Job message: {"jobId", "orgId", "eventId", "options": {"fresh", "status"}, "page": n, "enqueued": n,
"cursor": {...} | None}. A page redone after a failure sends the same messages again: the
executions they start have the same names (the job id is their token), so each photo runs once.
"""

import json
from dataclasses import dataclass

from pipeline.events import progress
from pipeline.store import Store

PAGE_SIZE = 500  # uploads per page: 50 SendMessageBatch calls, ~1-2 s of the function's time
# A page waits while this many messages wait in the upload queue: new uploads (of this event or
# another) never queue behind a whole event's re-run, ~5 minutes of it at most at 5 TPS
QUEUE_AHEAD = 1_000
PAUSE_SECONDS = 60
SOURCE = "snaprace.reprocess"


@dataclass(frozen=True)
class Page:
    photos: list[tuple[str, str]]  # (raw key, etag)
    cursor: dict | None  # where the next page starts; None: this was the last


def next_page(s3, store: Store, bucket: str, job: dict) -> Page:
    """The job's next page: its uploads as S3 lists them (every upload, with or without a result:
    a re-run also finds photos that never got one), or its photo items with the wanted status."""
    org_id, event_id, cursor = job["orgId"], job["eventId"], job.get("cursor") or {}
    status = job.get("options", {}).get("status")
    if status:
        items, last = store.photos.page_of_event(org_id, event_id, PAGE_SIZE, cursor.get("key"))
        photos = [(i["rawKey"], i["etag"]) for i in items if i.get("status") == status and i.get("rawKey")]
        return Page(photos, {"key": last} if last else None)
    uploads = progress.uploads_page(s3, bucket, org_id, event_id, job.get("cursor"), PAGE_SIZE)
    return Page(list(uploads.objects.items()), uploads.cursor)


def upload_messages(job: dict, photos: list[tuple[str, str]]) -> list[str]:
    """The upload queue's message bodies for a page (the starter reads them: reprocess_request)."""
    fresh = bool(job.get("options", {}).get("fresh"))
    return [
        json.dumps(
            {"source": SOURCE, "jobId": job["jobId"], "rawKey": raw_key, "etag": etag, "fresh": fresh},
            separators=(",", ":"),
        )
        for raw_key, etag in photos
    ]


def is_reprocess(body: dict) -> bool:
    return body.get("source") == SOURCE
