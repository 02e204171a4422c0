"""The deployment guide's runbook as functions: status, failures, redrive, reprocess, purge an
event, erase one runner, back up. Each takes a `Stack` (deployed or local) and returns data;
`snaprace.cli` prints it and asks for confirmation where something is deleted."""

import json
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError

from pipeline import erasure, keys, pacing, uploads
from pipeline.bibs import normalise_bib
from pipeline.errors import InvalidImage, cause_message
from pipeline.rekognition import delete_faces, listed_faces, search_faces, search_faces_by_image
from pipeline.search import LINKED_FACE_THRESHOLD, SELFIE_THRESHOLD, BadRequest, check_selfie, selfie_problem
from snaprace.operations import raw_objects, validate_ids
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
                erasures = len(table.erasures(org, event))
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
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return moved
        sent = sqs.send_message_batch(
            QueueUrl=queue,
            Entries=[
                {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": m.get("MessageAttributes", {})}
                for i, m in enumerate(messages)
            ],
        )
        done = [messages[int(ok["Id"])] for ok in sent.get("Successful", [])]
        if done:
            sqs.delete_message_batch(
                QueueUrl=dlq,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        moved += len(done)
        on_moved(len(done))
        if sent.get("Failed"):
            raise StackError(f"the upload queue refused {len(sent['Failed'])} messages; they stay in the DLQ")


# ---------------------------------------------------------------- reprocess


def reprocess_plan(stack: Stack, org_id: str, event_id: str, photo_id: str | None, status: str | None):
    """(raw key, etag) of the raw photos to run again."""
    validate_ids(org_id, event_id)
    objects = raw_objects(stack, org_id, event_id)
    if status is not None:
        items = stack.photo_table.event_photos(org_id, event_id)
        wanted = {i["rawKey"] for i in items if i.get("status") == status}
        return [(k, e) for k, e in sorted(objects.items()) if k in wanted]
    if photo_id is not None:
        return [(k, e) for k, e in sorted(objects.items()) if keys.photo_id_for(k) == photo_id]
    return sorted(objects.items())


def reprocess(stack: Stack, plan, rate: float, on_started: Callable[[str], None] = lambda key: None) -> int:
    """Start one execution per photo, at most `rate` per second (the Rekognition quota's share)."""
    sfn, token = stack.client("stepfunctions"), f"R{time.time_ns() // 1000:019d}"
    pacer = pacing.Pacer(1.0 / rate, offset=0.0)
    started = 0
    for raw_key, etag in plan:
        try:
            photo = keys.parse_raw_key(raw_key)
        except keys.InvalidKey:
            continue
        pacer.wait(budget=float("inf"))
        request = uploads.processing_request(photo, stack.bucket, etag, token)
        started += uploads.start_execution(sfn, stack.state_machine_arn, request)
        on_started(raw_key)
    return started


# ---------------------------------------------------------------- erasure


@dataclass
class PurgePlan:
    collection: str
    objects: list[tuple[str, str]] = field(default_factory=list)  # (key, version id), every version
    items: list[dict] = field(default_factory=list)  # table keys
    collection_exists: bool = False
    faces: int = 0

    def summary(self) -> dict:
        return {
            "objectVersions": len(self.objects),
            "tableItems": len(self.items),
            "collection": self.collection if self.collection_exists else None,
            "faces": self.faces,
        }

    @property
    def empty(self) -> bool:
        return not (self.objects or self.items or self.collection_exists)


def purge_plan(stack: Stack, org_id: str, event_id: str) -> PurgePlan:
    validate_ids(org_id, event_id)
    plan = PurgePlan(collection=keys.collection_id(stack.collection_prefix, org_id, event_id))
    s3 = stack.client("s3")
    for prefix in (f"{org_id}/{event_id}/", f"raw/{org_id}/{event_id}/"):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=stack.bucket, Prefix=prefix):
            for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
                plan.objects.append((version["Key"], version["VersionId"]))
    table = stack.photo_table
    plan.items = [{"PK": i["PK"], "SK": i["SK"]} for i in table.event_items(org_id, event_id)]
    try:
        plan.faces = stack.client("rekognition").describe_collection(CollectionId=plan.collection)[
            "FaceCount"
        ]
        plan.collection_exists = True
    except stack.client("rekognition").exceptions.ResourceNotFoundException:
        pass
    return plan


def purge(stack: Stack, plan: PurgePlan, on_progress: Callable[[int], None] = lambda n: None) -> None:
    """Delete every object version, table item and the collection. Safe to run again."""
    s3 = stack.client("s3")
    for start in range(0, len(plan.objects), 1000):
        chunk = plan.objects[start : start + 1000]
        s3.delete_objects(
            Bucket=stack.bucket,
            Delete={"Objects": [{"Key": k, "VersionId": v} for k, v in chunk], "Quiet": True},
        )
        on_progress(len(chunk))
    stack.photo_table.delete_items(plan.items)
    on_progress(len(plan.items))
    rekognition = stack.client("rekognition")
    with suppress(rekognition.exceptions.ResourceNotFoundException):  # already gone: run twice
        rekognition.delete_collection(CollectionId=plan.collection)


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
            for item in stack.photo_table.photos_with_bib(org_id, event_id, normalise_bib(bib)):
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
    """Record the erasure (so every later run honours it, pipeline.erasure), then delete the
    runner's faces from the collection and every reference to them in the table."""
    if not plan.face_ids:
        return
    rekognition_client, table = stack.client("rekognition"), stack.photo_table
    collection = keys.collection_id(stack.collection_prefix, org_id, event_id)
    photos = table.get_photos(org_id, event_id, plan.photo_ids)
    faces_on: dict[str, list[dict]] = {}
    for photo_id, box in listed_faces(rekognition_client, collection, sorted(plan.face_ids)).values():
        if photo_id in photos:
            faces_on.setdefault(photo_id, []).append(box)
    erased = {
        photo_id: erasure.ErasedPhoto(photos[photo_id].get("etag", ""), tuple(found))
        for photo_id, found in faces_on.items()
    }
    now = datetime.now(UTC)
    table.put_erasure(
        org_id,
        event_id,
        now.isoformat(timespec="seconds"),
        uuid.uuid4().hex[:12],
        erasure.record([plan.bib] if plan.bib else [], erased),
    )
    delete_faces(rekognition_client, collection, sorted(plan.face_ids))
    table.forget_faces(org_id, event_id, plan.face_ids)


# ---------------------------------------------------------------- backup


def backup(stack: Stack) -> dict:
    name = f"{stack.table_name}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    details = stack.client("dynamodb").create_backup(TableName=stack.table_name, BackupName=name)[
        "BackupDetails"
    ]
    return {"name": details["BackupName"], "arn": details["BackupArn"], "status": details["BackupStatus"]}
