"""An event purge as a background job (pipeline.jobs.purge, handlers.run_job): every object version
and delete marker of both layouts, every table item, the registry item and at last the job's own
item, page by page through the job queue; a page that fails half-way comes back and the job goes
on; another event's objects and items stay. moto's S3, SQS and DynamoDB."""

import boto3
import pytest
from conftest import BUCKET, REGION
from photos import sqs_batch

from pipeline.common import clients
from pipeline.jobs import purge, queue
from pipeline.store import Store
from pipeline.store.core import TableCore, event_pk

ORG, EVENT, KEPT = "acme", "purged-2026", "kept-2026"
NOW = "2026-12-08T01:00:00+00:00"


def seed_event(store: Store, event_id: str, photos: int) -> tuple[int, int]:
    """Objects of both layouts (a second version of every fifth upload, a delete marker on every
    seventh, processed and thumbnail copies) and items (photo, two bibs and a text read per photo,
    the settings, a finished job); the registry item. (object versions, table items)."""
    s3 = boto3.client("s3", region_name=REGION)
    versions, requests = 0, []
    pk = event_pk(ORG, event_id)
    for n in range(photos):
        raw = (
            f"{ORG}/{event_id}/raw/cam{n % 3}/IMG_{n:04d}.jpg"
            if n % 4
            else f"raw/{ORG}/{event_id}/IMG_{n:04d}.jpg"
        )
        derived = [f"{ORG}/{event_id}/processed/{n:032x}.jpg", f"{ORG}/{event_id}/thumbnails/{n:032x}.jpg"]
        for key in [raw, *derived]:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
            versions += 1
        if n % 5 == 0:
            s3.put_object(Bucket=BUCKET, Key=raw, Body=b"again")
            versions += 1
        if n % 7 == 0:
            s3.delete_object(Bucket=BUCKET, Key=raw)  # a delete marker: a version too
            versions += 1
        photo_id = f"{n:032x}"
        requests.append({"PutRequest": {"Item": {"PK": pk, "SK": f"PHOTO#{photo_id}", "photoId": photo_id}}})
        for bib in (str(100 + n % 40), str(200 + n % 30)):
            requests.append({"PutRequest": {"Item": {"PK": pk, "SK": f"BIB#{bib}#PHOTO#{photo_id}"}}})
        requests.append({"PutRequest": {"Item": {"PK": pk, "SK": f"TEXT#{photo_id}"}}})
    requests.append({"PutRequest": {"Item": {"PK": pk, "SK": "SETTINGS", "published": True}}})
    store.core.batch_write(requests)
    store.jobs.start(ORG, event_id, "R0000000000000001", "count", {}, NOW)
    store.registry.note_upload(ORG, event_id, NOW)
    return versions, len(requests) + 1


def versions_of(event_id: str) -> list[str]:
    s3 = boto3.client("s3", region_name=REGION)
    found = []
    for prefix in (f"{ORG}/{event_id}/", f"raw/{ORG}/{event_id}/"):
        listed = s3.list_object_versions(Bucket=BUCKET, Prefix=prefix)
        found += [v["Key"] for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])]
    return found


def items_of(store: Store, event_id: str) -> list[dict]:
    return store.core.query_prefix(event_pk(ORG, event_id), "", consistent=True)


def registered(store: Store) -> set[str]:
    return {event["eventId"] for event in store.registry.events()}


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 2 x 40 versions or keys (10 x 1,000 deployed), so 150 photos make many."""
    monkeypatch.setattr(purge, "LISTED", 40)
    monkeypatch.setattr(purge, "OBJECT_BATCHES", 2)
    monkeypatch.setattr(purge, "ITEM_PAGES", 2)


def run_pages(sqs, jobs_url: str, context) -> tuple[int, int]:
    """The job function over its queue until nothing is left in it, each message taken again when
    its invocation failed (as SQS gives it again); (pages done, pages failed)."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from pipeline.handlers import run_job as handler

    pages = failures = 0
    while messages := sqs.receive_message(QueueUrl=jobs_url, VisibilityTimeout=0).get("Messages", []):
        (message,) = messages
        try:
            handler.lambda_handler(sqs_batch(message["Body"]), context)
        except BatchProcessingError:
            failures += 1
            assert failures < 5, "a page kept failing"
            continue
        sqs.delete_message(QueueUrl=jobs_url, ReceiptHandle=message["ReceiptHandle"])
        pages += 1
    return pages, failures


