"""SecondLookFunction on the local stack with the vision engine: real OCR on the sheet it builds.

The photo is a generated 6000 x 4000 upload of 12 runners; the state is what the first look would
hand on had it missed three of their bibs, with the runners' faces as IndexFaces reports faces it
could not index (boxes only). The step reads the three, and any the first look really missed,
from the upload itself (the processed copy
is a third of its size), in one DetectText call, and puts each where it is in the photo."""

import sys

import pytest
from local_stack import ROOT

from snaprace.samples import Runner, race_photo

sys.path.insert(0, str(ROOT / "bench"))
pytest.importorskip("snaprace.local.vision", reason="the vision extra is not installed (make venv)")

from bib_accuracy import Reader  # noqa: E402

BIBS = [str(3100 + 173 * i) for i in range(12)]  # no year among them (the bib rules ignore years)
MISSED = {"3446", "3965", "4830"}


@pytest.fixture(scope="module")
def reader():
    started = Reader()
    yield started
    started.stop()


def boxes(script: dict) -> dict[str, dict]:
    return {
        t["text"]: dict(zip(("left", "top", "width", "height"), t["box"], strict=True))
        for t in script["text"]
    }


def test_the_bibs_the_first_look_missed_are_read_from_the_upload_in_one_call(reader):
    data, script = race_photo(11, [Runner(bib) for bib in BIBS], width=6000, height=4000)
    first, _, _ = reader.read("acme", "second-look", "crowd.jpg", data)
    state, found = reader.last["state"], reader.last["found"]
    assert set(first) >= MISSED
    assert state["image"]["width"] == 2048 and state["image"]["originalWidth"] == 6000
    faces = [
        {"box": dict(zip(("left", "top", "width", "height"), f["box"], strict=True))} for f in script["faces"]
    ]
    kept = [bib for bib in found["bibs"] if bib["bib"] not in MISSED]
    state["detections"] = {**found, "bibs": kept, "faces": [], "otherFaces": faces, "errors": []}
    calls = reader.stack.meter.describe()["requests"].get("RekognitionService:DetectText", 0)

    invocation = reader.stack.functions.invoke(reader.second_look, state)

    assert not invocation.error, invocation.payload
    bibs = invocation.payload
    assert reader.stack.meter.describe()["requests"]["RekognitionService:DetectText"] == calls + 1
    assert bibs[: len(kept)] == kept  # the first look's reads, untouched
    added = {bib["bib"]: bib for bib in bibs[len(kept) :]}
    assert set(added) == set(BIBS) - {bib["bib"] for bib in kept}  # and any the first look did miss
    truth = boxes(script)
    for bib, read in added.items():
        assert read["look"] == 2 and "faceId" not in read  # unindexed faces: nothing to link to
        centre = (
            read["box"]["left"] + read["box"]["width"] / 2,
            read["box"]["top"] + read["box"]["height"] / 2,
        )
        expected = truth[bib]
        assert expected["left"] <= centre[0] <= expected["left"] + expected["width"], bib
        assert expected["top"] <= centre[1] <= expected["top"] + expected["height"], bib


def test_a_photo_whose_every_face_has_its_bib_costs_no_call(reader):
    data, script = race_photo(12, [Runner(bib) for bib in BIBS[:3]], width=1600, height=1067)
    reader.read("acme", "second-look", "three.jpg", data)
    state, found = reader.last["state"], reader.last["found"]
    faces = [
        {"faceId": f"face-{i}", "box": dict(zip(("left", "top", "width", "height"), f["box"], strict=True))}
        for i, f in enumerate(script["faces"])
    ]
    state["detections"] = {**found, "faces": faces, "otherFaces": [], "errors": []}
    calls = reader.stack.meter.describe()["requests"].get("RekognitionService:DetectText", 0)
    invocation = reader.stack.functions.invoke(reader.second_look, state)
    assert invocation.payload == found["bibs"]
    assert reader.stack.meter.describe()["requests"].get("RekognitionService:DetectText", 0) == calls
