"""Starting a background job: its item first (so its progress is there to read), then the message
for its first page in the job queue (JobFunction runs it, handlers/run_job.py)."""

import datetime
import json
import time
from collections.abc import Callable

from pipeline.common import keys
from pipeline.store import Store


def start(
    store: Store,
    sqs,
    queue_url: str,
    org_id: str,
    event_id: str,
    kind: str,
    options: dict,
    now: str,
    job_id: str | None = None,
) -> str | None:
    """The job's id (it sorts by start: the event's latest job is the last); None when a job with
    the `job_id` given was started already (the message is sent once)."""
    job_id = job_id or keys.job_id(time.time_ns() // 1000)
    if store.jobs.start(org_id, event_id, job_id, kind, options, now) is None:
        return None
    first = {
        "jobId": job_id,
        "orgId": org_id,
        "eventId": event_id,
        "kind": kind,
        "options": options,
        "page": 0,
    }
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(first))
    return job_id


def starter(store: Store, sqs, queue_url: str) -> Callable[[str, str, str, dict], str]:
    """start(), bound to a stack's table and job queue: start_job(org_id, event_id, kind, options)."""

    def start_job(org_id: str, event_id: str, kind: str, options: dict) -> str:
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        return start(store, sqs, queue_url, org_id, event_id, kind, options, now) or ""

    return start_job
