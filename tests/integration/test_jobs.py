"""A whole-event re-run as a background job (pipeline.jobs.reprocess, handlers.run_job): page by
page through the job queue into the upload queue, resumable, its progress in the job item; the
starter admits its photos like uploads. moto's S3, SQS, DynamoDB and Step Functions."""

import datetime
import json

import boto3
import pytest
from conftest import BUCKET, REGION
from photos import sqs_batch

from pipeline.common import clients, keys
from pipeline.events.changes import ScrubAtWork, change_settings
from pipeline.events.settings import EventSettings
from pipeline.jobs import queue, reprocess
from pipeline.retention import faces as retention
from pipeline.store import Store
from pipeline.store.core import to_dynamo

ORG, EVENT = "acme", "big-2026"
JOB = keys.job_id(1_796_000_000_000_000)


def drain(sqs, url: str) -> list[dict]:
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def seed_uploads(current: int, legacy: int) -> list[str]:
    s3 = boto3.client("s3", region_name=REGION)
    raw = [f"{ORG}/{EVENT}/raw/cam{n % 7}/IMG_{n:05d}.jpg" for n in range(current)]
    raw += [f"raw/{ORG}/{EVENT}/old/IMG_{n:05d}.jpg" for n in range(legacy)]
    for key in raw:
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    return raw


def start_job(store: Store, sqs, jobs_url: str, options: dict) -> None:
    store.jobs.start(ORG, EVENT, JOB, "reprocess", options, "2026-12-07T18:00:00+00:00")
    first = {"jobId": JOB, "orgId": ORG, "eventId": EVENT, "options": options}
    sqs.send_message(QueueUrl=jobs_url, MessageBody=json.dumps(first))


def run_job(sqs, jobs_url: str, context, redeliver_every_page: bool = False) -> int:
    """The job function over its queue until the job ends; the pages it ran."""
    from pipeline.handlers import run_job as handler

    pages = 0
    while messages := sqs.receive_message(QueueUrl=jobs_url).get("Messages", []):
        (message,) = messages
        batch = sqs_batch(message["Body"])
        assert handler.lambda_handler(batch, context)["batchItemFailures"] == []
        if redeliver_every_page:  # the same message again, as SQS may deliver it twice
            assert handler.lambda_handler(batch, context)["batchItemFailures"] == []
        sqs.delete_message(QueueUrl=jobs_url, ReceiptHandle=message["ReceiptHandle"])
        pages += 1
    return pages


def test_a_rerun_queues_every_upload_of_both_layouts_page_by_page(queues, context):
    sqs, upload_url, jobs_url = queues
    raw = seed_uploads(current=110, legacy=13)
    store = Store(clients.dynamodb_table("PhotoService-test"))
    start_job(store, sqs, jobs_url, {"fresh": False, "status": None})

    pages = run_job(sqs, jobs_url, context)

    queued = drain(sqs, upload_url)
    assert pages == 4  # 50 + 50 + 10 uploads, then the older layout's 13
    assert sorted(body["rawKey"] for body in queued) == sorted(raw)  # each once
    assert {(body["source"], body["jobId"], body["fresh"]) for body in queued} == {
        (reprocess.SOURCE, JOB, False)
    }
    job = store.jobs.get(ORG, EVENT, JOB)
    assert (job["state"], job["enqueued"], job["pages"]) == ("enqueued", 123, 4)


def test_a_page_delivered_twice_counts_once_and_sends_one_next_page(queues, context):
    """The job resumes where a failure left it: a page run again (its message came back) queues its
    photos again, which start nothing new (the same execution names), and sends no second chain."""
    sqs, upload_url, jobs_url = queues
    raw = seed_uploads(current=105, legacy=0)
    store = Store(clients.dynamodb_table("PhotoService-test"))
    start_job(store, sqs, jobs_url, {"fresh": True, "status": None})

    pages = run_job(sqs, jobs_url, context, redeliver_every_page=True)

    queued = drain(sqs, upload_url)
    assert pages == 4  # 50 + 50 + 5, and the older layout's page, empty
    assert len(queued) == 2 * 105 and {body["rawKey"] for body in queued} == set(raw)
    assert all(body["fresh"] for body in queued)
    job = store.jobs.get(ORG, EVENT, JOB)
    assert (job["state"], job["enqueued"], job["pages"]) == ("enqueued", 105, 4)


