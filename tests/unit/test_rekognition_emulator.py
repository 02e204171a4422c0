"""The Rekognition emulator answers like Rekognition: validation, limits, shapes and errors."""

import base64
import io
import json

import pytest
from PIL import Image

from snaprace.local.engines import ScriptedEngine, embed_script
from snaprace.local.rekognition import RekognitionEmulator, RekognitionError, Throttle
from snaprace.samples import Runner, race_photo

REGION, ACCOUNT = "ap-northeast-2", "123456789012"
COLLECTION = "snaprace-dev.acme.seoul-2026"


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def objects():
    return {}


@pytest.fixture
def emulator(objects):
    return RekognitionEmulator(
        ScriptedEngine(), lambda bucket, key, version: objects.get((bucket, key)), REGION, ACCOUNT
    )


def image_bytes(data: bytes) -> dict:
    return {"Bytes": base64.b64encode(data).decode()}


def error_of(call) -> RekognitionError:
    with pytest.raises(RekognitionError) as caught:
        call()
    return caught.value


def test_collection_lifecycle_and_errors(emulator):
    created = emulator.handle("CreateCollection", {"CollectionId": COLLECTION})
    assert created["StatusCode"] == 200
    assert created["CollectionArn"].endswith(f":collection/{COLLECTION}")
    again = error_of(lambda: emulator.handle("CreateCollection", {"CollectionId": COLLECTION}))
    assert again.code == "ResourceAlreadyExistsException"
    assert emulator.handle("DescribeCollection", {"CollectionId": COLLECTION})["FaceCount"] == 0
    assert emulator.handle("ListCollections", {})["CollectionIds"] == [COLLECTION]
    assert emulator.handle("DeleteCollection", {"CollectionId": COLLECTION}) == {"StatusCode": 200}
    gone = error_of(lambda: emulator.handle("DescribeCollection", {"CollectionId": COLLECTION}))
    assert gone.code == "ResourceNotFoundException"
    bad = error_of(lambda: emulator.handle("CreateCollection", {"CollectionId": "acme/seoul"}))
    assert bad.code == "ValidationException"


def test_index_faces_stores_the_faces_the_photo_shows(emulator):
    emulator.handle("CreateCollection", {"CollectionId": COLLECTION})
    data, script = race_photo(1, [Runner("101"), Runner("202")])
    response = emulator.handle(
        "IndexFaces",
        {
            "CollectionId": COLLECTION,
            "Image": image_bytes(data),
            "ExternalImageId": "photo1",
            "MaxFaces": 100,
        },
    )
    records = response["FaceRecords"]
    assert len(records) == 2
    assert {r["Face"]["ExternalImageId"] for r in records} == {"photo1"}
    boxes = sorted(r["Face"]["BoundingBox"]["Left"] for r in records)
    assert boxes == sorted(face["box"][0] for face in script["faces"])
    listed = emulator.handle("ListFaces", {"CollectionId": COLLECTION})["Faces"]
    assert {f["FaceId"] for f in listed} == {r["Face"]["FaceId"] for r in records}


def test_index_faces_leaves_out_faces_over_max_faces_and_low_quality(emulator):
    emulator.handle("CreateCollection", {"CollectionId": COLLECTION})
    image = Image.new("RGB", (1000, 800), (90, 120, 150))
    script = {
        "faces": [
            {"person": "a", "box": [0.1, 0.1, 0.2, 0.25]},
            {"person": "b", "box": [0.4, 0.1, 0.1, 0.12]},
            {"person": "c", "box": [0.7, 0.1, 0.1, 0.12], "sharpness": 5},
            {"person": "d", "box": [0.9, 0.9, 0.02, 0.02]},
        ]
    }
    data = embed_script(image, script)
    response = emulator.handle(
        "IndexFaces", {"CollectionId": COLLECTION, "Image": image_bytes(data), "MaxFaces": 1}
    )
    assert len(response["FaceRecords"]) == 1
    assert response["FaceRecords"][0]["Face"]["BoundingBox"]["Width"] == 0.2  # the largest face first
    reasons = sorted(tuple(u["Reasons"]) for u in response["UnindexedFaces"])
    assert reasons == [("EXCEEDS_MAX_FACES",), ("LOW_SHARPNESS",), ("SMALL_BOUNDING_BOX",)]


