"""The operator's runs and queues as functions: status, failures, redrive, reprocess, back up.
Each takes a `Stack` (deployed or local) and returns data; `snaprace.cli` prints it. Erasing
personal data (an event, a runner) is snaprace.retention."""

import json
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError

from pipeline.common import keys
from pipeline.common.errors import cause_message
from pipeline.jobs import queue
from pipeline.processing import uploads
from pipeline.retention import faces as retention
from snaprace import event_model
from snaprace.operations import raw_objects, validate_ids
from snaprace.queues import MoveRefused, move_messages
from snaprace.stack import Stack, StackError

# ---------------------------------------------------------------- status


def queue_depth(stack: Stack, url: str) -> dict:
    attributes = stack.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return {
        "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
        "inFlight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
    }


def recent_executions(stack: Stack, since: timedelta, status: str | None = None):
    """Executions started within `since`, newest first."""
    sfn, cutoff = stack.client("stepfunctions"), datetime.now(UTC) - since
    kwargs = {"stateMachineArn": stack.state_machine_arn, **({"statusFilter": status} if status else {})}
    for page in sfn.get_paginator("list_executions").paginate(**kwargs):
        for execution in page["executions"]:
            if execution["startDate"] < cutoff:
                return
            yield execution


def alarms(stack: Stack) -> list[dict]:
    names = [p for logical, p in stack.physical_ids.items() if logical.endswith("Alarm")]
    if not names:
        return []
    found = stack.client("cloudwatch").describe_alarms(AlarmNames=names)
    return [
        {"name": a["AlarmName"], "state": a["StateValue"]}
        for a in found.get("MetricAlarms", []) + found.get("CompositeAlarms", [])
    ]


def collections(stack: Stack) -> list[dict]:
    """Each event's collection with its face count, and the runners erased from the event."""
    rekognition, prefix = stack.client("rekognition"), stack.collection_prefix + "."
    table = stack.photo_table
    found = []
    for page in rekognition.get_paginator("list_collections").paginate():
        for collection in page["CollectionIds"]:
            if collection.startswith(prefix):
                org, _, event = collection[len(prefix) :].partition(".")
                count = rekognition.describe_collection(CollectionId=collection)["FaceCount"]
                erasures = len(table.erasures.of_event(org, event))
                found.append(
                    {
                        "collection": collection,
                        "org": org,
                        "event": event,
                        "faces": count,
                        "erasures": erasures,
                    }
                )
    return found


def status(stack: Stack) -> dict:
    executions = {"RUNNING": 0, "SUCCEEDED": 0, "FAILED": 0, "TIMED_OUT": 0, "ABORTED": 0}
    for execution in recent_executions(stack, timedelta(hours=1)):
        executions[execution["status"]] = executions.get(execution["status"], 0) + 1
    return {
        "stack": stack.name,
        "queue": queue_depth(stack, stack.output("QueueUrl")),
        "dlq": queue_depth(stack, stack.output("DlqUrl")),
        "executionsLastHour": executions,
        "alarms": alarms(stack),
        "collections": collections(stack),
        "faceRetentionDue": retention.due_within(stack.photo_table, 7, datetime.now(UTC)),
        "jobs": jobs_at_work(stack),
        "jobDlq": queue_depth(stack, stack.output("JobDlqUrl")),
        "resources": {
            "bucket": stack.bucket,
            "table": stack.table_name,
            "queue": stack.output("QueueUrl"),
            "dlq": stack.output("DlqUrl"),
            "stateMachine": stack.state_machine_arn,
            "api": stack.outputs.get("ApiUrl"),
        },
    }


def unhealthy(report: dict) -> list[str]:
    problems = [f"alarm {a['name']} is in ALARM" for a in report["alarms"] if a["state"] == "ALARM"]
    depth = report["dlq"]["visible"] + report["dlq"]["inFlight"]
    if depth:
        problems.append(f"{depth} messages in the DLQ (snaprace redrive moves them back)")
    stuck = report["jobDlq"]["visible"] + report["jobDlq"]["inFlight"]
    if stuck:
        problems.append(f"{stuck} background job pages in the job DLQ: a job stopped (snaprace logs job)")
    return problems


