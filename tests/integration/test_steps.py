"""Each step's handler against moto (S3, DynamoDB, Step Functions) with Rekognition answering in
its real response shapes through botocore's Stubber (which also checks every request against the
API model). Assertions are on what ends up in the bucket and the table."""

import io
import json

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.stub import Stubber
from conftest import BUCKET, REGION, ROOT, TABLE
from photos import face_record, photo, s3_eventbridge_event, sqs_batch, text_detection, unindexed_face

from pipeline.common import clients, keys
from pipeline.common.errors import InvalidImage, PhotoSuperseded
from pipeline.store import Store

RAW_KEY = "acme/seoul-2026/raw/IMG_0001.JPG"
COLLECTION = "snaprace-test.acme.seoul-2026"


@pytest.fixture
def s3(aws):
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def table(aws):
    return Store(boto3.resource("dynamodb", region_name=REGION).Table(TABLE))


@pytest.fixture
def rekognition(aws):
    """Stub the client the handlers use; every queued response must be consumed."""
    with Stubber(clients.rekognition()) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def upload(s3, key=RAW_KEY, body=None, **extra) -> dict:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body or photo(3000, 2000), **extra)
    head = s3.head_object(Bucket=BUCKET, Key=key)
    etag = head["ETag"].strip('"')
    photo_id = keys.photo_id_for(key)
    name = keys.execution_name(photo_id, etag, "0061")
    org, event = keys.parse_raw_key(key).org_id, keys.parse_raw_key(key).event_id
    return {
        "action": "process",
        "executionName": name,
        "photo": {
            "bucket": BUCKET,
            "rawKey": key,
            "etag": etag,
            "versionId": head["VersionId"],
            "orgId": org,
            "eventId": event,
            "photoId": photo_id,
        },
    }


def object_exists(s3, key) -> bool:
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=key)["KeyCount"] > 0


def run_steps(state, context, rekognition, words, faces, *, collection_exists=True):
    """Preprocess -> DetectText and IndexFaces -> SaveResults, as the state machine chains them."""
    from pipeline.handlers import detect_text, index_faces, preprocess, save_results

    state = {**state, "image": preprocess.lambda_handler(state, context)}
    # the requests Rekognition must get: the processed photo in S3, the event's collection
    image = {"S3Object": {"Bucket": BUCKET, "Name": state["image"]["processedKey"]}}
    index_request = {
        "CollectionId": COLLECTION,
        "Image": image,
        "ExternalImageId": state["photo"]["photoId"],
        "MaxFaces": 100,
        "QualityFilter": "AUTO",
        "DetectionAttributes": ["DEFAULT"],
    }
    rekognition.add_response("detect_text", {"TextDetections": words}, {"Image": image})
    text = detect_text.lambda_handler(state, context)
    if not collection_exists:
        rekognition.add_client_error(
            "index_faces", "ResourceNotFoundException", http_status_code=400, expected_params=index_request
        )
        rekognition.add_response(
            "create_collection",
            {"StatusCode": 200, "CollectionArn": "arn", "FaceModelVersion": "7.0"},
            {"CollectionId": COLLECTION},
        )
    rekognition.add_response(
        "index_faces",
        {"FaceRecords": faces, "UnindexedFaces": [unindexed_face()], "FaceModelVersion": "7.0"},
        index_request,
    )
    indexed = index_faces.lambda_handler(state, context)
    state["detections"] = detections_of(text, indexed)
    state["result"] = save_results.lambda_handler(state, context)
    return state


def detections_of(text: dict, indexed: dict) -> dict:
    """What the Analyse state's ResultSelector makes of its two branches."""
    return {
        "bibs": text["bibs"],
        "doubtful": text["doubtful"],
        "settings": text["settings"],
        "faces": indexed["faces"],
        "otherFaces": indexed["otherFaces"],
        "facesIndexed": indexed["indexed"],
        "errors": [],
    }


