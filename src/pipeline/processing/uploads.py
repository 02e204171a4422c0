"""What an S3 event from the upload queue means: which execution to start, with which input.

The execution input is the whole state the steps share; it stays small (ids and keys only):
    {"action": "process" | "reject" | "delete", "executionName": ...,
     "photo": {"bucket", "rawKey", "etag", "versionId"?, "orgId", "eventId", "photoId"}, "reason": ...,
     "turns": {"DetectText": epoch seconds, "IndexFaces": ...}, "fresh": false}
"turns" ("process" only): the first Rekognition calls' turns the starter booked
(pipeline.processing.pacing); {} when none were booked. "fresh" ("process" only): call DetectText
and IndexFaces even where an earlier run of this content kept their answers (`reprocess --fresh`).
"versionId" (versioned bucket) makes a run of an earlier upload of the key superseded even when a
later upload has the same content.
"reject" is an upload in a raw path whose type we do not accept: it is recorded as REJECTED,
never dropped silently.
"""

import datetime
import json
from dataclasses import dataclass

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from pipeline.common import keys
from pipeline.common.errors import InvalidKey

CREATED, DELETED = "Object Created", "Object Deleted"


class UnexpectedEvent(ValueError):
    """A message the upload rule should never deliver; it is retried, then lands in the DLQ."""


class UploadNotFound(InvalidKey):
    """An event's key could name two objects and neither exists (deleted since)."""


@dataclass(frozen=True)
class ExecutionRequest:
    name: str
    input: dict


def is_s3_test_event(body: dict) -> bool:
    """S3 sends s3:TestEvent when a notification destination is configured."""
    return body.get("Event") == "s3:TestEvent"


def is_version_removal(body: dict) -> bool:
    """An Object Deleted event that removed one version for good ("Permanently Deleted"): lifecycle
    expiring an old version or a delete marker 30 days on, or `purge-event` deleting every version.
    In the versioned bucket, a photo is removed by the delete marker its deletion creates ("Delete
    Marker Created"); a version's removal needs no run (and would start one per version)."""
    detail = body["detail"] if isinstance(body.get("detail"), dict) else {}
    return body.get("detail-type") == DELETED and detail.get("deletion-type") == "Permanently Deleted"


def execution_requests(body: dict, bucket_name: str, exists=None) -> list[ExecutionRequest]:
    """The executions for one S3 EventBridge event; InvalidKey when the key cannot be a photo.

    When the event's key could name two objects (keys.event_keys), `exists(key)` (HeadObject)
    tells which upload it was; without it the URL-decoded key is taken. A deletion removes
    whatever either key left (the run of a key that held no photo finds nothing).
    UploadNotFound: no candidate exists any more (its deletion event follows)."""
    notification = S3EventBridgeNotificationEvent(body)
    if notification.source != "aws.s3" or notification.detail_type not in (CREATED, DELETED):
        raise UnexpectedEvent(f"not an S3 object event: {notification.source}/{notification.detail_type}")
    detail = notification.detail
    if detail.bucket.name != bucket_name:
        raise InvalidKey(f"bucket {detail.bucket.name!r} is not this stack's bucket {bucket_name!r}")
    candidates = keys.event_keys(detail.raw_event["object"]["key"])
    photos = _parsed(candidates)
    event_token = detail.object.get("sequencer") or notification.get_id
    if notification.detail_type == DELETED:
        requests = []
        for photo in photos:
            name = keys.deletion_execution_name(photo.photo_id, event_token)
            state = photo_state(photo, bucket_name, detail.object.etag)
            requests.append(ExecutionRequest(name, {"action": "delete", "executionName": name, **state}))
        return requests
    if len(photos) > 1:
        present = [photo for photo in photos if exists(photo.raw_key)] if exists else photos
        if not present:
            raise UploadNotFound(
                f"no object {' or '.join(repr(p.raw_key) for p in photos)} exists; its deletion event follows"
            )
        photos = present[:1]
    version_id = detail.object.get("version-id")
    return [processing_request(photos[0], bucket_name, detail.object.etag, event_token, version_id)]


def _parsed(candidates: list[str]) -> list[keys.RawPhoto]:
    """The candidates that are photo keys; the first one's InvalidKey when none is."""
    photos, first_error = [], None
    for key in candidates:
        try:
            photos.append(keys.parse_raw_key(key))
        except InvalidKey as exc:
            first_error = first_error or exc
    if not photos:
        assert first_error is not None  # keys.event_keys gives at least one candidate
        raise first_error
    return photos


DUPLICATE_CLOCK_SLACK = datetime.timedelta(
    seconds=1
)  # Lambda's and Step Functions' clocks may differ a little


def start_execution(sfn, state_machine_arn: str, request: ExecutionRequest) -> bool:
    """Start the request's execution; False when it exists already (a duplicate event, or an
    operator's second reprocess). A Standard execution still running answers a start with its
    name and input with 200 and its own startDate (StartExecution is idempotent); a finished one
    answers ExecutionAlreadyExists."""
    asked_at = datetime.datetime.now(datetime.UTC)
    try:
        started = sfn.start_execution(
            stateMachineArn=state_machine_arn, name=request.name, input=json.dumps(request.input)
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        return False
    return started["startDate"] >= asked_at - DUPLICATE_CLOCK_SLACK


def photo_state(
    photo: keys.RawPhoto, bucket_name: str, etag: str | None, version_id: str | None = None
) -> dict:
    state = {
        "bucket": bucket_name,
        "rawKey": photo.raw_key,
        "etag": keys.normalise_etag(etag),
        "orgId": photo.org_id,
        "eventId": photo.event_id,
        "photoId": photo.photo_id,
    }
    if version_id and version_id != "null":  # "null": an unversioned bucket's object
        state["versionId"] = version_id
    return {"photo": state}


def processing_request(
    photo: keys.RawPhoto,
    bucket_name: str,
    etag: str,
    event_token: str,
    version_id: str | None = None,
    fresh: bool = False,
) -> ExecutionRequest:
    """The execution for an upload (from its event, or an operator's reprocess)."""
    state = photo_state(photo, bucket_name, etag, version_id)
    name = keys.execution_name(photo.photo_id, etag, event_token)
    if not photo.is_supported_type:
        shown = photo.suffix[:16] or "(no extension)"
        reason = f"unsupported file type {shown}: upload .jpg, .jpeg, .png, .heic or .heif"
        return ExecutionRequest(name, {"action": "reject", "executionName": name, "reason": reason, **state})
    process = {"action": "process", "executionName": name, **state, "turns": {}, "fresh": fresh}
    return ExecutionRequest(name, process)