# ---------------------------------------------------------------- failures


def failure_of(stack: Stack, execution_arn: str) -> dict:
    """The photo, the step that failed first, and its error and cause."""
    sfn = stack.client("stepfunctions")
    described = sfn.describe_execution(executionArn=execution_arn)
    photo = json.loads(described.get("input") or "{}").get("photo", {})
    events, token = [], None
    while True:
        page = sfn.get_execution_history(
            executionArn=execution_arn, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    by_id = {event["id"]: event for event in events}
    step, error, cause = None, described.get("error"), described.get("cause")
    for event in sorted(events, key=lambda e: e["id"]):
        details = event.get("lambdaFunctionFailedEventDetails") or event.get("taskFailedEventDetails")
        if details and event["type"] in ("LambdaFunctionFailed", "TaskFailed", "LambdaFunctionTimedOut"):
            error, cause = details.get("error", error), details.get("cause", cause)
            step = _entered_state(by_id, event)
            break
    return {
        "executionArn": execution_arn,
        "startDate": described["startDate"].isoformat(),
        "rawKey": photo.get("rawKey"),
        "photoId": photo.get("photoId"),
        "step": step,
        "error": error,
        "cause": cause_message(cause) or None,
    }


def _entered_state(by_id: dict, event: dict) -> str | None:
    while event is not None:
        if event["type"].endswith("StateEntered"):
            return event["stateEnteredEventDetails"]["name"]
        event = by_id.get(event.get("previousEventId"))
    return None


def failures(stack: Stack, since: timedelta) -> list[dict]:
    return [failure_of(stack, e["executionArn"]) for e in recent_executions(stack, since, "FAILED")]


# ---------------------------------------------------------------- redrive


def redrive(stack: Stack, dry_run: bool = False, on_moved: Callable[[int], None] = lambda n: None) -> int:
    """Move the DLQ's messages back to the upload queue; the number moved (or that would be).

    SQS's message move task where the account allows it; otherwise a receive, send, delete loop
    (a crash in between duplicates a message, never loses one; the pipeline dedupes)."""
    sqs, dlq, queue = stack.client("sqs"), stack.output("DlqUrl"), stack.output("QueueUrl")
    if dry_run:
        return queue_depth(stack, dlq)["visible"]
    arns = [
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for url in (dlq, queue)
    ]
    try:
        return _move_task(sqs, *arns, on_moved)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in (
            "AccessDenied",
            "AccessDeniedException",
            "UnsupportedOperation",
        ):
            raise
    return _move_by_hand(sqs, dlq, queue, on_moved)


def _move_task(sqs, dlq_arn: str, queue_arn: str, on_moved: Callable[[int], None]) -> int:
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=queue_arn)["TaskHandle"]
    reported = 0
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
        task = next((t for t in tasks if t.get("TaskHandle") == handle), tasks[0] if tasks else {})
        moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        if moved > reported:
            on_moved(moved - reported)
            reported = moved
        if task.get("Status") in ("COMPLETED", "CANCELLED", "FAILED"):
            if task["Status"] != "COMPLETED":
                raise StackError(f"the DLQ move task ended {task['Status']}: {task.get('FailureReason', '')}")
            return moved
        time.sleep(2)


def _move_by_hand(sqs, dlq: str, queue: str, on_moved: Callable[[int], None]) -> int:
    try:
        return move_messages(sqs, dlq, queue, on_moved)
    except MoveRefused as exc:
        raise StackError(f"the upload queue refused messages; they stay in the DLQ ({exc})") from None


# ---------------------------------------------------------------- reprocess