def test_a_rerun_of_the_same_content_calls_neither_detect_text_nor_index_faces(
    s3, table, rekognition, context
):
    """A re-run after a change of bib settings reads the bibs again from the kept answer and keeps
    the faces it indexed (the Stubber fails any call not queued); once its faces were deleted (face
    search off, an erasure), a re-run indexes them again."""
    from pipeline.events.settings import EventSettings
    from pipeline.handlers import detect_text, index_faces, save_results
    from pipeline.processing import reading

    state = upload(s3)
    photo_id = state["photo"]["photoId"]
    words = [
        text_detection("2008", left=0.1, top=0.6, height=0.05),
        text_detection("1234", left=0.5, top=0.6, height=0.05),
    ]
    first = run_steps(state, context, rekognition, words, [face_record(photo_id)], collection_exists=False)
    before = table.photos.get("acme", "seoul-2026", photo_id)
    assert before["bibs"] == ["1234"] and before["facesIndexed"] is True
    assert len(before["otherFaceBoxes"]) == 1  # the face IndexFaces left out, for the second look

    table.settings.put("acme", "seoul-2026", EventSettings(bib_range=(2000, 3000)).to_item())
    reading.event_settings.clear()  # as if a minute had passed
    rerun = {**first, "executionName": keys.execution_name(photo_id, state["photo"]["etag"], "0071")}
    text, indexed = detect_text.lambda_handler(rerun, context), index_faces.lambda_handler(rerun, context)
    rekognition.assert_no_pending_responses()
    assert [bib["bib"] for bib in text["bibs"]] == ["2008"]
    assert [face["faceId"] for face in indexed["faces"]] == before["faceIds"]
    assert len(indexed["otherFaces"]) == 1
    rerun["detections"] = detections_of(text, indexed)
    assert save_results.lambda_handler(rerun, context)["status"] == "INDEXED"
    after = table.photos.get("acme", "seoul-2026", photo_id)
    assert after["bibs"] == ["2008"] and after["faceIds"] == before["faceIds"]  # the faces were not deleted
    assert after["faceBoxes"] == before["faceBoxes"] and after["facesIndexed"] is True

    holding, _ = table.faces.page_holding_faces("acme", "seoul-2026", "PHOTO#", 100)
    assert table.faces.scrub(holding) == 1  # face search off: the faces went
    assert "facesIndexed" not in table.photos.get("acme", "seoul-2026", photo_id)
    rekognition.add_response(
        "index_faces",
        {"FaceRecords": [face_record(photo_id)], "UnindexedFaces": [], "FaceModelVersion": "7.0"},
    )
    again = {**rerun, "executionName": keys.execution_name(photo_id, state["photo"]["etag"], "0081")}
    assert len(index_faces.lambda_handler(again, context)["faces"]) == 1  # indexed again
    rekognition.assert_no_pending_responses()


def test_photo_ends_indexed_with_bibs_and_faces(s3, table, rekognition, context):
    state = upload(s3, Metadata={"photographer": "Kim\x07 Photo"})
    photo_id = state["photo"]["photoId"]
    words = [text_detection("1234", left=0.4, top=0.6, height=0.05), text_detection("FINISH", top=0.1)]
    faces = [face_record(photo_id)]
    state = run_steps(state, context, rekognition, words, faces, collection_exists=False)

    assert state["result"] == {"status": "INDEXED", "bibs": 1, "faces": 1}
    item = table.photos.get("acme", "seoul-2026", photo_id)
    assert item["status"] == "INDEXED" and item["bibs"] == ["1234"]
    assert item["faceIds"] == [faces[0]["Face"]["FaceId"]]
    assert (item["width"], item["height"], item["photographer"]) == (2048, 1365, "Kim Photo")
    (bib_item,) = table.bibs.photos_with("acme", "seoul-2026", "1234")
    assert bib_item["photoId"] == photo_id
    assert bib_item["faceId"] == faces[0]["Face"]["FaceId"]  # the bib sits under that face: linked
    assert table.bibs.photos_with("other-org", "seoul-2026", "1234") == []
    processed = s3.get_object(Bucket=BUCKET, Key=item["processedKey"])
    assert processed["ContentType"] == "image/jpeg"
    assert object_exists(s3, item["thumbnailKey"])
    tags = s3.get_object_tagging(Bucket=BUCKET, Key=RAW_KEY)["TagSet"]
    assert {"Key": "snaprace-class", "Value": "raw"} in tags


def test_reupload_replaces_old_bibs_and_faces(s3, table, rekognition, context):
    first = upload(s3)
    photo_id = first["photo"]["photoId"]
    old_face = face_record(photo_id)
    run_steps(first, context, rekognition, [text_detection("1234")], [old_face])

    second = upload(s3, body=photo(2400, 1600))
    assert second["photo"]["etag"] != first["photo"]["etag"]
    new_face = face_record(photo_id)
    rekognition_delete = {"CollectionId": COLLECTION, "FaceIds": [old_face["Face"]["FaceId"]]}
    rekognition.add_response("detect_text", {"TextDetections": [text_detection("5678")]})
    rekognition.add_response("index_faces", {"FaceRecords": [new_face], "UnindexedFaces": []})
    rekognition.add_response(
        "delete_faces", {"DeletedFaces": [old_face["Face"]["FaceId"]]}, rekognition_delete
    )
    from pipeline.handlers import detect_text, index_faces, preprocess, save_results

    second["image"] = preprocess.lambda_handler(second, context)
    bibs = detect_text.lambda_handler(second, context)["bibs"]
    faces = index_faces.lambda_handler(second, context)["faces"]
    second["detections"] = {"bibs": bibs, "faces": faces, "errors": []}
    save_results.lambda_handler(second, context)

    item = table.photos.get("acme", "seoul-2026", photo_id)
    assert item["bibs"] == ["5678"] and item["faceIds"] == [new_face["Face"]["FaceId"]]
    assert table.bibs.photos_with("acme", "seoul-2026", "1234") == []
    assert len(table.bibs.photos_with("acme", "seoul-2026", "5678")) == 1
    assert item["createdAt"] <= item["updatedAt"]


