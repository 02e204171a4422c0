"""The vision engine behind the Rekognition emulator: real OCR and face models, offline, in
Rekognition's shapes. Faces need real photos: those tests use RBNR set 1 and skip without it."""

import base64
import hashlib
import socket
import sys
from pathlib import Path

import pytest

from pipeline.processing.bibs import BibRules, read_bibs
from snaprace.local.engine_choice import make_engine
from snaprace.local.engines import EngineUnavailable
from snaprace.local.rekognition import RekognitionEmulator
from snaprace.samples import Runner, race_photo

vision = pytest.importorskip("snaprace.local.vision", reason="the vision extra is not installed (make venv)")

RBNR = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "rbnr-set1"
needs_rbnr = pytest.mark.skipif(not RBNR.is_dir(), reason=f"RBNR set 1 not found at {RBNR}")


@pytest.fixture(scope="module")
def engine():
    return vision.VisionEngine()


def emulator(engine, objects: dict[str, bytes] | None = None) -> RekognitionEmulator:
    objects = objects or {}
    return RekognitionEmulator(
        engine, lambda bucket, key, version: objects.get(key), "ap-northeast-2", "123456789012"
    )


def image(data: bytes) -> dict:
    return {"Image": {"Bytes": base64.b64encode(data).decode()}}


def overlap(a: dict, b: list[float]) -> float:
    """Intersection over union of a Rekognition BoundingBox and a [left, top, width, height]."""
    across = min(a["Left"] + a["Width"], b[0] + b[2]) - max(a["Left"], b[0])
    down = min(a["Top"] + a["Height"], b[1] + b[3]) - max(a["Top"], b[1])
    inter = max(across, 0) * max(down, 0)
    return inter / (a["Width"] * a["Height"] + b[2] * b[3] - inter)


def test_reads_the_numbers_printed_on_bibs_as_detect_text_does(engine):
    data, script = race_photo(61, [Runner("4821"), Runner("377"), Runner("1906")])
    response = emulator(engine).handle("DetectText", image(data))
    detections = response["TextDetections"]
    lines = {d["Id"]: d for d in detections if d["Type"] == "LINE"}
    words = [d for d in detections if d["Type"] == "WORD"]
    for declared in script["text"]:
        word = next(w for w in words if w["DetectedText"] == declared["text"])
        assert overlap(word["Geometry"]["BoundingBox"], declared["box"]) > 0.3
        assert 90 <= word["Confidence"] <= 100
        assert word["ParentId"] in lines
        assert len(word["Geometry"]["Polygon"]) == 4
        assert all(0 <= v <= 1 for v in word["Geometry"]["BoundingBox"].values())
    assert sorted(b.bib for b in read_bibs(detections, BibRules())) == ["1906", "377", "4821"]


def test_drawn_heads_are_not_faces(engine):
    data, _ = race_photo(62, [Runner("4821")])
    response = emulator(engine).handle("DetectFaces", image(data))
    assert response == {"FaceDetails": []}


