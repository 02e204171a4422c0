"""StartProcessingFunction: upload queue -> one state machine execution per photo.

Invalid keys are logged with their reason and dropped (they can never succeed); a duplicate
event's ExecutionAlreadyExists counts as success; anything else fails only its own message.
An execution that will call Rekognition starts once its first calls' turns are booked
(pipeline.processing.pacing); a record whose turn would come after the function's time is up goes
back to the queue until then.
"""

import math

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError

from pipeline.common import clients, governor, keys
from pipeline.common.config import get_config
from pipeline.common.errors import InvalidKey
from pipeline.common.models import INDEXED
from pipeline.events.settings import EventSettings, result_fingerprint
from pipeline.jobs import reprocess
from pipeline.processing import pacing, uploads
from pipeline.store import Store

logger = Logger()
metrics = Metrics()
PACING_MARGIN_SECONDS = 3.0  # left to start the execution and answer before the timeout


class NoTurnInTime(RuntimeError):
    """This record's turn under the Rekognition quota comes after the invocation's time is up."""


def start_photo(record: SQSRecord, lambda_context=None) -> None:
    body = record.json_body
    if uploads.is_s3_test_event(body):
        logger.info("Ignoring S3 test event")
        return
    if uploads.is_version_removal(body):
        logger.info(
            "Ignoring the removal of one object version", extra={"reason": body["detail"].get("reason")}
        )
        metrics.add_metric(name="VersionRemovalsIgnored", unit=MetricUnit.Count, value=1)
        return
    config = get_config()
    if reprocess.is_reprocess(body):
        start_rerun(body, lambda_context, record)
        return
    try:
        requests = uploads.execution_requests(body, config.bucket_name, exists=raw_object_exists)
    except InvalidKey as exc:
        logger.warning("Upload ignored", extra={"reason": exc.reason})
        metrics.add_metric(name="UploadsIgnored", unit=MetricUnit.Count, value=1)
        return
    for request in requests:
        start(request, lambda_context, record)


def start_rerun(body: dict, lambda_context, record: SQSRecord) -> None:
    """A photo of an operator's whole-event re-run (pipeline.jobs.reprocess): admitted like an
    upload, counted on its job."""
    try:
        photo = keys.parse_raw_key(body["rawKey"])
        if not keys.is_job_id(body["jobId"]):
            raise InvalidKey("not a job id")
    except (KeyError, TypeError, InvalidKey) as exc:
        logger.warning("Re-run message ignored", extra={"reason": str(exc)[:200]})
        return
    config = get_config()
    request = uploads.processing_request(
        photo, config.bucket_name, str(body.get("etag", "")), body["jobId"], fresh=bool(body.get("fresh"))
    )
    if start(request, lambda_context, record, carry_over=False):
        Store(clients.dynamodb_table(config.table_name)).jobs.count_start(
            photo.org_id, photo.event_id, body["jobId"]
        )


def raw_object_exists(raw_key: str) -> bool:
    """HeadObject: asked only when an event's key could name two objects (keys.event_keys)."""
    try:
        clients.s3().head_object(Bucket=get_config().bucket_name, Key=raw_key)
    except ClientError as exc:
        if keys.is_missing_object(exc):
            return False
        raise
    return True


def start(
    request: uploads.ExecutionRequest,
    lambda_context=None,
    record: SQSRecord | None = None,
    carry_over: bool = True,
) -> bool:
    """Start the request's execution once admitted; whether it started. `carry_over`: an upload
    whose identical content has a result under the current settings keeps it (a re-run never)."""
    config = get_config()
    log_keys = {"photoId": request.input["photo"]["photoId"], "executionName": request.name}
    if request.input["action"] == "process":
        if carry_over and already_processed(request.input["photo"]):
            logger.info("Same content already processed under the same settings: result kept", extra=log_keys)
            metrics.add_metric(name="UploadsCarriedOver", unit=MetricUnit.Count, value=1)
            return False
        budget = PACING_MARGIN_SECONDS
        if lambda_context is not None:
            budget = lambda_context.get_remaining_time_in_millis() / 1000 - PACING_MARGIN_SECONDS
        needed = first_look_calls(request.input["photo"], bool(request.input.get("fresh")))
        admission = pacing.admit(governor.stack_governor(), max(0.0, budget), needed)
        if admission.retry_in:
            if record is not None:
                defer(record, admission.retry_in)
            raise NoTurnInTime("back to the queue until its Rekognition turn")
        request.input["turns"] = admission.turns
    if not uploads.start_execution(clients.stepfunctions(), config.state_machine_arn, request):
        logger.info("Duplicate event: the execution exists already", extra=log_keys)
        metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
        return False
    logger.info("Execution started", extra={**log_keys, "action": request.input["action"]})
    metrics.add_metric(name="ExecutionsStarted", unit=MetricUnit.Count, value=1)
    return True


def first_look_calls(photo: dict, fresh: bool) -> tuple[str, ...]:
    """The first-look Rekognition calls the run will make: not DetectText where its answer for this
    content is kept, not IndexFaces where this content's faces are indexed (pipeline.processing.faces).
    Two small reads; the event's settings are not read here (a large item, read on every photo: an
    event with face search off books an IndexFaces turn its run does not use)."""
    if fresh:
        return pacing.FIRST_LOOK
    store = Store(clients.dynamodb_table(get_config().table_name))
    ids = (photo["orgId"], photo["eventId"], photo["photoId"])
    item = store.photos.get(*ids) or {}
    faces_kept = (
        item.get("facesIndexed") and item.get("status") == INDEXED and item.get("etag") == photo["etag"]
    )
    text_kept = store.photos.has_text_read(*ids, photo["etag"])
    return tuple(api for api, kept in (("DetectText", text_kept), ("IndexFaces", faces_kept)) if not kept)


def already_processed(photo: dict) -> bool:
    """Whether the photo's result is for this very content, made under the event's current
    settings: a photographer re-syncing a card then costs two reads, not two Rekognition calls.
    `snaprace reprocess` starts its executions itself, so it always reads again."""
    table = Store(clients.dynamodb_table(get_config().table_name))
    item = table.photos.get(photo["orgId"], photo["eventId"], photo["photoId"]) or {}
    if (
        item.get("status") != INDEXED
        or item.get("etag") != photo["etag"]
        or not item.get("settingsFingerprint")
    ):
        return False
    settings = EventSettings.from_item(table.settings.get(photo["orgId"], photo["eventId"], consistent=True))
    return item["settingsFingerprint"] == result_fingerprint(settings.reads_fingerprint(), settings.faces)


def defer(record: SQSRecord, seconds: float) -> None:
    """Bring a record the pacer deferred back when its turn is due, instead of after the queue's
    whole visibility timeout (every receive still counts towards the DLQ's maxReceiveCount)."""
    queue_url = get_config().upload_queue_url
    if not queue_url:
        return
    try:
        clients.sqs().change_message_visibility(
            QueueUrl=queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=max(1, math.ceil(seconds)),
        )
    except ClientError as exc:  # the record comes back after the visibility timeout all the same
        logger.warning(
            "Could not shorten a deferred record's wait", extra={"error": exc.response["Error"]["Code"]}
        )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> PartialItemFailureResponse:
    processor = BatchProcessor(event_type=EventType.SQS)  # per invocation: it holds the batch's state
    return process_partial_response(
        event=event, record_handler=start_photo, processor=processor, context=context
    )