def test_invalid_upload_is_rejected_with_its_reason_and_nothing_derived(s3, table, context):
    from pipeline.handlers import preprocess, record_status

    state = upload(s3, body=photo(1200, 900)[:3000])
    with pytest.raises(InvalidImage) as raised:
        preprocess.lambda_handler(state, context)
    cause = {"errorMessage": raised.value.reason, "errorType": "InvalidImage", "stackTrace": []}
    state["error"] = {"Error": "InvalidImage", "Cause": json.dumps(cause)}
    assert record_status.lambda_handler(state, context)["status"] == "REJECTED"

    item = table.photos.get("acme", "seoul-2026", state["photo"]["photoId"])
    assert (item["status"], item["reason"]) == ("REJECTED", "JPEG image data is truncated or corrupt")
    assert item["bibs"] == [] and item["faceIds"] == []
    assert not object_exists(s3, "acme/seoul-2026/processed/")


def test_unsupported_type_is_recorded_as_rejected(s3, table, context):
    from pipeline.handlers import record_status

    state = upload(s3, key="acme/seoul-2026/raw/notes.txt", body=b"shot list")
    state.update(
        action="reject", reason="unsupported file type .txt: upload .jpg, .jpeg, .png, .heic or .heif"
    )
    record_status.lambda_handler(state, context)
    item = table.photos.get("acme", "seoul-2026", state["photo"]["photoId"])
    assert item["status"] == "REJECTED" and item["reason"].startswith("unsupported file type .txt")


def test_failure_after_indexing_deletes_the_faces_of_that_run(s3, table, rekognition, context):
    from pipeline.handlers import record_status

    state = upload(s3)
    run_face = face_record(state["photo"]["photoId"])["Face"]
    state["detections"] = {
        "bibs": [],
        "faces": [{"faceId": run_face["FaceId"], "confidence": 99.0, "box": {}}],
        "errors": [
            {
                "Error": "RekognitionThrottled",
                "Cause": json.dumps({"errorMessage": "Rekognition DetectText throttled"}),
            }
        ],
    }
    rekognition.add_response(
        "delete_faces",
        {"DeletedFaces": [run_face["FaceId"]]},
        {"CollectionId": COLLECTION, "FaceIds": [run_face["FaceId"]]},
    )
    assert record_status.lambda_handler(state, context)["status"] == "FAILED"
    item = table.photos.get("acme", "seoul-2026", state["photo"]["photoId"])
    assert item["reason"] == "RekognitionThrottled: Rekognition DetectText throttled"
    assert item["faceIds"] == []


def test_deleted_upload_is_removed_everywhere(s3, table, rekognition, context):
    from pipeline.handlers import delete_photo

    state = upload(s3)
    face = face_record(state["photo"]["photoId"])
    run_steps(state, context, rekognition, [text_detection("1234")], [face])
    s3.delete_object(Bucket=BUCKET, Key=RAW_KEY)
    rekognition.add_response(
        "delete_faces",
        {"DeletedFaces": [face["Face"]["FaceId"]]},
        {"CollectionId": COLLECTION, "FaceIds": [face["Face"]["FaceId"]]},
    )

    assert delete_photo.lambda_handler({**state, "action": "delete"}, context) == {"deleted": True}
    assert table.photos.get("acme", "seoul-2026", state["photo"]["photoId"]) is None
    assert table.bibs.photos_with("acme", "seoul-2026", "1234") == []
    assert not object_exists(s3, "acme/seoul-2026/processed/")
    assert not object_exists(s3, "acme/seoul-2026/thumbnails/")


def test_deletion_keeps_a_photo_uploaded_again_since(s3, table, rekognition, context):
    from pipeline.handlers import delete_photo

    state = upload(s3)
    run_steps(state, context, rekognition, [], [])
    assert delete_photo.lambda_handler({**state, "action": "delete"}, context) == {"deleted": False}
    assert table.photos.get("acme", "seoul-2026", state["photo"]["photoId"])["status"] == "INDEXED"


def test_run_for_a_replaced_upload_writes_nothing_and_drops_its_faces(s3, table, rekognition, context):
    from pipeline.handlers import save_results

    stale = upload(s3)
    stale["image"] = {"processedKey": "x", "thumbnailKey": "y", "width": 100, "height": 100}
    upload(s3, body=photo(900, 600))  # a newer upload of the same key
    face_id = face_record("p")["Face"]["FaceId"]
    stale["detections"] = {
        "bibs": [],
        "faces": [{"faceId": face_id, "confidence": 99.0, "box": {}}],
        "errors": [],
    }
    rekognition.add_response(
        "delete_faces", {"DeletedFaces": [face_id]}, {"CollectionId": COLLECTION, "FaceIds": [face_id]}
    )
    assert save_results.lambda_handler(stale, context)["status"] == "SUPERSEDED"
    assert table.photos.get("acme", "seoul-2026", stale["photo"]["photoId"]) is None


def test_preprocess_of_a_deleted_or_replaced_upload_is_superseded(s3, context):
    from pipeline.handlers import preprocess

    state = upload(s3)
    upload(s3, body=photo(900, 600))
    with pytest.raises(PhotoSuperseded):
        preprocess.lambda_handler(state, context)
    s3.delete_object(Bucket=BUCKET, Key=RAW_KEY)
    with pytest.raises(PhotoSuperseded):
        preprocess.lambda_handler(state, context)