def test_nothing_is_downloaded(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network use in the vision engine")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    data, _ = race_photo(63, [Runner("5150")])
    fresh = vision.VisionEngine()
    assert [line.text for line in fresh.see(data).text] == ["5150"]


def test_model_files_are_checked_before_loading(tmp_path):
    model = tmp_path / "model.onnx"
    model.write_bytes(b"not the model")
    good = hashlib.sha256(b"not the model").hexdigest()
    assert vision.checked(tmp_path, "model.onnx", good) == str(model)
    with pytest.raises(vision.ModelFileError, match="SHA-256"):
        vision.checked(tmp_path, "model.onnx", "0" * 64)
    with pytest.raises(vision.ModelFileError, match="missing"):
        vision.checked(tmp_path, "other.onnx", good)


def test_without_the_extra_the_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # import rapidocr -> ImportError
    monkeypatch.delitem(sys.modules, "snaprace.local.vision")
    with pytest.raises(EngineUnavailable, match=r"pip install -e '\.\[vision\]'"):
        make_engine("vision")


def test_similarity_calibration_points_and_order():
    to_similarity = vision.similarity_from_cosine
    assert to_similarity(-1.0) == 0.0 and to_similarity(1.0) == 100.0
    assert to_similarity(0.45) == 80.0
    assert to_similarity(0.55) == 90.0
    assert to_similarity(0.62) == 95.0
    cosines = [c / 100 for c in range(-100, 101)]
    similarities = [to_similarity(c) for c in cosines]
    assert similarities == sorted(similarities)
    assert to_similarity(2.0) == 100.0 and to_similarity(-3.0) == 0.0


# ---------------------------------------------------------------- real faces (RBNR)


@needs_rbnr
def test_index_faces_finds_the_labelled_runner_and_filters_small_faces(engine):
    scipy_io = pytest.importorskip("scipy.io")
    labels = scipy_io.loadmat(RBNR / "set1_01.JPG.mat")
    min_row, max_row, min_col, max_col = (float(v) for v in labels["facep"][0])
    width, height = 720, 480  # set1_01 is landscape
    labelled = [
        (min_col - 1) / width,
        (min_row - 1) / height,
        (max_col - min_col) / width,
        (max_row - min_row) / height,
    ]
    rekognition = emulator(engine)
    rekognition.handle("CreateCollection", {"CollectionId": "rbnr"})
    data = (RBNR / "set1_01.JPG").read_bytes()
    response = rekognition.handle(
        "IndexFaces", {"CollectionId": "rbnr", **image(data), "QualityFilter": "AUTO"}
    )
    boxes = [record["Face"]["BoundingBox"] for record in response["FaceRecords"]]
    assert max(overlap(box, labelled) for box in boxes) > 0.5
    for record in response["FaceRecords"]:
        assert 0 < record["Face"]["Confidence"] <= 100
        assert 0 <= record["FaceDetail"]["Quality"]["Sharpness"] <= 100
    small = [face for face in response["UnindexedFaces"] if "SMALL_BOUNDING_BOX" in face["Reasons"]]
    assert small, "the background runners' faces are below the quality filter"


@needs_rbnr
def test_searches_find_the_same_runner_in_another_photo_and_not_others(engine):
    # bib 2605 in set1_14 and set1_15, bib 2874 in set1_34 and set1_35, bib 663 in set1_47
    names = ("set1_14.JPG", "set1_15.JPG", "set1_34.JPG", "set1_35.JPG", "set1_47.JPG")
    objects = {name: (RBNR / name).read_bytes() for name in names}
    rekognition = emulator(engine, objects)
    rekognition.handle("CreateCollection", {"CollectionId": "rbnr"})
    indexed = {}
    for name in objects:
        response = rekognition.handle(
            "IndexFaces",
            {
                "CollectionId": "rbnr",
                "Image": {"S3Object": {"Bucket": "b", "Name": name}},
                "ExternalImageId": name,
            },
        )
        indexed[name] = response["FaceRecords"]
    selfie_like = (RBNR / "set1_13.JPG").read_bytes()  # bib 2605 again
    found = rekognition.handle(
        "SearchFacesByImage", {"CollectionId": "rbnr", **image(selfie_like), "FaceMatchThreshold": 90}
    )
    assert {match["Face"]["ExternalImageId"] for match in found["FaceMatches"]} == {
        "set1_14.JPG",
        "set1_15.JPG",
    }
    runner = max(indexed["set1_34.JPG"], key=lambda r: r["Face"]["BoundingBox"]["Width"])["Face"]["FaceId"]
    again = rekognition.handle(
        "SearchFaces", {"CollectionId": "rbnr", "FaceId": runner, "FaceMatchThreshold": 90}
    )
    assert {m["Face"]["ExternalImageId"] for m in again["FaceMatches"]} == {"set1_35.JPG"}
    assert all(m["Similarity"] <= 100 for m in again["FaceMatches"])