def reprocess_plan(stack: Stack, org_id: str, event_id: str, photo_id: str | None, status: str | None):
    """(raw key, etag) of the raw photos to run again."""
    validate_ids(org_id, event_id)
    objects = raw_objects(stack, org_id, event_id)
    if status is not None:
        items = stack.photo_table.photos.of_event(org_id, event_id)
        wanted = {i["rawKey"] for i in items if i.get("status") == status}
        return [(k, e) for k, e in sorted(objects.items()) if k in wanted]
    if photo_id is not None:
        return [(k, e) for k, e in sorted(objects.items()) if keys.photo_id_for(k) == photo_id]
    return sorted(objects.items())


def reprocess_preview(stack: Stack, org_id: str, event_id: str, plan, fresh: bool) -> dict:
    """What a re-run of `plan` costs before it starts: photos whose answers were kept make no
    first-look call (pipeline.processing.faces, DetectText's text read); the second look calls
    DetectText for at most SECOND_LOOK_SHARE of the photos (RBNR's share)."""
    items = {item.get("rawKey"): item for item in stack.photo_table.photos.of_event(org_id, event_id)}
    kept = 0
    if not fresh:
        kept = sum(
            1
            for raw_key, etag in plan
            if items.get(raw_key, {}).get("facesIndexed") and items[raw_key].get("etag") == etag
        )
    first_look = 2 * (len(plan) - kept)
    second_look = math.ceil(event_model.SECOND_LOOK_SHARE * len(plan))
    return {
        "photos": len(plan),
        "answersKept": kept,
        "firstLookCalls": first_look,
        "secondLookCallsAtMost": second_look,
        "usdAtMost": round((first_look + second_look) * event_model.REKOGNITION_USD_PER_IMAGE, 2),
    }


def start_reprocess_job(stack: Stack, org_id: str, event_id: str, status: str | None, fresh: bool) -> str:
    """The re-run as a job in the stack (pipeline.jobs.reprocess): its id."""
    validate_ids(org_id, event_id)
    start_job = queue.starter(stack.photo_table, stack.client("sqs"), stack.output("JobQueueUrl"))
    return start_job(org_id, event_id, "reprocess", {"fresh": fresh, "status": status})


def reprocess_progress(stack: Stack, org_id: str, event_id: str) -> dict | None:
    """The event's latest re-run: how many photos it queued and the starter admitted, and what
    still waits in the upload queue (uploads too); None when the event has had none."""
    validate_ids(org_id, event_id)
    jobs = [
        job for job in stack.photo_table.jobs.of_event(org_id, event_id) if job.get("kind") == "reprocess"
    ]
    if not jobs:
        return None
    job = jobs[-1]
    waiting = queue_depth(stack, stack.output("QueueUrl"))
    stuck = queue_depth(stack, stack.output("JobDlqUrl"))
    return {
        "jobId": job["jobId"],
        "state": "stopped" if stuck["visible"] and job["state"] == "running" else job["state"],
        "options": job.get("options", {}),
        "pagesDone": job.get("pages", 0),
        "enqueued": job.get("enqueued", 0),
        "started": job.get("started", 0),
        "uploadQueue": waiting["visible"] + waiting["inFlight"],
        "startedAt": job.get("startedAt"),
        "updatedAt": job.get("updatedAt"),
    }


def wait_for_rerun(stack: Stack, org_id: str, event_id: str, job_id: str, timeout: float) -> dict:
    """Until the job has queued every page and the starter has taken every photo from the upload
    queue (started, or refused as no photo); the job item then. Watching only: the job runs in
    the stack whether or not anyone waits."""
    deadline = time.monotonic() + timeout
    while True:
        job = stack.photo_table.jobs.get(org_id, event_id, job_id) or {}
        if job.get("state") == "enqueued":
            waiting = queue_depth(stack, stack.output("QueueUrl"))
            if (
                job.get("started", 0) >= job.get("enqueued", 0)
                or not waiting["visible"] + waiting["inFlight"]
            ):
                return job
        if time.monotonic() > deadline:
            raise StackError(f"re-run {job_id} not admitted after {timeout:.0f} s: `reprocess --progress`")
        time.sleep(1.0)