def test_oversized_upload_is_rejected_with_its_size(s3, context):
    from pipeline.handlers import preprocess

    oversized = photo(3000, 2000) + b"\0" * (15 * 1024 * 1024)  # a camera's trailing data, say
    state = upload(s3, body=oversized)
    with pytest.raises(InvalidImage, match=r"^file is 15.[0-9] MB; the limit is 15 MB$"):
        preprocess.lambda_handler(state, context)


class PartlyUnprocessed:
    """A table whose first BatchWriteItem call holds back half the writes, as DynamoDB does under load."""

    def __init__(self, table):
        self.name, self._table, self.calls = table.name, table, 0
        self.meta = self

    @property
    def client(self):
        return self

    def batch_write_item(self, RequestItems):
        self.calls += 1
        requests = RequestItems[self.name]
        held = requests[len(requests) // 2 :] if self.calls == 1 else []
        sent = requests[: len(requests) - len(held)]
        self._table.meta.client.batch_write_item(RequestItems={self.name: sent})
        return {"UnprocessedItems": {self.name: held} if held else {}}


def test_unprocessed_batch_items_are_written_after_backoff(table):
    flaky = PartlyUnprocessed(table.table)
    waits = []
    writer = Store(flaky, sleep=waits.append)
    bibs = [{"bib": str(1000 + n), "confidence": 99.0, "box": {}} for n in range(30)]
    writer.photos.replace(
        {"orgId": "acme", "eventId": "e1", "photoId": "p1", "status": "INDEXED"}, bibs, None
    )
    assert flaky.calls == 3 and len(waits) == 1  # 31 writes: 25 (13 held back, resent) + 6
    assert len(table.bibs.photos_with("acme", "e1", "1029")) == 1
    assert sum(len(table.bibs.photos_with("acme", "e1", b["bib"])) for b in bibs) == 30


# ------------------------------------------------------------------ the starter
@pytest.fixture
def state_machine(aws):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name="image-processing-test",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    return sfn, arn


def test_starter_starts_one_execution_per_photo_and_ignores_duplicates(state_machine, context, monkeypatch):
    sfn, arn = state_machine
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    from pipeline.handlers import start_processing

    created = s3_eventbridge_event(BUCKET, "acme/e1/raw/IMG+1.jpg")
    # the key could be "IMG 1.jpg" (encoded) or "IMG+1.jpg" (as written): the starter asks S3
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key="acme/e1/raw/IMG 1.jpg", Body=b"x")
    batch = sqs_batch(
        created,
        created,  # EventBridge delivered the same event twice
        s3_eventbridge_event(BUCKET, "raw/acme/e1/IMG_2.PNG", sequencer="0062"),
        s3_eventbridge_event(BUCKET, "acme/e1/raw/readme.txt", sequencer="0063"),
        s3_eventbridge_event(BUCKET, "acme/E1/raw/IMG_3.jpg", sequencer="0064"),  # invalid event id: dropped
        {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET},
    )
    assert start_processing.lambda_handler(batch, context) == {"batchItemFailures": []}

    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    inputs = {
        json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])["photo"][
            "rawKey"
        ]: json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])["action"]
        for e in executions
    }
    assert inputs == {
        "acme/e1/raw/IMG 1.jpg": "process",
        "raw/acme/e1/IMG_2.PNG": "process",
        "acme/e1/raw/readme.txt": "reject",
    }


def test_starter_reports_only_the_failed_messages(state_machine, context, monkeypatch):
    sfn, arn = state_machine
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    from pipeline.handlers import start_processing

    batch = sqs_batch(
        s3_eventbridge_event(BUCKET, "acme/e1/raw/a.jpg"), "{not json", {"detail-type": "Object Created"}
    )
    failures = start_processing.lambda_handler(batch, context)["batchItemFailures"]
    assert [f["itemIdentifier"] for f in failures] == [
        batch["Records"][1]["messageId"],
        batch["Records"][2]["messageId"],
    ]
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


@pytest.fixture
def turns(aws, monkeypatch):
    """The governors on, on a clock that moves only when someone sleeps; 9.9 s of DetectText turns
    already booked (the second look's, a search's)."""
    from pipeline.common import governor
    from pipeline.common.config import get_config

    now = [1_796_000_000.0]
    monkeypatch.setattr(governor, "clock", lambda: now[0])
    monkeypatch.setattr(governor, "sleep", lambda seconds: now.__setitem__(0, now[0] + seconds))
    monkeypatch.setenv("QUOTA_TABLE_NAME", "SnapRaceQuotas-test")
    monkeypatch.setenv("REKOGNITION_QUOTAS", "DetectText=10,IndexFaces=10")
    get_config.cache_clear()
    for _ in range(96):  # 9.9 s
        governor.stack_governor().take("DetectText", wait=60)
    get_config.cache_clear()  # the test sets more of the environment
    return now