def test_image_checks(emulator, objects):
    emulator.handle("CreateCollection", {"CollectionId": COLLECTION})
    tiny = io.BytesIO()
    Image.new("RGB", (79, 200)).save(tiny, "JPEG")
    assert error_of(lambda: emulator.handle("DetectText", {"Image": image_bytes(tiny.getvalue())})).code == (
        "InvalidParameterException"
    )
    gif = io.BytesIO()
    Image.new("RGB", (200, 200)).save(gif, "GIF")
    assert error_of(lambda: emulator.handle("DetectText", {"Image": image_bytes(gif.getvalue())})).code == (
        "InvalidImageFormatException"
    )
    assert error_of(lambda: emulator.handle("DetectText", {"Image": image_bytes(b"<html>")})).code == (
        "InvalidImageFormatException"
    )
    huge = b"\xff\xd8" + b"0" * (5 * 1024 * 1024)
    assert error_of(lambda: emulator.handle("DetectText", {"Image": image_bytes(huge)})).code == (
        "ImageTooLargeException"
    )
    missing = {"S3Object": {"Bucket": "b", "Name": "nothing.jpg"}}
    assert (
        error_of(lambda: emulator.handle("DetectText", {"Image": missing})).code == "InvalidS3ObjectException"
    )
    both = {"Bytes": "", "S3Object": {"Bucket": "b", "Name": "k"}}
    assert (
        error_of(lambda: emulator.handle("DetectText", {"Image": both})).code == "InvalidParameterException"
    )


def test_detect_text_lines_and_words_reads_s3_objects(emulator, objects):
    data, _ = race_photo(2, [Runner("4321")])
    objects[("bucket", "raw/photo.jpg")] = data
    response = emulator.handle(
        "DetectText", {"Image": {"S3Object": {"Bucket": "bucket", "Name": "raw/photo.jpg"}}}
    )
    detections = response["TextDetections"]
    assert [(d["Type"], d["DetectedText"]) for d in detections] == [("LINE", "4321"), ("WORD", "4321")]
    word = detections[1]
    assert word["ParentId"] == detections[0]["Id"]
    assert set(word["Geometry"]) == {"BoundingBox", "Polygon"}
    assert 0 < word["Confidence"] <= 100


def test_detect_text_returns_at_most_100_words(emulator):
    lines = [
        {"text": " ".join(f"w{line}{i}" for i in range(7)), "box": [0.0, line / 20, 0.9, 0.04]}
        for line in range(20)
    ]
    data = embed_script(Image.new("RGB", (800, 800), (200, 200, 200)), {"text": lines})
    detections = emulator.handle("DetectText", {"Image": image_bytes(data)})["TextDetections"]
    words = [d for d in detections if d["Type"] == "WORD"]
    assert len(words) == 98  # 14 whole lines of 7; a 15th would pass 100
    assert len([d for d in detections if d["Type"] == "LINE"]) == 14