def wait_for_job(stack: Stack, org_id: str, event_id: str, job_id: str, timeout: float) -> dict:
    """Until a face scrub (pipeline.jobs.scrub) is done; the job item then. Watching only."""
    deadline = time.monotonic() + timeout
    while True:
        job = stack.photo_table.jobs.get(org_id, event_id, job_id) or {}
        if job.get("state") == "done":
            return job
        if time.monotonic() > deadline:
            raise StackError(
                f"job {job_id} not done after {timeout:.0f} s ({job.get('changed', 0)} items so far): "
                "`snaprace status` shows it"
            )
        time.sleep(1.0)


def wait_for_purge(
    stack: Stack,
    org_id: str,
    event_id: str,
    job_id: str,
    timeout: float,
    on_progress: Callable[[int], None] = lambda n: None,
) -> None:
    """Until an event purge (pipeline.jobs.purge) is done: its last page deletes the job's own
    item; then nothing of the event may be left. `on_progress(n)`: n more objects and items
    deleted. Watching only; a purge whose pages stopped moving is reported at once."""
    from snaprace import retention

    deadline, reported = time.monotonic() + timeout, 0
    while (job := stack.photo_table.jobs.get(org_id, event_id, job_id)) is not None:
        deleted = job.get("objectsDeleted", 0) + job.get("itemsDeleted", 0)
        if deleted > reported:
            on_progress(deleted - reported)
            reported = deleted
        if retention.purge_stalled(job):
            raise StackError(
                f"purge {job_id} stopped ({reported} objects and items deleted; its pages are in the job "
                "DLQ: `snaprace logs job`); `purge-event --yes` again finishes it"
            )
        if time.monotonic() > deadline:
            raise StackError(
                f"purge {job_id} not done after {timeout:.0f} s ({reported} objects and items deleted): "
                "`snaprace status` shows it"
            )
        time.sleep(1.0)
    left = retention.purge_plan(stack, org_id, event_id)
    if not left.empty:
        raise StackError(
            f"purge {job_id} finished but {org_id}/{event_id} has {left.summary()} again (uploads or "
            "another purge meanwhile): run `purge-event --yes` again"
        )


def jobs_at_work(stack: Stack) -> list[dict]:
    """Every re-run, face scrub and purge still running, of every event in the registry (a query per
    event: their number, not their photos); `stopped` when its item has not moved for an hour (its
    pages went to the job DLQ; the daily sweep starts a stopped scrub again, `purge-event --yes` a
    stopped purge)."""
    shown = (
        "orgId", "eventId", "jobId", "kind", "pages", "changed", "enqueued", "objectsDeleted", "itemsDeleted",
        "updatedAt",
    )  # fmt: skip
    found = []
    for event in stack.photo_table.registry.events():
        for job in stack.photo_table.jobs.of_event(event["orgId"], event["eventId"]):
            if job.get("state") != "running" or job.get("kind") == "count":  # counts: the organiser's page
                continue
            moved = datetime.fromisoformat(job.get("updatedAt") or job["startedAt"])
            found.append(
                {name: job[name] for name in shown if job.get(name) is not None}
                | {"stopped": (datetime.now(UTC) - moved).total_seconds() > 3600}
            )
    return found


def reprocess_photo(stack: Stack, raw_key: str, etag: str, fresh: bool) -> int:
    """One photo, started here (an operator's fix for one photo): 1 when it started."""
    photo = keys.parse_raw_key(raw_key)
    token = keys.job_id(time.time_ns() // 1000)
    request = uploads.processing_request(photo, stack.bucket, etag, token, fresh=fresh)
    return int(uploads.start_execution(stack.client("stepfunctions"), stack.state_machine_arn, request))


# ---------------------------------------------------------------- backup


def backup(stack: Stack) -> dict:
    name = f"{stack.table_name}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    details = stack.client("dynamodb").create_backup(TableName=stack.table_name, BackupName=name)[
        "BackupDetails"
    ]
    return {"name": details["BackupName"], "arn": details["BackupArn"], "status": details["BackupStatus"]}