def test_starter_leaves_photos_whose_turn_is_beyond_its_time_in_the_queue(
    state_machine, context, monkeypatch, turns
):
    """9.9 s of turns booked ahead, 5 s left in the invocation (3 s of them kept for the end): no
    photo can be admitted in time, each goes back to the queue (no turn booked, no Rekognition
    attempt); a rejection never waits for a turn. With more time, the next one starts, with the
    turns it booked in its input."""
    sfn, arn = state_machine
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    from pipeline.handlers import start_processing

    monkeypatch.setattr(context, "get_remaining_time_in_millis", lambda: 5_000)
    batch = sqs_batch(
        *(s3_eventbridge_event(BUCKET, f"acme/e1/raw/{n}.jpg", sequencer=f"006{n}") for n in range(3)),
        s3_eventbridge_event(BUCKET, "acme/e1/raw/notes.txt", sequencer="0069"),
    )
    failures = start_processing.lambda_handler(batch, context)["batchItemFailures"]

    assert [f["itemIdentifier"] for f in failures] == [r["messageId"] for r in batch["Records"][:3]]
    inputs = [
        json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])
        for e in sfn.list_executions(stateMachineArn=arn)["executions"]
    ]
    assert [i["photo"]["rawKey"] for i in inputs] == ["acme/e1/raw/notes.txt"]

    monkeypatch.setattr(context, "get_remaining_time_in_millis", lambda: 30_000)
    began = turns[0]
    again = sqs_batch(s3_eventbridge_event(BUCKET, "acme/e1/raw/0.jpg", sequencer="0060"))
    assert start_processing.lambda_handler(again, context)["batchItemFailures"] == []
    (started,) = [
        json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])
        for e in sfn.list_executions(stateMachineArn=arn)["executions"]
        if e["name"] != inputs[0]["executionName"]
    ]
    # its DetectText turn is the first free one, 9.9 s on; it started LEAD seconds before it
    assert started["turns"]["DetectText"] == pytest.approx(began + 96 / 9.7, abs=1e-3)
    assert started["turns"]["IndexFaces"] >= started["turns"]["DetectText"]
    assert turns[0] == pytest.approx(started["turns"]["DetectText"] - 3.0, abs=1e-3)


def test_authorizer_accepts_only_the_key_in_secrets_manager(aws, context, monkeypatch):
    from pipeline.handlers import api_authorizer

    event = json.loads((ROOT / "events" / "api_authorizer.json").read_text())
    monkeypatch.setenv("API_KEY_SECRET_NAME", "test/image-rekognition/api-key")
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="test/image-rekognition/api-key", SecretString=event["headers"]["x-api-key"]
    )
    operator = {"isAuthorized": True, "context": {"role": "operator", "org": "", "keyId": ""}}
    assert api_authorizer.lambda_handler(event, context) == operator
    event["headers"]["x-api-key"] = "dev-key-exampld"
    assert api_authorizer.lambda_handler(event, context) == {"isAuthorized": False}
    del event["headers"]["x-api-key"]
    assert api_authorizer.lambda_handler(event, context) == {"isAuthorized": False}


def test_authorizer_passes_an_organisers_org_on_and_refuses_a_revoked_key(table, context, monkeypatch):
    from pipeline.access import org_keys as access
    from pipeline.handlers import api_authorizer

    event = json.loads((ROOT / "events" / "api_authorizer.json").read_text())
    monkeypatch.setenv("API_KEY_SECRET_NAME", "test/image-rekognition/api-key")
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="test/image-rekognition/api-key", SecretString="the-operators-key"
    )
    key = access.new_org_key("acme")
    table.org_keys.put("acme", key.key_id, key.secret_hash, "2026-12-01T05:00:00+00:00")
    event["headers"]["x-api-key"] = key.key
    assert api_authorizer.lambda_handler(event, context) == {
        "isAuthorized": True,
        "context": {"role": "organiser", "org": "acme", "keyId": key.key_id},
    }
    assert table.org_keys.revoke("acme", key.key_id, "2026-12-01T06:00:00+00:00")
    assert api_authorizer.lambda_handler(event, context) == {"isAuthorized": False}


@pytest.mark.parametrize(
    "code, status",
    [("ProvisionedThroughputExceededException", 400), ("InternalServerError", 500)],
)
def test_search_api_answers_503_with_retry_after_when_rekognition_is_throttled_or_failing(
    rekognition, context, code, status
):
    from pipeline.handlers import api

    event = json.loads((ROOT / "events" / "api_selfie.json").read_text())
    rekognition.add_client_error("search_faces_by_image", code, http_status_code=status)
    response = api.lambda_handler(event, context)
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "2"
    assert "try again" in json.loads(response["body"])["message"]


