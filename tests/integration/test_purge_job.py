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


class Collections:
    """Rekognition's DeleteCollection (moto has no collections): the faces each collection holds."""

    class exceptions:  # noqa: N801 - boto3's shape
        ResourceNotFoundException = KeyError

    def __init__(self):
        self.faces: dict[str, int] = {}

    def delete_collection(self, CollectionId):  # noqa: N803 - boto3's names
        del self.faces[CollectionId]


@pytest.fixture(autouse=True)
def collections(monkeypatch) -> Collections:
    """The job's Rekognition client; the command deleted the collection before the job started."""
    found = Collections()
    monkeypatch.setattr(clients, "rekognition", lambda: found)
    return found


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


def drain(sqs, jobs_url: str, context) -> None:
    from pipeline.handlers import run_job as handler

    while messages := sqs.receive_message(QueueUrl=jobs_url).get("Messages", []):
        handler.lambda_handler(sqs_batch(messages[0]["Body"]), context)
        sqs.delete_message(QueueUrl=jobs_url, ReceiptHandle=messages[0]["ReceiptHandle"])


def test_two_purges_at_once_both_work_until_the_event_is_gone(queues, context, monkeypatch, small_pages):
    """JobFunction runs two pages at once: when one purge deletes the other's item, the other's page
    runs meanwhile. Neither deletes the other's item while the event has anything else, so neither
    stops half-way; at the end each may end the other."""
    from pipeline.handlers import run_job as handler

    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    seed_event(store, EVENT, 150)
    a = queue.start(store, sqs, jobs_url, ORG, EVENT, purge.KIND, {}, NOW)
    b = queue.start(store, sqs, jobs_url, ORG, EVENT, purge.KIND, {}, "2026-12-08T01:00:01+00:00")
    real_delete, nested = TableCore.delete_items, []

    def with_the_other_page_meanwhile(self, item_keys, writers=1):
        purges = {key["SK"].removeprefix("JOB#") for key in item_keys} & {a, b}
        if not nested and len(purges) == 1:  # one purge deletes the other's item: that one's page runs now
            nested.append(True)
            message = sqs.receive_message(QueueUrl=jobs_url)["Messages"][0]
            handler.lambda_handler(sqs_batch(message["Body"]), context)
            sqs.delete_message(QueueUrl=jobs_url, ReceiptHandle=message["ReceiptHandle"])
        return real_delete(self, item_keys, writers)

    monkeypatch.setattr(TableCore, "delete_items", with_the_other_page_meanwhile)
    drain(sqs, jobs_url, context)
    assert nested
    assert items_of(store, EVENT) == [] and versions_of(EVENT) == [] and EVENT not in registered(store)
    assert store.jobs.get(ORG, EVENT, a) is None and store.jobs.get(ORG, EVENT, b) is None


def test_a_late_next_sent_does_not_write_the_job_item_again(queues, context, monkeypatch, small_pages):
    """advance() sends the next page's message, then notes it on the job item: when that next page
    was the last and deleted the item first, the note writes nothing into the purged partition."""
    from pipeline.store.jobs import Jobs

    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    seed_event(store, EVENT, 10)
    queue.start(store, sqs, jobs_url, ORG, EVENT, purge.KIND, {}, NOW)
    real_next_sent, nested = Jobs.next_sent, []

    def after_the_rest(self, *args):
        if not nested:
            nested.append(True)
            drain(sqs, jobs_url, context)  # another invocation finishes the job meanwhile
        return real_next_sent(self, *args)

    monkeypatch.setattr(Jobs, "next_sent", after_the_rest)
    drain(sqs, jobs_url, context)
    assert nested and items_of(store, EVENT) == [] and EVENT not in registered(store)


def test_what_a_photo_in_flight_writes_during_the_items_pages_is_deleted_too(
    queues, context, small_pages, collections
):
    """An upload lands once the job is deleting items (its objects pages done), and the photo's
    run makes the collection again: the last page finds the objects and deletes the collection."""

    from pipeline.handlers import run_job as handler

    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    seed_event(store, EVENT, 60)
    queue.start(store, sqs, jobs_url, ORG, EVENT, purge.KIND, {}, NOW)
    s3, uploaded = boto3.client("s3", region_name=REGION), False
    while messages := sqs.receive_message(QueueUrl=jobs_url).get("Messages", []):
        body = messages[0]["Body"]
        if not uploaded and '"phase": "items"' in body:
            s3.put_object(Bucket=BUCKET, Key=f"{ORG}/{EVENT}/raw/late.jpg", Body=b"x")
            s3.put_object(Bucket=BUCKET, Key=f"{ORG}/{EVENT}/thumbnails/late.jpg", Body=b"x")
            collections.faces[f"snaprace-test.{ORG}.{EVENT}"] = 1  # its IndexFaces made it again
            uploaded = True
        handler.lambda_handler(sqs_batch(body), context)
        sqs.delete_message(QueueUrl=jobs_url, ReceiptHandle=messages[0]["ReceiptHandle"])
    assert uploaded and versions_of(EVENT) == [] and items_of(store, EVENT) == []
    assert collections.faces == {} and EVENT not in registered(store)


def test_an_event_whose_id_begins_like_the_purged_ones_is_untouched(queues, context, small_pages):
    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    seed_event(store, EVENT, 20)
    versions, items = seed_event(store, EVENT + "-b", 5)
    queue.start(store, sqs, jobs_url, ORG, EVENT, purge.KIND, {}, NOW)
    drain(sqs, jobs_url, context)
    assert versions_of(EVENT) == [] and items_of(store, EVENT) == []
    assert (len(versions_of(EVENT + "-b")), len(items_of(store, EVENT + "-b"))) == (versions, items)
    assert EVENT + "-b" in registered(store)


def test_many_writers_fail_the_page_when_dynamodb_keeps_writes_unprocessed(aws):
    """A batch a writer thread could not write raises in the caller: the page fails and comes back."""

    class NeverProcessed:
        name = "PhotoService-test"
        meta = None

        def __init__(self):
            self.meta = type("Meta", (), {"client": self})()

        def batch_write_item(self, RequestItems):  # noqa: N803 - boto3's names
            return {"UnprocessedItems": RequestItems}

    core = TableCore(NeverProcessed(), sleep=lambda seconds: None)
    keys = [{"PK": "ORG#acme#EVT#e", "SK": f"PHOTO#{n:04d}"} for n in range(200)]
    with pytest.raises(RuntimeError, match="unprocessed"):
        core.delete_items(keys, writers=8)


def test_a_scrub_that_ends_after_a_purge_does_not_register_the_event_again(aws):
    store = Store(clients.dynamodb_table("PhotoService-test"))
    store.registry.note_faces_deleted(ORG, EVENT, NOW)  # a face scrub's last page, after the purge
    store.registry.note_upload(ORG, KEPT, NOW)
    store.registry.note_faces_deleted(ORG, KEPT, NOW)
    assert registered(store) == {KEPT}
    assert store.registry.get(ORG, KEPT)["facesDeletedAt"] == NOW
