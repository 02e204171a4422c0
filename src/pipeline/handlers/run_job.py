"""JobFunction: one page of a background job (a re-run, pipeline.jobs.reprocess; a face scrub,
pipeline.jobs.scrub; an event purge, pipeline.jobs.purge; a count, pipeline.events.progress), then
the message for the next page. A failed page comes back from the job
queue (and after 5 tries goes to its DLQ): the job resumes where it stopped; `snaprace status`
and `snaprace reprocess --status` show how far it got."""

import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from pipeline.common import clients, keys
from pipeline.common.config import get_config
from pipeline.common.errors import InvalidKey
from pipeline.events import progress
from pipeline.jobs import purge, reprocess, scrub
from pipeline.processing import results
from pipeline.store import Store

logger = Logger()
metrics = Metrics()
SQS_BATCH = 10  # SendMessageBatch's most


def run_page(record: SQSRecord) -> None:
    job = record.json_body
    try:
        keys.validate_event_ids(job["orgId"], job["eventId"])
        if not keys.is_job_id(job["jobId"]):
            raise InvalidKey(f"not a job id: {str(job['jobId'])[:40]!r}")
    except (KeyError, TypeError, InvalidKey) as exc:
        logger.warning("Job message ignored", extra={"reason": str(exc)[:200]})
        return
    if scrub.is_scrub(job):
        scrub_page(job)
    elif purge.is_purge(job):
        purge_page(job)
    elif job.get("kind") == progress.COUNT:
        count_page(job)
    else:
        reprocess_page(record, job)


def count_page(job: dict) -> None:
    """A page of the event's uploads counted (pipeline.events.progress); the last finished count
    replaces the ones before it."""
    config = get_config()
    store = Store(clients.dynamodb_table(config.table_name))
    org_id, event_id = job["orgId"], job["eventId"]
    counts, cursor = progress.count_page(
        clients.s3(), store, config.bucket_name, org_id, event_id, job.get("cursor")
    )
    totals = progress.added(job, counts)  # the message carries the totals so far
    advance(store, job, totals, cursor, "done")
    if cursor is None:  # this count replaces the ones before it
        store.jobs.delete(
            org_id, event_id, progress.replaced(store.jobs.of_event(org_id, event_id), job["jobId"])
        )


def scrub_page(job: dict) -> None:
    """A page of the event's items loses its face data (pipeline.jobs.scrub); the last notes on
    the event's registry item that its faces are gone."""
    store = Store(clients.dynamodb_table(get_config().table_name))
    done = scrub.scrub_page(store, job)
    changed = job.get("changed", 0) + done.changed
    if done.cursor is None:
        started = (store.jobs.get(job["orgId"], job["eventId"], job["jobId"]) or {}).get("startedAt")
        store.registry.note_faces_deleted(job["orgId"], job["eventId"], scrub.faces_gone_at(started))
    advance(store, job, {"changed": changed}, done.cursor, "done")
    metrics.add_metric(name="JobItemsScrubbed", unit=MetricUnit.Count, value=done.changed)
    logger.info(
        "Job page done", extra={"jobId": job["jobId"], "page": job.get("page", 0) + 1, "items": done.changed}
    )


def purge_page(job: dict) -> None:
    """A page of the event deleted (pipeline.jobs.purge); the last deletes the job's own item, the
    event's last trace. A message of a job whose item is gone (a purge finished) does nothing."""
    config = get_config()
    store = Store(clients.dynamodb_table(config.table_name))
    org_id, event_id, job_id = job["orgId"], job["eventId"], job["jobId"]
    if store.jobs.get(org_id, event_id, job_id) is None:
        logger.info("Job already finished", extra={"jobId": job_id})
        return
    done = purge.purge_page(
        store, clients.s3(), clients.rekognition(), config.bucket_name, config.collection_prefix, job
    )
    totals = {
        "objectsDeleted": job.get("objectsDeleted", 0) + done.objects,
        "itemsDeleted": job.get("itemsDeleted", 0) + done.items,
    }
    if done.cursor is None:
        store.jobs.delete(org_id, event_id, [job_id])
    else:
        advance(store, job, totals, done.cursor, "done")
    metrics.add_metric(name="JobObjectsDeleted", unit=MetricUnit.Count, value=done.objects)
    metrics.add_metric(name="JobItemsDeleted", unit=MetricUnit.Count, value=done.items)
    logger.info(
        "Job page done",
        extra={"jobId": job_id, "page": job.get("page", 0) + 1, "finished": done.cursor is None, **totals},
    )


def reprocess_page(record: SQSRecord, job: dict) -> None:
    """A page of the event's uploads into the upload queue (pipeline.jobs.reprocess)."""
    config, sqs = get_config(), clients.sqs()
    if upload_queue_depth(sqs, config.upload_queue_url) >= reprocess.QUEUE_AHEAD:
        # new uploads first: this page comes back in a minute
        sqs.send_message(
            QueueUrl=config.job_queue_url, MessageBody=record.body, DelaySeconds=reprocess.PAUSE_SECONDS
        )
        metrics.add_metric(name="JobPagesPaused", unit=MetricUnit.Count, value=1)
        return
    store = Store(clients.dynamodb_table(config.table_name))
    page = reprocess.next_page(clients.s3(), store, config.bucket_name, job)
    bodies = reprocess.upload_messages(job, page.photos)
    for start in range(0, len(bodies), SQS_BATCH):
        send_batch(sqs, config.upload_queue_url, bodies[start : start + SQS_BATCH])
    advance(store, job, {"enqueued": job.get("enqueued", 0) + len(bodies)}, page.cursor, "enqueued")
    metrics.add_metric(name="JobPhotosEnqueued", unit=MetricUnit.Count, value=len(bodies))
    logger.info(
        "Job page done", extra={"jobId": job["jobId"], "page": job.get("page", 0) + 1, "photos": len(bodies)}
    )


def advance(store: Store, job: dict, totals: dict, cursor: dict | None, last_state: str) -> None:
    """Record the page on the job item, then send the message for the next one (once, whichever
    delivery of this message gets there first)."""
    ids = (job["orgId"], job["eventId"], job["jobId"])
    page_number = job.get("page", 0) + 1
    done_before = store.jobs.claim_page(*ids, page_number, totals, cursor, results.now_iso(), last_state)
    if done_before is not None:  # another delivery of this message did this page
        if done_before.get("nextSent", 0) >= page_number:
            return
        cursor = done_before.get("nextCursor")  # it stopped before sending the next page's message
    if cursor is not None:
        following = {**job, **totals, "page": page_number, "cursor": cursor}
        clients.sqs().send_message(QueueUrl=get_config().job_queue_url, MessageBody=json.dumps(following))
        store.jobs.next_sent(*ids, page_number)


def upload_queue_depth(sqs, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"].get("ApproximateNumberOfMessages", 0))


def send_batch(sqs, queue_url: str, bodies: list[str]) -> None:
    """Up to 10 messages; the entries SQS did not take are sent again (a page is never half-sent
    without the message failing and coming back)."""
    entries = [{"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies)]
    for _ in range(3):
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        if not failed:
            return
        retry = {entry["Id"] for entry in failed}
        entries = [entry for entry in entries if entry["Id"] in retry]
    raise RuntimeError(f"the upload queue refused {len(entries)} messages")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict, context) -> PartialItemFailureResponse:
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(
        event=event, record_handler=run_page, processor=processor, context=context
    )