def test_faces_of_an_index_faces_answer_lost_to_a_timeout_are_deleted_when_the_run_ends(
    s3, table, rekognition, context
):
    """Lambda timed out after IndexFaces had indexed: the state machine runs the step again, which
    indexes the faces again; the first faces must not stay in the collection with no photo."""
    from pipeline.handlers import index_faces, preprocess, save_results

    state = upload(s3)
    photo_id = state["photo"]["photoId"]
    state["image"] = preprocess.lambda_handler(state, context)
    lost, kept = face_record(photo_id), face_record(photo_id)
    for record in (lost, kept):
        rekognition.add_response("index_faces", {"FaceRecords": [record], "FaceModelVersion": "7.0"})
    index_faces.lambda_handler(state, context)  # its answer never reaches the state machine
    answer = index_faces.lambda_handler(state, context)  # the retry
    assert [face["faceId"] for face in answer["faces"]] == [kept["Face"]["FaceId"]]
    lost_id = lost["Face"]["FaceId"]
    rekognition.add_response(
        "delete_faces", {"DeletedFaces": [lost_id]}, {"CollectionId": COLLECTION, "FaceIds": [lost_id]}
    )
    state["detections"] = {"bibs": [], "faces": answer["faces"], "errors": []}
    assert save_results.lambda_handler(state, context)["status"] == "INDEXED"
    assert table.photos.get("acme", "seoul-2026", photo_id)["faceIds"] == [kept["Face"]["FaceId"]]
    assert table.runs.of_photo("acme", "seoul-2026", photo_id) == {}  # the note is gone too


def test_a_stale_run_of_the_same_content_never_overwrites_a_later_ones_result(
    s3, table, rekognition, context
):
    """Duplicate events run twice; when the earlier event's run saves last (a retried step), the
    later run's result stays and the earlier run's faces go."""
    from pipeline.handlers import index_faces, preprocess, save_results

    earlier = upload(s3)
    photo_id, etag = earlier["photo"]["photoId"], earlier["photo"]["etag"]
    later = {**earlier, "executionName": keys.execution_name(photo_id, etag, "0062")}
    image = preprocess.lambda_handler(earlier, context)
    runs = {}
    for name, state in (("earlier", earlier), ("later", later)):
        record = face_record(photo_id)
        rekognition.add_response("index_faces", {"FaceRecords": [record], "FaceModelVersion": "7.0"})
        answer = index_faces.lambda_handler({**state, "image": image}, context)
        runs[name] = {
            **state,
            "image": image,
            "detections": {"bibs": [], "faces": answer["faces"], "errors": []},
        }
    stale_face = runs["earlier"]["detections"]["faces"][0]["faceId"]
    for _ in range(2):  # the later run's end removes the earlier run's noted face; the earlier run again
        rekognition.add_response(
            "delete_faces",
            {"DeletedFaces": [stale_face]},
            {"CollectionId": COLLECTION, "FaceIds": [stale_face]},
        )
    assert save_results.lambda_handler(runs["later"], context)["status"] == "INDEXED"
    assert (
        table.runs.of_photo("acme", "seoul-2026", photo_id) == {}
    )  # the earlier run's note went with its face
    assert save_results.lambda_handler(runs["earlier"], context)["status"] == "SUPERSEDED"
    item = table.photos.get("acme", "seoul-2026", photo_id)
    assert item["executionName"] == later["executionName"]
    assert item["faceIds"] == [runs["later"]["detections"]["faces"][0]["faceId"]]


def test_a_run_clears_the_notes_a_dead_earlier_run_left(s3, table, rekognition, context):
    """A run died after IndexFaces (its RecordFailure could not write either): its note and faces
    stay, and the photo is not done. The operator's reprocess ends with both gone."""
    from pipeline.handlers import index_faces, preprocess, save_results

    state = upload(s3)
    photo_id = state["photo"]["photoId"]
    image = preprocess.lambda_handler(state, context)
    dead = face_record(photo_id)
    rekognition.add_response("index_faces", {"FaceRecords": [dead], "FaceModelVersion": "7.0"})
    index_faces.lambda_handler({**state, "image": image}, context)  # then the run died
    assert set(table.runs.of_photo("acme", "seoul-2026", photo_id)) == {state["executionName"]}

    reprocess = {**state, "executionName": keys.execution_name(photo_id, state["photo"]["etag"], "R0001")}
    kept = face_record(photo_id)
    rekognition.add_response("index_faces", {"FaceRecords": [kept], "FaceModelVersion": "7.0"})
    answer = index_faces.lambda_handler({**reprocess, "image": image}, context)
    dead_id = dead["Face"]["FaceId"]
    rekognition.add_response(
        "delete_faces", {"DeletedFaces": [dead_id]}, {"CollectionId": COLLECTION, "FaceIds": [dead_id]}
    )
    reprocess.update(image=image, detections={"bibs": [], "faces": answer["faces"], "errors": []})
    assert save_results.lambda_handler(reprocess, context)["status"] == "INDEXED"
    assert table.runs.of_photo("acme", "seoul-2026", photo_id) == {}
    assert table.photos.get("acme", "seoul-2026", photo_id)["faceIds"] == [kept["Face"]["FaceId"]]


def test_runs_are_ordered_by_their_event():
    assert keys.started_after("p-e-00617F08299329D18A", "p-e-00617F08299329D189")
    assert keys.started_after("p-e-R0000001795820000000", "p-e-00617F08299329D189")  # reprocess
    assert not keys.started_after("p-e-0061", "p-e-0061")
    assert keys.started_after("p-e-0062", "p-e-00619")  # right-padded before comparing


