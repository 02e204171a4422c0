"""A whole-event re-run as a background job (pipeline.jobs.reprocess, handlers.run_job): page by
page through the job queue into the upload queue, resumable, its progress in the job item; the
starter admits its photos like uploads. moto's S3, SQS, DynamoDB and Step Functions."""

import json

import boto3
import pytest
from conftest import BUCKET, REGION
from photos import sqs_batch

from pipeline.common import clients, keys
from pipeline.jobs import reprocess
from pipeline.store import Store

ORG, EVENT = "acme", "big-2026"
JOB = keys.job_id(1_796_000_000_000_000)


@pytest.fixture
def queues(aws, monkeypatch):
    """The upload and job queues; pages of 50 (500 deployed) so a few hundred uploads make pages."""
    from pipeline.common.config import get_config

    monkeypatch.setattr(reprocess, "PAGE_SIZE", 50)
    sqs = boto3.client("sqs", region_name=REGION)
    upload = sqs.create_queue(QueueName="image-upload-test")["QueueUrl"]
    jobs = sqs.create_queue(QueueName="snaprace-jobs-test")["QueueUrl"]
    monkeypatch.setenv("UPLOAD_QUEUE_URL", upload)
    monkeypatch.setenv("JOB_QUEUE_URL", jobs)
    get_config.cache_clear()
    return sqs, upload, jobs


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