def test_a_rerun_of_one_status_reads_the_photo_items(queues, context):
    sqs, upload_url, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    failed = []
    for n in range(120):
        raw_key = f"{ORG}/{EVENT}/raw/IMG_{n:05d}.jpg"
        status = "FAILED" if n % 10 == 3 else "INDEXED"
        photo_id = keys.photo_id_for(raw_key)
        store.photos.replace(
            {
                "orgId": ORG,
                "eventId": EVENT,
                "photoId": photo_id,
                "rawKey": raw_key,
                "etag": "e1",
                "status": status,
            },
            [],
            None,
        )
        if status == "FAILED":
            failed.append(raw_key)
    start_job(store, sqs, jobs_url, {"fresh": False, "status": "FAILED"})

    run_job(sqs, jobs_url, context)

    assert sorted(body["rawKey"] for body in drain(sqs, upload_url)) == sorted(failed)
    assert store.jobs.get(ORG, EVENT, JOB)["enqueued"] == 12


def test_the_starter_admits_a_rerun_photo_and_counts_it_on_its_job(aws, context, monkeypatch):
    from pipeline.common.config import get_config
    from pipeline.handlers import start_processing

    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name="image-processing-test",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    get_config.cache_clear()
    store = Store(clients.dynamodb_table("PhotoService-test"))
    store.jobs.start(ORG, EVENT, JOB, "reprocess", {}, "2026-12-07T18:00:00+00:00")
    raw_key = f"{ORG}/{EVENT}/raw/IMG_00001.jpg"
    body = {"source": reprocess.SOURCE, "jobId": JOB, "rawKey": raw_key, "etag": "abc", "fresh": True}
    hostile = {**body, "jobId": "R1; DROP", "rawKey": "../../etc/passwd"}

    answer = start_processing.lambda_handler(sqs_batch(body, hostile), context)

    assert answer["batchItemFailures"] == []  # a message that names no photo is dropped, logged
    (execution,) = sfn.list_executions(stateMachineArn=arn)["executions"]
    started = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert execution["name"] == keys.execution_name(keys.photo_id_for(raw_key), "abc", JOB)
    assert (started["photo"]["rawKey"], started["fresh"]) == (raw_key, True)
    assert store.jobs.get(ORG, EVENT, JOB)["started"] == 1


