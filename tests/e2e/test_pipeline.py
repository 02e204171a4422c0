"""The whole flow on the local stack: S3 -> EventBridge -> SQS -> starter -> the real state machine
-> the real handlers -> DynamoDB, S3 and the Rekognition emulator."""

import io
import json
import time

from local_stack import next_seed
from photos import s3_eventbridge_event
from PIL import Image

from pipeline.common import keys
from snaprace import operations
from snaprace.samples import Runner, race_photo

ORG = "acme"


def collection_faces(running, event_id: str) -> list[dict]:
    rekognition = running.client("rekognition")
    collection = keys.collection_id("snaprace-dev", ORG, event_id)
    try:
        return rekognition.list_faces(CollectionId=collection, MaxResults=4096)["Faces"]
    except rekognition.exceptions.ResourceNotFoundException:
        return []


def derived_keys(running, event_id: str) -> set[str]:
    listed = running.client("s3").list_objects_v2(Bucket=running.stack.bucket, Prefix=f"{ORG}/{event_id}/")
    return {o["Key"] for o in listed.get("Contents", []) if "/raw/" not in o["Key"]}


def test_a_batch_is_indexed_with_its_bibs_and_faces(local_stack, event_id):
    groups = [["101"], ["102", "103"], ["101", "104"], ["105"], ["101", "102", "106"], ["107"]]
    for index, bibs in enumerate(groups):
        data, _ = race_photo(next_seed(), [Runner(b) for b in bibs])
        local_stack.put(ORG, event_id, f"IMG_{index:04d}.jpg", data)
    audit = local_stack.wait(ORG, event_id)
    assert audit.as_dict()["indexed"] == len(groups) and not audit.missing

    found = operations.photos(local_stack.stack, ORG, event_id, bib="101")
    assert sorted(p["rawKey"].rsplit("/", 1)[-1] for p in found) == [
        "IMG_0000.jpg",
        "IMG_0002.jpg",
        "IMG_0004.jpg",
    ]
    faces = collection_faces(local_stack, event_id)
    assert len(faces) == sum(len(g) for g in groups)
    photo_ids = {keys.photo_id_for(f"{ORG}/{event_id}/raw/IMG_{i:04d}.jpg") for i in range(len(groups))}
    assert {f["ExternalImageId"] for f in faces} == photo_ids
    assert len(derived_keys(local_stack, event_id)) == 2 * len(groups)  # processed photo and thumbnail each


def test_the_same_event_twice_runs_one_execution(local_stack, event_id):
    data, _ = race_photo(next_seed(), [Runner("201")])
    key = local_stack.put(ORG, event_id, "dup.jpg", data)
    local_stack.wait(ORG, event_id)
    etag = keys.normalise_etag(
        local_stack.client("s3").head_object(Bucket=local_stack.stack.bucket, Key=key)["ETag"]
    )
    # new bib settings: the same content must be read again (unchanged, the starter would keep
    # its result and start nothing: test_operator.py)
    operations.event_settings(local_stack.stack, ORG, event_id, bib_range="1-5000")
    body = s3_eventbridge_event(local_stack.stack.bucket, key, etag=etag, sequencer="00000000000000DEAD")
    sqs = local_stack.client("sqs")
    queue = local_stack.stack.output("QueueUrl")
    for _ in range(2):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(body))
    name = keys.execution_name(keys.photo_id_for(key), etag, "00000000000000DEAD")
    sfn = local_stack.client("stepfunctions")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        started = [
            e
            for e in sfn.list_executions(stateMachineArn=local_stack.stack.state_machine_arn)["executions"]
            if e["name"] == name
        ]
        if (
            started
            and attributes["ApproximateNumberOfMessages"]
            == attributes["ApproximateNumberOfMessagesNotVisible"]
            == "0"
        ):
            break
        time.sleep(0.3)
    assert len(started) == 1
    local_stack.wait(ORG, event_id)
    assert local_stack.item(ORG, event_id, key)["bibs"] == ["201"]


def test_a_reupload_replaces_the_results(local_stack, event_id):
    first, _ = race_photo(next_seed(), [Runner("301"), Runner("302")])
    key = local_stack.put(ORG, event_id, "finish.jpg", first)
    local_stack.wait(ORG, event_id)
    assert len(collection_faces(local_stack, event_id)) == 2

    second, _ = race_photo(next_seed(), [Runner("303")])
    local_stack.put(ORG, event_id, "finish.jpg", second)
    local_stack.wait(ORG, event_id)
    item = local_stack.item(ORG, event_id, key)
    assert item["bibs"] == ["303"] and item["status"] == "INDEXED"
    assert operations.photos(local_stack.stack, ORG, event_id, bib="301") == []
    assert [p["rawKey"] for p in operations.photos(local_stack.stack, ORG, event_id, bib="303")] == [key]
    faces = collection_faces(local_stack, event_id)
    assert [f["FaceId"] for f in faces] == list(item["faceIds"])  # the first upload's faces are gone


