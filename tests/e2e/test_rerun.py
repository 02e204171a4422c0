"""A whole-event re-run on the local stack: a job in the stack, paced by the governors, and after a
change of bib settings it reads the bibs again from DetectText's kept answers and keeps the faces:
the meter, by calling function, shows no IndexFaces and no first-look DetectText call."""

import json
import urllib.request

from click.testing import CliRunner
from local_stack import next_seed

from pipeline.common import keys
from snaprace.cli import main
from snaprace.samples import Runner, race_photo

ORG = "acme"


def snaprace(running, *args: str):
    return CliRunner().invoke(main, ["--endpoint-url", running.endpoint, *args], catch_exceptions=False)


def calls_by_caller(running) -> dict[str, int]:
    with urllib.request.urlopen(f"{running.endpoint}/_snaprace/meter", timeout=5) as answer:  # noqa: S310
        return json.loads(answer.read())["requestsByCaller"]


def test_a_rerun_after_a_bib_settings_change_calls_no_index_faces_and_no_first_detect_text(
    local_stack, event_id
):
    shots = [[Runner("1234")], [Runner("2345"), Runner("9876")], [Runner("3456")]]
    raw_keys = []
    for index, runners in enumerate(shots):
        data, _ = race_photo(next_seed(), runners)
        raw_keys.append(local_stack.put(ORG, event_id, f"IMG_{index}.jpg", data))
    local_stack.wait(ORG, event_id)
    first = {key: local_stack.item(ORG, event_id, key) for key in raw_keys}
    assert [first[key]["bibs"] for key in raw_keys] == [["1234"], ["2345", "9876"], ["3456"]]
    assert all(first[key]["faceIds"] for key in raw_keys)
    before = calls_by_caller(local_stack)

    changed = snaprace(
        local_stack, "event-settings", "--org", ORG, "--event", event_id, "--bibs", "1000-2999"
    )
    assert changed.exit_code == 0, changed.output
    preview = snaprace(local_stack, "reprocess", "--org", ORG, "--event", event_id, "--json")
    cost = json.loads(preview.stdout)
    assert (cost["executions"], cost["answersKept"], cost["firstLookCalls"]) == (3, 3, 0)
    again = snaprace(local_stack, "reprocess", "--org", ORG, "--event", event_id, "--yes", "--wait")
    assert again.exit_code == 0 and "3 executions started" in again.output, again.output
    local_stack.settle(ORG, event_id)

    after = calls_by_caller(local_stack)
    made = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
    assert made.get("IndexFacesFunction:RekognitionService:IndexFaces", 0) == 0
    assert made.get("DetectTextFunction:RekognitionService:DetectText", 0) == 0
    # the second look, only on the two photos whose runner the new range left without a bib
    assert made.get("SecondLookFunction:RekognitionService:DetectText", 0) == 2, sorted(made.items())
    rerun = {key: local_stack.item(ORG, event_id, key) for key in raw_keys}
    assert [rerun[key]["bibs"] for key in raw_keys] == [["1234"], ["2345"], []]
    assert all(rerun[key]["faceIds"] == first[key]["faceIds"] for key in raw_keys)  # the same faces, kept
    assert all(
        keys.started_after(rerun[key]["executionName"], first[key]["executionName"]) for key in raw_keys
    )
    progress = json.loads(
        snaprace(local_stack, "reprocess", "--org", ORG, "--event", event_id, "--progress", "--json").stdout
    )
    assert (progress["state"], progress["enqueued"], progress["started"]) == ("enqueued", 3, 3)