def test_searches_match_the_same_person_only(emulator):
    emulator.handle("CreateCollection", {"CollectionId": COLLECTION})
    for seed, bibs in ((1, ["11", "22"]), (2, ["11"]), (3, ["33"])):
        data, _ = race_photo(seed, [Runner(b) for b in bibs])
        emulator.handle(
            "IndexFaces",
            {"CollectionId": COLLECTION, "Image": image_bytes(data), "ExternalImageId": f"p{seed}"},
        )
    from snaprace.samples import selfie

    found = emulator.handle(
        "SearchFacesByImage",
        {"CollectionId": COLLECTION, "Image": image_bytes(selfie("11")), "FaceMatchThreshold": 90},
    )
    assert sorted(m["Face"]["ExternalImageId"] for m in found["FaceMatches"]) == ["p1", "p2"]
    assert all(m["Similarity"] >= 99 for m in found["FaceMatches"])
    face_id = found["FaceMatches"][0]["Face"]["FaceId"]
    by_face = emulator.handle("SearchFaces", {"CollectionId": COLLECTION, "FaceId": face_id})
    assert len(by_face["FaceMatches"]) == 1 and by_face["SearchedFaceId"] == face_id
    nobody = embed_script(Image.new("RGB", (300, 300)), {"faces": []})
    no_face = error_of(
        lambda: emulator.handle(
            "SearchFacesByImage", {"CollectionId": COLLECTION, "Image": image_bytes(nobody)}
        )
    )
    assert no_face.code == "InvalidParameterException"
    threshold = error_of(
        lambda: emulator.handle(
            "SearchFaces", {"CollectionId": COLLECTION, "FaceId": face_id, "FaceMatchThreshold": 101}
        )
    )
    assert threshold.code == "InvalidParameterException"


def test_delete_faces_reports_unknown_faces(emulator):
    emulator.handle("CreateCollection", {"CollectionId": COLLECTION})
    data, _ = race_photo(4, [Runner("44")])
    (record,) = emulator.handle("IndexFaces", {"CollectionId": COLLECTION, "Image": image_bytes(data)})[
        "FaceRecords"
    ]
    face_id = record["Face"]["FaceId"]
    unknown = "00000000-0000-0000-0000-000000000000"
    response = emulator.handle("DeleteFaces", {"CollectionId": COLLECTION, "FaceIds": [face_id, unknown]})
    assert response["DeletedFaces"] == [face_id]
    assert response["UnsuccessfulFaceDeletions"] == [{"FaceId": unknown, "Reasons": ["FACE_NOT_FOUND"]}]
    assert emulator.handle("DescribeCollection", {"CollectionId": COLLECTION})["FaceCount"] == 0


def test_scripted_failure_is_answered_as_that_error(emulator):
    data, _ = race_photo(5, [Runner("55")], fail={"DetectText": "InternalServerError"})
    failure = error_of(lambda: emulator.handle("DetectText", {"Image": image_bytes(data)}))
    assert (failure.code, failure.status) == ("InternalServerError", 500)


def test_throttle_is_a_token_bucket_of_one_seconds_calls():
    """A quota of 2 a second: a full bucket takes 2 calls at once, then one call per 0.5 s refill;
    never calls aligned to a second's window (3 calls 0.1 s apart across a second's edge throttle)."""
    clock = Clock()
    clock.now = 0.95
    throttle = Throttle(2, clock)
    assert [throttle.admit("DetectText") for _ in range(3)] == [True, True, False]
    assert throttle.admit("IndexFaces")  # each operation has its own quota
    clock.now += 0.1  # a new second began, but only 0.2 of a call has refilled
    assert not throttle.admit("DetectText")
    clock.now += 0.4  # 0.5 s since the bucket emptied: one call
    assert throttle.admit("DetectText")
    assert not throttle.admit("DetectText")
    clock.now += 10  # refilled to its capacity, not beyond
    assert [throttle.admit("DetectText") for _ in range(3)] == [True, True, False]
    assert throttle.throttled == {"DetectText": 4}


def test_calls_spaced_at_the_quota_are_never_throttled():
    clock = Clock()
    throttle = Throttle(3, clock)
    admitted = []
    for _ in range(300):  # 100 s at exactly the quota's rate
        admitted.append(throttle.admit("DetectText"))
        clock.now += 1 / 3
    assert all(admitted)