def test_deleting_a_photo_removes_everything_derived_from_it(local_stack, event_id):
    data, _ = race_photo(next_seed(), [Runner("401"), Runner("402")])
    key = local_stack.put(ORG, event_id, "gone.jpg", data)
    kept, _ = race_photo(next_seed(), [Runner("401")])
    local_stack.put(ORG, event_id, "kept.jpg", kept)
    local_stack.wait(ORG, event_id)
    assert len(collection_faces(local_stack, event_id)) == 3

    local_stack.client("s3").delete_object(Bucket=local_stack.stack.bucket, Key=key)
    deadline = time.monotonic() + 60
    while local_stack.item(ORG, event_id, key) is not None and time.monotonic() < deadline:
        time.sleep(0.3)
    assert local_stack.item(ORG, event_id, key) is None
    photo_id = keys.photo_id_for(key)
    assert all(photo_id not in k for k in derived_keys(local_stack, event_id))
    assert [f["ExternalImageId"] for f in collection_faces(local_stack, event_id)] == [
        keys.photo_id_for(f"{ORG}/{event_id}/raw/kept.jpg")
    ]
    assert [p["rawKey"] for p in operations.photos(local_stack.stack, ORG, event_id, bib="401")] == [
        f"{ORG}/{event_id}/raw/kept.jpg"
    ]
    assert not local_stack.wait(ORG, event_id).missing


def test_unreadable_uploads_are_rejected_with_their_reason(local_stack, event_id):
    data, _ = race_photo(next_seed(), [Runner("501")])
    truncated = local_stack.put(ORG, event_id, "card_error.jpg", data[: len(data) // 3])
    gif = io.BytesIO()
    Image.new("RGB", (300, 300), (0, 90, 0)).save(gif, "GIF")
    disguised = local_stack.put(ORG, event_id, "animated.jpg", gif.getvalue())
    text = local_stack.put(ORG, event_id, "notes.txt", b"not a photo")
    audit = local_stack.wait(ORG, event_id)
    assert audit.as_dict()["rejected"] == 3
    assert "truncated" in local_stack.item(ORG, event_id, truncated)["reason"]
    assert "GIF" in local_stack.item(ORG, event_id, disguised)["reason"]
    assert "unsupported file type .txt" in local_stack.item(ORG, event_id, text)["reason"]


def metric_sum(running, namespace: str, name: str, dimension: tuple[str, str]) -> float:
    stats = running.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=[{"Name": dimension[0], "Value": dimension[1]}],
        StartTime=time.time() - 3600,
        EndTime=time.time() + 60,
        Period=3600,
        Statistics=["Sum"],
    )
    return sum(point["Sum"] for point in stats["Datapoints"])


def test_a_handler_crash_ends_failed_with_the_alarm_metrics(local_stack, event_id):
    data, _ = race_photo(next_seed(), [Runner("601")], fail={"IndexFaces": "AccessDeniedException"})
    key = local_stack.put(ORG, event_id, "crash.jpg", data)
    audit = local_stack.wait(ORG, event_id)
    assert audit.as_dict()["failed"] == 1
    item = local_stack.item(ORG, event_id, key)
    assert item["status"] == "FAILED" and "AccessDenied" in item["reason"]
    assert collection_faces(local_stack, event_id) == []
    assert metric_sum(local_stack, "AWS/Lambda", "Errors", ("FunctionName", "IndexFacesFunction-dev")) >= 1
    deadline = time.monotonic() + 30  # the execution watcher publishes every few seconds
    arn = local_stack.stack.state_machine_arn
    while metric_sum(local_stack, "AWS/States", "ExecutionsFailed", ("StateMachineArn", arn)) < 1:
        assert time.monotonic() < deadline, "ExecutionsFailed never published"
        time.sleep(0.5)


def test_a_poison_message_reaches_the_dlq_after_five_receives(local_stack):
    sqs = local_stack.client("sqs")
    queue, dlq = local_stack.stack.output("QueueUrl"), local_stack.stack.output("DlqUrl")
    template_timeout = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["VisibilityTimeout"])
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "1"})  # retry in 1 s, not 3 min
    time.sleep(1.5)  # a receive already waiting took the old timeout; let the starter's long poll end
    try:
        sqs.send_message(
            QueueUrl=queue, MessageBody=json.dumps({"source": "aws.s3", "detail-type": "Bucket Created"})
        )
        deadline, moved = time.monotonic() + 90, []
        while not moved and time.monotonic() < deadline:
            moved = sqs.receive_message(
                QueueUrl=dlq, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
            ).get("Messages", [])
    finally:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes=template_timeout["Attributes"])
    assert moved, "the poison message never reached the DLQ"
    assert json.loads(moved[0]["Body"])["detail-type"] == "Bucket Created"
    assert int(moved[0]["Attributes"]["ApproximateReceiveCount"]) >= 5
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=moved[0]["ReceiptHandle"])


def test_throttled_rekognition_still_indexes_every_photo(throttled_stack, event_id):
    """At a 2 TPS quota the governors pace the calls below it, and the throttles that still come
    (another account's caller, a quota lowered under the stack) are retried: none loses a photo.
    The throttles are injected, so the test does not depend on this machine's speed."""
    throttled_stack.faults({"rekognition_throttles": 0.3, "seed": 4})
    try:
        for index in range(8):
            data, _ = race_photo(next_seed(), [Runner(str(700 + index))])
            throttled_stack.put(ORG, event_id, f"burst_{index}.jpg", data)
        audit = throttled_stack.wait(ORG, event_id, timeout=180)
    finally:
        injected = throttled_stack.faults({"rekognition_throttles": 0.0})["injected"]
    assert audit.as_dict()["indexed"] == 8 and audit.as_dict()["failed"] == 0
    assert throttled_stack.health()["rekognition"]["tps"] == 2
    assert injected.get("rekognition_throttles", 0) > 0, "no call was throttled"
    for index in range(8):
        assert operations.photos(throttled_stack.stack, ORG, event_id, bib=str(700 + index))