def test_a_rerun_books_turns_only_for_the_calls_it_will_make(aws, context, monkeypatch):
    """A photo whose text and faces were kept books no turn (its run calls neither); one whose
    answers were not kept books both; a fresh re-run books both whatever was kept."""
    from pipeline.common import governor
    from pipeline.common.config import get_config
    from pipeline.handlers import start_processing

    now = [1_796_000_000.0]
    monkeypatch.setattr(governor, "clock", lambda: now[0])
    monkeypatch.setattr(governor, "sleep", lambda seconds: now.__setitem__(0, now[0] + seconds))
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name="image-processing-test",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    monkeypatch.setenv("QUOTA_TABLE_NAME", "SnapRaceQuotas-test")
    get_config.cache_clear()
    store = Store(clients.dynamodb_table("PhotoService-test"))
    store.jobs.start(ORG, EVENT, JOB, "reprocess", {}, "2026-12-07T18:00:00+00:00")
    kept, new = f"{ORG}/{EVENT}/raw/kept.jpg", f"{ORG}/{EVENT}/raw/new.jpg"
    kept_id = keys.photo_id_for(kept)
    item = {"orgId": ORG, "eventId": EVENT, "photoId": kept_id, "rawKey": kept, "etag": "e1"}
    store.photos.replace({**item, "status": "INDEXED", "facesIndexed": True}, [], None)
    store.photos.keep_text_read(ORG, EVENT, kept_id, "e1", [])

    def turns_of(raw_key: str, fresh: bool) -> dict:
        body = {"source": reprocess.SOURCE, "jobId": JOB, "rawKey": raw_key, "etag": "e1", "fresh": fresh}
        assert start_processing.lambda_handler(sqs_batch(body), context)["batchItemFailures"] == []
        name = keys.execution_name(keys.photo_id_for(raw_key), "e1", JOB)
        execution = sfn.describe_execution(
            executionArn=f"{arn.replace(':stateMachine:', ':execution:')}:{name}"
        )
        return json.loads(execution["input"])["turns"]

    assert turns_of(kept, fresh=False) == {}
    assert set(turns_of(new, fresh=False)) == {"DetectText", "IndexFaces"}
    # the kept photo again, fresh (its execution name exists in this state machine: another one)
    arn = sfn.create_state_machine(
        name="image-processing-fresh",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    get_config.cache_clear()
    assert set(turns_of(kept, fresh=True)) == {"DetectText", "IndexFaces"}


def test_a_page_waits_while_new_uploads_wait(queues, context, monkeypatch):
    """A re-run never puts a whole event ahead of new uploads: with QUEUE_AHEAD messages waiting,
    the page comes back in a minute and queues nothing meanwhile."""
    from pipeline.handlers import run_job as handler

    sqs, upload_url, jobs_url = queues
    monkeypatch.setattr(reprocess, "QUEUE_AHEAD", 3)
    seed_uploads(current=20, legacy=0)
    for n in range(3):  # three uploads of other events, waiting for the starter
        sqs.send_message(QueueUrl=upload_url, MessageBody=json.dumps({"upload": n}))
    store = Store(clients.dynamodb_table("PhotoService-test"))
    start_job(store, sqs, jobs_url, {"fresh": False, "status": None})
    (message,) = sqs.receive_message(QueueUrl=jobs_url)["Messages"]

    assert handler.lambda_handler(sqs_batch(message["Body"]), context)["batchItemFailures"] == []

    depth = sqs.get_queue_attributes(QueueUrl=upload_url, AttributeNames=["All"])["Attributes"]
    assert depth["ApproximateNumberOfMessages"] == "3"  # nothing of the re-run queued
    jobs = sqs.get_queue_attributes(QueueUrl=jobs_url, AttributeNames=["All"])["Attributes"]
    assert jobs["ApproximateNumberOfMessagesDelayed"] == "1"  # the same page, back in a minute
    assert store.jobs.get(ORG, EVENT, JOB)["pages"] == 0


# ---------------------------------------------------------------- face scrub (pipeline.jobs.scrub)


def seed_faces(store: Store, photos: int) -> int:
    """Photo items as SaveResults writes them (two faces on two photos in three), their bib items
    (one linked to a face), text reads and cached face matches; the number holding face data."""
    requests, holding = [], 0
    for n in range(photos):
        photo_id = f"{n:032x}"
        faces = [f"face-{n}-{k}" for k in range(2)] if n % 3 else []
        boxes = {face: {"left": 0.1, "top": 0.1, "width": 0.2, "height": 0.3} for face in faces}
        bibs = [str(1000 + n % 700), str(2000 + n % 500)]
        photo = {
            "PK": f"ORG#{ORG}#EVT#{EVENT}", "SK": f"PHOTO#{photo_id}", "photoId": photo_id,
            "status": "INDEXED", "bibs": bibs, "faceIds": faces, "faceBoxes": boxes,
            "facesIndexed": bool(faces), "etag": "e" * 32,
        }  # fmt: skip
        requests.append({"PutRequest": {"Item": to_dynamo(photo)}})
        for index, bib in enumerate(bibs):
            linked = {"faceId": faces[0]} if faces and index == 0 else {}
            bib_item = {"PK": photo["PK"], "SK": f"BIB#{bib}#PHOTO#{photo_id}", "bib": bib, **linked}
            requests.append({"PutRequest": {"Item": {**bib_item, "photoId": photo_id}}})
        requests.append(
            {"PutRequest": {"Item": {"PK": photo["PK"], "SK": f"TEXT#{photo_id}", "etag": "e" * 32}}}
        )
        holding += 2 if faces else 0
    store.core.batch_write(requests)
    store.faces.put_matches(ORG, EVENT, "1001", ["face-1-0"], [["p", "face-1-0", 99.0]], 4_000_000_000)
    return holding


def holding_faces(store: Store) -> list[dict]:
    return [
        item
        for item in store.core.event_items(ORG, EVENT)
        if item.get("faceIds") or item.get("faceBoxes") or item.get("faceId") or item.get("facesIndexed")
        or item["SK"].startswith("FACEMATCH#")
    ]  # fmt: skip


def test_a_face_scrub_survives_a_fault_half_way_and_leaves_no_face_data(queues, context, monkeypatch):
    """450 photos (600 of their 1,350 photo and bib items hold faces): pages of 200 items; the third
    fails after half its writes, comes back (as SQS redelivers it) and the job goes on from there."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from pipeline.handlers import run_job as handler
    from pipeline.jobs import queue, scrub
    from pipeline.store.faces import FaceData

    monkeypatch.setattr(scrub, "PAGE_ITEMS", 200)
    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    holding = seed_faces(store, 450)
    store.registry.note_upload(ORG, EVENT, "2026-12-07T17:00:00+00:00")  # its photos' runs registered it
    assert len(holding_faces(store)) == holding + 1  # and the cached match
    job_id = queue.start(store, sqs, jobs_url, ORG, EVENT, scrub.KIND, {}, "2026-12-07T18:00:00+00:00")

    real_scrub, calls = FaceData.scrub, []

    def failing_half_way(self, items):
        calls.append(len(items))
        if len(calls) == 3:
            real_scrub(self, items[: len(items) // 2])
            raise ConnectionError("the function timed out half-way through a page")
        return real_scrub(self, items)

    monkeypatch.setattr(FaceData, "scrub", failing_half_way)
    pages = failures = 0
    while messages := sqs.receive_message(QueueUrl=jobs_url, VisibilityTimeout=0).get("Messages", []):
        (message,) = messages
        try:
            handler.lambda_handler(sqs_batch(message["Body"]), context)
        except BatchProcessingError:  # its one record failed: the invocation fails, SQS gives it again
            failures += 1
            assert failures == 1, "a page failed again"
            assert store.jobs.get(ORG, EVENT, job_id)["state"] == "running"
            continue  # the message stays: SQS gives it again
        sqs.delete_message(QueueUrl=jobs_url, ReceiptHandle=message["ReceiptHandle"])
        pages += 1

    job = store.jobs.get(ORG, EVENT, job_id)
    assert failures == 1 and holding_faces(store) == []
    # each item counted once, by the page that cleared it; the failed page's first half was cleared
    # uncounted (its retry no longer finds them holding faces)
    assert (job["state"], job["changed"], job["pages"]) == ("done", holding - calls[2] // 2, pages)
    items = store.core.event_items(ORG, EVENT)
    photos = [item for item in items if item["SK"].startswith("PHOTO#")]
    assert len(photos) == 450 and all(p["status"] == "INDEXED" and len(p["bibs"]) == 2 for p in photos)
    assert sum(item["SK"].startswith("BIB#") for item in items) == 900  # bib search unchanged
    registry = store.core.get({"PK": "EVENTS", "SK": f"ORG#{ORG}#EVT#{EVENT}"})
    assert registry["facesDeletedAt"] >= "2026" and registry["orgId"] == ORG


class Collections:
    """Rekognition's collection calls (moto has none): the faces each event's collection holds."""

    class exceptions:  # noqa: N801 - boto3's shape
        ResourceNotFoundException = KeyError

    def __init__(self, faces: dict[str, int]):
        self.faces = faces

    def describe_collection(self, CollectionId):  # noqa: N803 - boto3's names
        return {"FaceCount": self.faces[CollectionId]}

    def delete_collection(self, CollectionId):  # noqa: N803
        del self.faces[CollectionId]


def test_face_search_off_answers_202_at_once_and_the_job_does_the_rest(queues, context, monkeypatch):
    """The organiser's PUT deletes the collection, starts one job and answers; on again while the job
    is at work is refused (the job would clear the new faces too); a second off starts no second job."""

    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    holding = seed_faces(store, 300)
    collection = keys.collection_id("snaprace-test", ORG, EVENT)
    rekognition = Collections({collection: 400})
    monkeypatch.setattr(clients, "rekognition", lambda: rekognition)

    def settings(method: str, body: dict | None = None) -> tuple[int, dict]:
        return organiser(method, "settings", context, body)

    status, answer = settings("PUT", {"faces": False})
    assert status == 202 and answer["faces"] is False, answer
    deletion = answer["facesDeletion"]
    assert (deletion["faces"], deletion["state"]) == (400, "running") and rekognition.faces == {}
    # the items are the job's: the request did not touch them, nor the cached match (a bib search
    # does not read it while face search is off; the job's first page deletes it)
    assert len(holding_faces(store)) == holding + 1

    status, answer = settings("PUT", {"faces": True})
    assert status == 409 and "still being deleted" in answer["message"], answer
    status, again = settings("PUT", {"faces": False})
    assert status == 200 and "facesDeletion" not in again  # off already: nothing more to start
    assert len(store.jobs.of_event(ORG, EVENT)) == 1

    run_job(sqs, jobs_url, context)
    assert holding_faces(store) == []
    status, shown = settings("GET")
    assert status == 200 and shown["facesDeletion"]["state"] == "done"
    assert shown["facesDeletion"]["changed"] == holding
    status, answer = settings("PUT", {"faces": True})
    assert status == 200 and answer["faces"] is True


# ---------------------------------------------------------------- progress (pipeline.events.progress)


def organiser(method: str, route: str, context, body: dict | None = None) -> tuple[int, dict]:
    """The organiser API with the operator's key, as API Gateway calls it."""
    import copy
    from pathlib import Path

    from pipeline.handlers import organiser_api

    fixture = json.loads((Path(__file__).parents[2] / "events" / "organiser_api_settings.json").read_text())
    event = copy.deepcopy(fixture)
    path = f"/orgs/{ORG}/events/{EVENT}/{route}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = (
        f"{method} /orgs/{{orgId}}/events/{{eventId}}/{route}"
    )
    event["pathParameters"] = {"orgId": ORG, "eventId": EVENT}
    event["requestContext"]["authorizer"] = {"lambda": {"role": "operator", "org": ""}}
    event["body"] = json.dumps(body) if body is not None else None
    answer = organiser_api.lambda_handler(event, context)
    return answer["statusCode"], json.loads(answer["body"])