def test_a_purge_deletes_the_event_everywhere_page_by_page_and_survives_a_fault(
    queues, context, monkeypatch, small_pages
):
    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    versions, items = seed_event(store, EVENT, 150)
    kept_versions, kept_items = seed_event(store, KEPT, 6)
    assert (len(versions_of(EVENT)), len(items_of(store, EVENT))) == (versions, items)
    assert versions > 4 * 80 and items > 4 * 80  # several pages of each

    real_delete, calls = TableCore.delete_items, []

    def failing_half_way(self, item_keys, writers=1):
        calls.append(len(item_keys))
        if len(calls) == 2:  # the second page of items: half deleted, then the function dies
            real_delete(self, item_keys[: len(item_keys) // 2], writers)
            raise ConnectionError("the function timed out half-way through a page")
        return real_delete(self, item_keys, writers)

    monkeypatch.setattr(TableCore, "delete_items", failing_half_way)
    job_id = queue.start(store, sqs, jobs_url, ORG, EVENT, purge.KIND, {}, NOW)
    pages, failures = run_pages(sqs, jobs_url, context)

    assert failures == 1 and pages >= versions // 80 + items // 80
    assert versions_of(EVENT) == [] and items_of(store, EVENT) == []  # the job's own item too
    assert EVENT not in registered(store) and KEPT in registered(store)
    assert (len(versions_of(KEPT)), len(items_of(store, KEPT))) == (kept_versions, kept_items)
    assert store.jobs.get(ORG, EVENT, job_id) is None


def test_a_finished_purges_message_again_writes_nothing_and_a_second_purge_finds_what_is_left(
    queues, context, small_pages
):
    """SQS may deliver a message twice: the last page's second delivery finds the job item gone and
    leaves the partition empty (no job item written again). A purge whose pages stopped (the job DLQ)
    is finished by another: it starts from what is left."""
    from pipeline.handlers import run_job as handler

    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    seed_event(store, EVENT, 30)
    stopped = queue.start(store, sqs, jobs_url, ORG, EVENT, purge.KIND, {}, NOW)
    first = sqs.receive_message(QueueUrl=jobs_url)["Messages"][0]
    handler.lambda_handler(sqs_batch(first["Body"]), context)
    sqs.purge_queue(QueueUrl=jobs_url)  # the rest of the stopped job's pages went to its DLQ
    assert versions_of(EVENT) or items_of(store, EVENT)
    assert store.jobs.get(ORG, EVENT, stopped)["pages"] == 1

    queue.start(store, sqs, jobs_url, ORG, EVENT, purge.KIND, {}, "2026-12-08T02:00:00+00:00")
    last = None
    while messages := sqs.receive_message(QueueUrl=jobs_url).get("Messages", []):
        last = messages[0]
        handler.lambda_handler(sqs_batch(last["Body"]), context)
        sqs.delete_message(QueueUrl=jobs_url, ReceiptHandle=last["ReceiptHandle"])
    assert versions_of(EVENT) == [] and items_of(store, EVENT) == []  # the stopped job's item too
    handler.lambda_handler(sqs_batch(last["Body"]), context)  # the last page, delivered again
    handler.lambda_handler(sqs_batch(first["Body"]), context)  # and the stopped job's first
    assert items_of(store, EVENT) == [] and EVENT not in registered(store)
    assert sqs.receive_message(QueueUrl=jobs_url).get("Messages", []) == []
