"""`snaprace local up --engine vision`: the pipeline reads real numbers with a real OCR model, and
the second look reads the bibs the first look missed. The photos are generated ones (no script is
consulted: the vision engine only looks at pixels)."""

import json
import subprocess
import sys
import urllib.request

import pytest
from local_stack import ROOT, next_seed, start_local_stack

from snaprace import operations
from snaprace.samples import Runner, race_photo

pytest.importorskip("snaprace.local.vision", reason="the vision extra is not installed (make venv)")


@pytest.fixture(scope="module")
def vision_stack(tmp_path_factory):
    running = start_local_stack(tmp_path_factory.mktemp("vision"), "--engine", "vision")
    yield running
    running.stop()


def test_bibs_are_read_from_the_pixels(vision_stack):
    photos = {"a.jpg": ["2718", "314"], "b.jpg": ["1618"], "c.jpg": ["2718"]}
    for name, bibs in photos.items():
        data, _ = race_photo(next_seed(), [Runner(b) for b in bibs])
        vision_stack.put("acme", "vision-run", name, data)
    audit = vision_stack.wait("acme", "vision-run", timeout=120)
    assert audit.as_dict()["indexed"] == len(photos)
    indexed = operations.photos(vision_stack.stack, "acme", "vision-run")
    assert {p["rawKey"].rsplit("/", 1)[-1]: sorted(p["bibs"]) for p in indexed} == {
        name: sorted(bibs) for name, bibs in photos.items()
    }
    assert all(p["faces"] == 0 for p in indexed)  # drawn heads are not faces to a real detector
    found = operations.photos(vision_stack.stack, "acme", "vision-run", bib="2718")
    assert sorted(p["rawKey"].rsplit("/", 1)[-1] for p in found) == ["a.jpg", "c.jpg"]
    assert vision_stack.health()["engine"] == "vision"


BIBS = [str(3100 + 173 * i) for i in range(12)]  # no year among them (the bib rules ignore years)
MISSED = {"3446", "3965", "4830"}


def test_the_second_look_reads_what_the_first_missed_from_the_upload_in_one_call(vision_stack, tmp_path):
    """A generated 6000 x 4000 upload of 12 runners through Preprocess and DetectText (`snaprace
    invoke`, each in its own process); then SecondLook with the state the first look would hand on
    had it missed three bibs, the runners' faces given as faces IndexFaces could not index (boxes
    only: the engine finds no face in a drawn head). It reads the three, and any the first look
    really missed, from the upload itself (the processed copy is a third of its size), in one
    DetectText call, and puts each where it is in the photo."""
    fixture = json.loads((ROOT / "events" / "second_look.json").read_text())
    bucket, key = fixture["photo"]["bucket"], fixture["photo"]["rawKey"]
    data, script = race_photo(11, [Runner(bib) for bib in BIBS], width=6000, height=4000)
    s3 = vision_stack.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    state = {key: fixture[key] for key in ("action", "executionName", "photo")}
    state["photo"]["etag"] = s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')

    def invoke(function: str) -> dict | list:
        event_file = tmp_path / f"{function}.json"
        event_file.write_text(json.dumps(state))
        run = subprocess.run(  # noqa: S603 - its own process: invoke sets the function's environment
            [
                sys.executable,
                "-m",
                "snaprace",
                "--endpoint-url",
                vision_stack.endpoint,
                "invoke",
                function,
                "--event",
                str(event_file),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    state["image"] = invoke("preprocess")
    assert (state["image"]["width"], state["image"]["originalWidth"]) == (2048, 6000)
    found = invoke("detect-text")
    assert {bib["bib"] for bib in found["bibs"]} >= MISSED  # what the first look really read
    kept = [bib for bib in found["bibs"] if bib["bib"] not in MISSED]
    faces = [
        {"box": dict(zip(("left", "top", "width", "height"), f["box"], strict=True))} for f in script["faces"]
    ]
    state["detections"] = {**found, "bibs": kept, "faces": [], "otherFaces": faces, "errors": []}
    calls = meter(vision_stack)

    bibs = invoke("second-look")

    assert meter(vision_stack) == calls + 1
    assert bibs[: len(kept)] == kept  # the first look's reads, untouched
    added = {bib["bib"]: bib for bib in bibs[len(kept) :]}
    assert set(added) == set(BIBS) - {bib["bib"] for bib in kept}
    truth = {t["text"]: t["box"] for t in script["text"]}
    for bib, read in added.items():
        assert read["look"] == 2 and "faceId" not in read  # unindexed faces: nothing to link to
        left, top, width, height = truth[bib]
        centre = (
            read["box"]["left"] + read["box"]["width"] / 2,
            read["box"]["top"] + read["box"]["height"] / 2,
        )
        assert left <= centre[0] <= left + width and top <= centre[1] <= top + height, bib


def meter(running) -> int:
    """DetectText calls the stack has answered."""
    with urllib.request.urlopen(f"{running.endpoint}/_snaprace/meter", timeout=10) as answer:  # noqa: S310
        return json.loads(answer.read())["requests"].get("RekognitionService:DetectText", 0)