def test_a_large_events_progress_is_counted_in_the_background_and_a_small_ones_at_once(
    queues, context, monkeypatch
):
    """700 uploads in pages of 200: the first request starts a count and says so; the job counts
    page by page; the answer then is what one pass over everything counts, with its time."""
    from pipeline.common.models import INDEXED, REJECTED
    from pipeline.events import progress

    monkeypatch.setattr(progress, "PAGE_SIZE", 200)
    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    raw = seed_uploads(current=640, legacy=60)
    etags = {o["Key"]: keys.normalise_etag(o["ETag"]) for o in list_all(raw)}
    requests = []
    for n, raw_key in enumerate(raw):
        if n % 10 == 9:
            continue  # 70 without an item yet: in flight
        photo_id = keys.parse_raw_key(raw_key).photo_id
        status, reason = (
            (REJECTED, "too small" if n // 10 % 2 else "not a photo") if n % 10 == 3 else (INDEXED, None)
        )
        etag = "0" * 32 if n % 10 == 5 else etags[raw_key]  # 70 replaced by new content: in flight too
        item = {
            "PK": f"ORG#{ORG}#EVT#{EVENT}",
            "SK": f"PHOTO#{photo_id}",
            "photoId": photo_id,
            "status": status,
            "etag": etag,
        }
        requests.append({"PutRequest": {"Item": {**item, **({"reason": reason} if reason else {})}}})
    store.core.batch_write(requests)

    status, first = organiser("GET", "progress", context)
    assert status == 200 and (first["complete"], first["asOf"], first["raw"]) == (False, None, 0), first
    status, again = organiser("GET", "progress", context)  # a count at work: no second one
    assert again["complete"] is False and len(store.jobs.of_event(ORG, EVENT)) == 1
    assert run_job(sqs, jobs_url, context) == 5  # 640 current uploads in 200s (4 pages), the 60 legacy ones

    status, counted = organiser("GET", "progress", context)
    assert status == 200 and counted["complete"] is True and counted["asOf"] >= "2026"
    assert {name: counted[name] for name in progress.COUNTS} == {
        "raw": 700, "indexed": 490, "rejected": 70, "failed": 0, "inFlight": 140,
    }  # fmt: skip
    assert counted["rejectedReasons"] == {"too small": 35, "not a photo": 35}

    # a small event: counted in the request, no job
    monkeypatch.setattr(progress, "PAGE_SIZE", 1_000)
    store.jobs.delete(ORG, EVENT, [job["jobId"] for job in store.jobs.of_event(ORG, EVENT)])
    status, small = organiser("GET", "progress", context)
    assert small["complete"] is True and small["raw"] == 700 and store.jobs.of_event(ORG, EVENT) == []


def list_all(raw: list[str]) -> list[dict]:
    """The bucket's objects (their ETags as S3 gives them)."""
    s3 = boto3.client("s3", region_name=REGION)
    return [
        obj
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for obj in page.get("Contents", [])
    ]


# ---------------------------------------------------------------- found in review


def test_a_face_indexed_while_a_retention_scrub_works_is_swept_at_its_own_date(queues, context):
    """Under retention face search stays on: an upload indexed while the scrub works (here, in the
    very second it started) makes a new collection; the registry notes the faces gone as of the
    scrub's start, so the sweep takes the late face when its own retention passes."""
    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    seed_faces(store, 30)
    store.settings.put(ORG, EVENT, EventSettings(face_retention_days=1).to_item())
    store.registry.note_upload(ORG, EVENT, "2026-01-01T00:00:00+00:00")
    collection = keys.collection_id("snaprace-test", ORG, EVENT)
    rekognition = Collections({collection: 40})
    start_job = queue.starter(store, sqs, jobs_url)
    now = datetime.datetime.now(datetime.UTC)
    (swept,) = retention.sweep(store, rekognition, "snaprace-test", start_job, now)
    assert rekognition.faces == {} and swept["faces"] == 40
    started = store.jobs.get(ORG, EVENT, swept["jobId"])["startedAt"]
    rekognition.faces[collection] = 1  # the late upload's IndexFaces made the collection again
    store.registry.note_upload(ORG, EVENT, started)
    run_job(sqs, jobs_url, context)

    assert retention.sweep(store, rekognition, "snaprace-test", start_job, now) == []  # not due yet
    later = datetime.datetime.fromisoformat(started) + datetime.timedelta(days=1, minutes=1)
    (again,) = retention.sweep(store, rekognition, "snaprace-test", start_job, later)
    assert again["faces"] == 1 and rekognition.faces == {}


def test_face_search_stays_off_until_a_stopped_scrub_is_finished(queues, context):
    """A scrub whose pages went to the DLQ leaves face links on some items: turning face search on
    then would let a re-run reuse them. Refused, with what finishes it; the sweep does, then on works."""
    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    holding = seed_faces(store, 60)
    rekognition = Collections({keys.collection_id("snaprace-test", ORG, EVENT): 80})
    start_job = queue.starter(store, sqs, jobs_url)
    _, deletion = change_settings(
        store, rekognition, "snaprace-test", start_job, ORG, EVENT, {"faces": False}
    )
    assert deletion["faces"] == 80
    drain(sqs, jobs_url)  # its first page failed five times: in the job DLQ
    job = store.jobs.get(ORG, EVENT, deletion["jobId"])
    store.core.table.update_item(  # and nothing moved for two hours
        Key={"PK": f"ORG#{ORG}#EVT#{EVENT}", "SK": f"JOB#{deletion['jobId']}"},
        UpdateExpression="SET updatedAt = :then",
        ExpressionAttributeValues={":then": "2026-01-01T00:00:00+00:00"},
    )
    assert job["state"] == "running" and len(holding_faces(store)) == holding + 1  # and the cached match
    with pytest.raises(ScrubAtWork, match="stopped before it finished"):
        change_settings(store, rekognition, "snaprace-test", start_job, ORG, EVENT, {"faces": True})

    (swept,) = retention.sweep(
        store, rekognition, "snaprace-test", start_job, datetime.datetime.now(datetime.UTC)
    )
    run_job(sqs, jobs_url, context)
    assert holding_faces(store) == [] and store.jobs.get(ORG, EVENT, swept["jobId"])["state"] == "done"
    settings, _ = change_settings(store, rekognition, "snaprace-test", start_job, ORG, EVENT, {"faces": True})
    assert settings.faces is True
    assert (
        retention.sweep(store, rekognition, "snaprace-test", start_job, datetime.datetime.now(datetime.UTC))
        == []
    )


def test_face_search_off_on_an_event_with_no_photos_starts_nothing(queues, context):
    """An organiser key may name any event id of its org: one with no photos and no collection
    gets its setting, and no registry item or job the daily sweep would visit."""
    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    start_job = queue.starter(store, sqs, jobs_url)
    settings, deletion = change_settings(
        store, Collections({}), "snaprace-test", start_job, ORG, "made-up-9", {"faces": False}
    )
    assert settings.faces is False and deletion is None
    assert store.registry.events() == [] and store.jobs.of_event(ORG, "made-up-9") == []
    assert drain(sqs, jobs_url) == []


def test_a_job_id_starts_one_job_whatever_the_requests_at_once(queues):
    """Two progress requests in the same minute name the same count: one job, one message."""
    sqs, _, jobs_url = queues
    store = Store(clients.dynamodb_table("PhotoService-test"))
    first = queue.start(store, sqs, jobs_url, ORG, EVENT, "count", {}, "2026-12-07T18:00:00+00:00", JOB)
    second = queue.start(store, sqs, jobs_url, ORG, EVENT, "count", {}, "2026-12-07T18:00:01+00:00", JOB)
    assert (first, second) == (JOB, None) and len(drain(sqs, jobs_url)) == 1


def test_settings_whose_list_item_is_gone_or_inline_are_saved_without_a_500(aws):
    """A purge that stopped half-way deletes PARTICIPANTS before SETTINGS; a list stored inline
    before the split moves to its own item at the next save."""
    store = Store(clients.dynamodb_table("PhotoService-test"))
    pk = f"ORG#{ORG}#EVT#{EVENT}"
    store.core.table.put_item(Item={"PK": pk, "SK": "SETTINGS", "participantCount": 3, "published": True})
    settings, _ = change_settings(store, None, "snaprace-test", None, ORG, EVENT, {"name_search": True})
    assert settings.participants is None and settings.name_search and settings.published

    store.core.table.put_item(
        Item={"PK": pk, "SK": "SETTINGS", "participants": {"11", "12"}, "published": True}
    )
    change_settings(store, None, "snaprace-test", None, ORG, EVENT, {})
    flags = store.settings.get(ORG, EVENT)
    assert "participants" not in flags and flags["participantCount"] == 2
    assert EventSettings.from_item(store.settings.get(ORG, EVENT, participants=True)).participants == {
        "11",
        "12",
    }
