"""Faults injected into the local stack (Rekognition 5xx and throttling, DynamoDB throttling and
partial batch writes, StartExecution failures, handler timeouts): a mixed batch still ends with
every photo final and every invariant of the soak run holding."""

import json
import urllib.request

import pytest
from local_stack import start_local_stack

from snaprace import operations
from snaprace.samples import Runner, race_photo
from snaprace.soak import soak

STEPS = ("Preprocess", "DetectText", "IndexFaces", "SecondLook", "SaveResults", "RecordStatus")
HARSH = {  # higher than the soak's rates, so that every kind fires in a small batch
    "rekognition_errors": 0.15,
    "rekognition_throttles": 0.15,
    "dynamodb_throttles": 0.1,
    "dynamodb_unprocessed": 0.3,
    "start_execution_errors": 0.15,
    "function_timeouts": {f"{step}Function-dev": 0.1 for step in STEPS},
    "seed": 11,
}


@pytest.fixture(scope="module")
def faulty_stack(tmp_path_factory):
    running = start_local_stack(tmp_path_factory.mktemp("faulty-stack"))
    yield running
    running.stop()


def test_a_mixed_batch_survives_every_fault(faulty_stack):
    faulty_stack.faults(HARSH)
    report = soak(faulty_stack.stack, photos=40, seed=3, org="faults", event="mixed", timeout=240)
    assert report["violations"] == []
    assert report["missing"] == 0 and report["dlq"] == 0
    assert report["photos"] + report["deleted"] == 40
    injected = faulty_stack.faults()["injected"]
    kinds = {"rekognition_errors", "rekognition_throttles", "dynamodb_throttles", "dynamodb_unprocessed"}
    assert kinds | {"start_execution_errors"} <= set(injected), injected
    assert any(kind.startswith("timeout:") for kind in injected), injected


def test_faults_are_configured_by_name_only(faulty_stack):
    request = urllib.request.Request(  # noqa: S310
        f"{faulty_stack.endpoint}/_snaprace/faults", data=json.dumps({"disk_full": 1}).encode()
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
    assert refused.value.code == 400 and b"disk_full" in refused.value.read()


def test_a_second_look_that_keeps_failing_saves_the_first_looks_bibs(faulty_stack):
    quiet = {name: 0.0 for name in HARSH if name not in ("function_timeouts", "seed")}
    before = faulty_stack.faults()["injected"].get("timeout:SecondLookFunction-dev", 0)  # the soak's
    faulty_stack.faults({**quiet, "function_timeouts": {"SecondLookFunction-dev": 1.0}})
    try:  # one runner with a readable bib, one whose bib is hidden: a second look is due
        data, _ = race_photo(5, [Runner("4242"), Runner("4343", show_bib=False)])
        faulty_stack.put("faults", "second-look", "pair.jpg", data)
        audit = faulty_stack.wait("faults", "second-look", timeout=120)
    finally:
        injected = faulty_stack.faults({"function_timeouts": {}})["injected"]
    assert audit.as_dict()["indexed"] == 1 and not audit.as_dict()["failed"]
    (photo,) = operations.photos(faulty_stack.stack, "faults", "second-look")
    assert photo["bibs"] == ["4242"] and photo["faces"] == 2
    assert injected["timeout:SecondLookFunction-dev"] - before == 3  # the first try and 2 retries