def test_a_run_of_an_earlier_upload_of_the_same_content_is_superseded(s3, table, rekognition, context):
    """The same file uploaded twice: two versions, two events. Only the run of the current version
    may write; the earlier one stops, even though its ETag still matches."""
    from pipeline.handlers import preprocess, save_results

    body = photo(1200, 800)
    earlier = upload(s3, body=body)
    image = preprocess.lambda_handler(earlier, context)
    later = upload(s3, body=body)
    assert later["photo"]["etag"] == earlier["photo"]["etag"]
    with pytest.raises(PhotoSuperseded, match="uploaded again"):
        preprocess.lambda_handler(earlier, context)
    face_id = face_record("p")["Face"]["FaceId"]
    earlier = {
        **earlier,
        "image": image,
        "detections": {
            "bibs": [],
            "faces": [{"faceId": face_id, "confidence": 99.0, "box": {}}],
            "errors": [],
        },
    }
    rekognition.add_response(
        "delete_faces", {"DeletedFaces": [face_id]}, {"CollectionId": COLLECTION, "FaceIds": [face_id]}
    )
    assert save_results.lambda_handler(earlier, context)["status"] == "SUPERSEDED"
    assert table.photos.get("acme", "seoul-2026", earlier["photo"]["photoId"]) is None
    assert object_exists(s3, image["processedKey"])  # the later run's photo is left alone


def test_a_failure_record_that_dies_half_way_never_leaves_an_indexed_photo_without_its_photo(
    s3, table, rekognition, context, monkeypatch
):
    """SaveResults stored INDEXED, then the run failed and RecordFailure died after deleting the
    faces: the item already says FAILED and the note still names the faces; the retry finishes."""
    from pipeline.common import clients
    from pipeline.handlers import record_status

    state = upload(s3)
    photo_id = state["photo"]["photoId"]
    face = face_record(photo_id)
    state = run_steps(state, context, rekognition, [text_detection("1234")], [face])
    face_id = face["Face"]["FaceId"]
    failed = {**state, "error": {"Error": "States.Timeout", "Cause": "step timed out"}}
    for _ in range(2):  # the attempt that dies, and its retry
        rekognition.add_response(
            "delete_faces", {"DeletedFaces": [face_id]}, {"CollectionId": COLLECTION, "FaceIds": [face_id]}
        )

    def dies(**_request):
        raise RuntimeError("the function died here")

    monkeypatch.setattr(clients.s3(), "delete_objects", dies)  # the step after the faces' deletion
    with pytest.raises(RuntimeError, match="died here"):
        record_status.lambda_handler(failed, context)
    item = table.photos.get("acme", "seoul-2026", photo_id)
    assert item["status"] == "FAILED" and item["faceIds"] == [] and "galleryKey" not in item
    assert table.bibs.photos_with("acme", "seoul-2026", "1234") == []
    assert table.runs.of_photo("acme", "seoul-2026", photo_id) == {state["executionName"]: {face_id}}

    monkeypatch.undo()
    assert record_status.lambda_handler(failed, context)["status"] == "FAILED"
    assert table.runs.of_photo("acme", "seoul-2026", photo_id) == {}
    image = state["image"]
    assert not object_exists(s3, image["processedKey"]) and not object_exists(s3, image["thumbnailKey"])


def test_the_events_bib_settings_decide_which_numbers_are_bibs(s3, table, rekognition, context):
    """DetectText is called once for this content: its answer is kept, and every later run reads
    the bibs from it under the settings of the moment (the Stubber fails any call not queued).
    A fresh run calls again."""
    from pipeline.events.settings import EventSettings
    from pipeline.handlers import detect_text, preprocess
    from pipeline.processing import reading

    state = upload(s3)
    state = {**state, "image": preprocess.lambda_handler(state, context)}
    words = [
        text_detection("2008", left=0.1, top=0.6, height=0.05),  # a year, or bib 2008?
        text_detection("1234", left=0.5, top=0.6, height=0.05),
        text_detection("9876", left=0.8, top=0.6, height=0.05),
    ]

    def bibs_read(**run) -> list[str]:
        reading.event_settings.clear()  # as if a minute had passed
        return sorted(bib["bib"] for bib in detect_text.lambda_handler({**state, **run}, context)["bibs"])

    rekognition.add_response("detect_text", {"TextDetections": words})
    assert bibs_read() == ["1234", "9876"]  # no settings: years are not bibs
    table.settings.put("acme", "seoul-2026", EventSettings(bib_range=(1, 3000)).to_item())
    assert bibs_read() == ["1234", "2008"]
    table.settings.put(
        "acme", "seoul-2026", EventSettings(participants=frozenset({"9876", "2008"})).to_item()
    )
    assert bibs_read() == ["2008", "9876"]
    table.settings.put("other-org", "seoul-2026", EventSettings(bib_range=(1, 10)).to_item())
    assert bibs_read() == ["2008", "9876"]  # another organiser's settings never apply
    table.settings.put("acme", "seoul-2026", {})
    assert bibs_read() == ["1234", "9876"]
    rekognition.assert_no_pending_responses()

    rekognition.add_response("detect_text", {"TextDetections": words[1:]})
    assert bibs_read(fresh=True) == ["1234", "9876"]  # called again, and its answer kept
    rekognition.assert_no_pending_responses()
    assert [
        w["DetectedText"]
        for w in table.photos.text_read(
            "acme", "seoul-2026", state["photo"]["photoId"], state["photo"]["etag"]
        )
    ] == ["1234", "9876"]
    assert table.photos.text_read("acme", "seoul-2026", state["photo"]["photoId"], "another-content") is None