def test_throttled_call_is_provisioned_throughput_exceeded(objects):
    emulator = RekognitionEmulator(ScriptedEngine(), lambda *a: None, REGION, ACCOUNT, tps=1)
    emulator.handle("ListCollections", {})
    assert (
        error_of(lambda: emulator.handle("ListCollections", {})).code
        == "ProvisionedThroughputExceededException"
    )


def test_responses_are_json(emulator):
    data, _ = race_photo(6, [Runner("66")])
    json.dumps(emulator.handle("DetectFaces", {"Image": image_bytes(data)}))


def test_the_engine_looks_at_one_image_per_slot_and_each_call_counts_its_wait(objects):
    """A call that finds every engine slot taken waits for one (this machine's cores stand in for
    AWS's compute) and reports the wait as engine time, which the local Lambda runtime leaves out
    of the calling function's Duration (snaprace.local.functions.count_engine_time)."""
    import threading

    seen: list[str] = []

    class Recording(ScriptedEngine):
        def see(self, data, what=("text", "faces")):
            seen.append("seen")
            return super().see(data, what)

    emulator = RekognitionEmulator(Recording(), lambda *_: None, REGION, ACCOUNT, engine_slots=1)
    data, _ = race_photo(7, [Runner("123")])
    spent: list[float] = []

    def call():
        emulator.handle("DetectText", {"Image": image_bytes(data)})
        spent.append(emulator.engine_seconds())

    emulator.engine_slots.acquire()  # another call is using the one slot
    caller = threading.Thread(target=call)
    caller.start()
    seen.append("released")
    emulator.engine_slots.release()
    caller.join(timeout=60)
    assert seen == ["released", "seen"] and len(spent) == 1 and spent[0] > 0
    emulator.handle("ListCollections", {})
    assert emulator.engine_seconds() == 0.0  # a call that used no engine


def test_the_local_runtime_adds_up_each_invocations_engine_time_from_the_answers():
    import botocore.session

    from snaprace.local import functions
    from snaprace.local.rekognition import ENGINE_MS_HEADER

    session = botocore.session.get_session()
    functions.count_engine_time(session)
    answer = type("Answer", (), {"headers": {ENGINE_MS_HEADER: "1250"}})()
    functions.current.engine_ms = 0.0
    session.emit("after-call.rekognition.DetectText", http_response=answer, parsed={}, model=None)
    session.emit("after-call.rekognition.IndexFaces", http_response=answer, parsed={}, model=None)
    session.emit("after-call.s3.GetObject", http_response=answer, parsed={}, model=None)
    assert functions.current.engine_ms == 2500.0
    del functions.current.engine_ms


def test_a_stopping_stack_takes_every_engine_slot_and_starts_no_engine_call(objects):
    emulator = RekognitionEmulator(ScriptedEngine(), lambda *_: None, REGION, ACCOUNT, engine_slots=2)
    assert emulator.quiesce(timeout=5) is True
    assert emulator.engine_slots.acquire(blocking=False) is False
    data, _ = race_photo(8, [Runner("124")])
    refused = error_of(lambda: emulator.handle("DetectText", {"Image": image_bytes(data)}))
    assert (refused.code, refused.status) == ("ServiceUnavailableException", 503)


def test_a_call_that_fails_after_the_engine_looked_reports_the_engines_time(objects):
    """A selfie with no face: the engine looked, then the call is refused; its time is the
    engine's all the same (the server sends it on the error answer too)."""
    emulator = RekognitionEmulator(ScriptedEngine(), lambda *_: None, REGION, ACCOUNT)
    emulator.handle("CreateCollection", {"CollectionId": COLLECTION})
    data, _ = race_photo(9, [])  # nobody in it
    request = {"CollectionId": COLLECTION, "Image": image_bytes(data)}
    refused = error_of(lambda: emulator.handle("SearchFacesByImage", request))
    assert refused.code == "InvalidParameterException" and emulator.engine_seconds() > 0