def test_a_duplicate_of_a_running_execution_is_counted_as_a_duplicate(state_machine, context, monkeypatch):
    """A running Standard execution answers a start with the same name and input with 200 (not
    ExecutionAlreadyExists): its startDate, older than the request, tells the duplicate apart."""
    import time
    from datetime import timedelta

    sfn, arn = state_machine
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    from pipeline.handlers import start_processing
    from pipeline.processing import uploads

    counted = []
    monkeypatch.setattr(start_processing.metrics, "add_metric", lambda name, **_: counted.append(name))
    monkeypatch.setattr(uploads, "DUPLICATE_CLOCK_SLACK", timedelta(milliseconds=20))
    created = s3_eventbridge_event(BUCKET, "acme/e1/raw/IMG_1.jpg")
    assert start_processing.lambda_handler(sqs_batch(created), context) == {"batchItemFailures": []}
    time.sleep(0.1)
    assert start_processing.lambda_handler(sqs_batch(created), context) == {"batchItemFailures": []}
    (execution,) = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert execution["status"] == "RUNNING"
    assert [c for c in counted if c in ("ExecutionsStarted", "DuplicateEvents")] == [
        "ExecutionsStarted",
        "DuplicateEvents",
    ]


def test_a_record_deferred_by_pacing_comes_back_when_its_turn_is_due(
    state_machine, context, monkeypatch, turns
):
    """Not after the queue's whole visibility timeout (180 s): the starter shortens it to the wait
    (9.9 s of turns booked, a photo is booked LEAD + HORIZON = 5 s ahead: back in 4.9 s, rounded up).
    The queue's clock is the test's: moto's SQS reads the time through unix_time_millis."""
    import time

    from moto.sqs import models as moto_sqs

    sfn, arn = state_machine
    queue_now = [time.time()]  # starts now (moto checks retention on the real clock), then moves by hand
    monkeypatch.setattr(moto_sqs, "unix_time_millis", lambda: queue_now[0] * 1000)
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="image-upload-test", Attributes={"VisibilityTimeout": "180"})[
        "QueueUrl"
    ]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    monkeypatch.setenv("UPLOAD_QUEUE_URL", queue_url)
    from pipeline.handlers import start_processing

    monkeypatch.setattr(context, "get_remaining_time_in_millis", lambda: 5_000)  # 2 s after the margin
    sqs.send_message(
        QueueUrl=queue_url, MessageBody=json.dumps(s3_eventbridge_event(BUCKET, "acme/e1/raw/a.jpg"))
    )
    (message,) = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    batch = sqs_batch(json.loads(message["Body"]))
    batch["Records"][0]["receiptHandle"] = message["ReceiptHandle"]

    with pytest.raises(BatchProcessingError):  # Powertools fails the invocation when every record failed
        start_processing.lambda_handler(batch, context)
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages") is None  # still in flight now
    queue_now[0] += 4.9
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages") is None  # not before its turn
    queue_now[0] += 0.2
    (again,) = sqs.receive_message(QueueUrl=queue_url)["Messages"]  # 5 s on, not 180
    assert again["Body"] == message["Body"]


def test_a_refused_request_is_logged_by_its_route_never_its_path_key_or_address(
    aws, context, monkeypatch, capsys
):
    from pipeline.handlers import api_authorizer

    event = json.loads((ROOT / "events" / "api_authorizer.json").read_text())
    monkeypatch.setenv("API_KEY_SECRET_NAME", "test/image-rekognition/api-key")
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="test/image-rekognition/api-key", SecretString="the-operators-key"
    )
    event["routeKey"] = "GET /orgs/{orgId}/events/{eventId}/bibs/{bib}/photos"
    event["rawPath"] = event["requestContext"]["http"]["path"] = (
        "/orgs/acme/events/seoul-marathon-2026/bibs/40417/photos"
    )
    event["headers"]["x-api-key"] = "snr.acme.guessed.not-a-secret-we-issued"
    written = io.StringIO()  # what CloudWatch would receive: the function's JSON log lines
    previous = api_authorizer.logger.registered_handler.setStream(written)
    try:
        assert api_authorizer.lambda_handler(event, context) == {"isAuthorized": False}
    finally:
        api_authorizer.logger.registered_handler.setStream(previous)
    logged = written.getvalue()
    lines = [json.loads(line) for line in logged.splitlines()]
    assert [line["routeKey"] for line in lines] == ["GET /orgs/{orgId}/events/{eventId}/bibs/{bib}/photos"]
    for secret in ("40417", "seoul-marathon-2026", "not-a-secret-we-issued", "203.0.113.7"):
        assert secret not in logged
