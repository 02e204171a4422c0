"""Corrections on the local stack: the review queue's reasons, a person's fix that lasts through
`reprocess`, `--confirm`, a re-upload that starts fresh, and a bib spread through the runner's face.

The scripted engine reads what each photo's script says; `misread` rewrites a script the way
Rekognition gets real bibs wrong (a digit misread, a low confidence, half a number)."""

import io
import json
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner
from local_stack import next_seed
from PIL import Image

from pipeline.common import keys
from snaprace import operations
from snaprace.cli import main
from snaprace.local.engines import embed_script
from snaprace.samples import Runner, race_photo

ORG = "acme"
PARTICIPANTS = ["5101", "5102", "5103", "5104"]


def snaprace(running, *args: str):
    return CliRunner().invoke(main, ["--endpoint-url", running.endpoint, *args], catch_exceptions=False)


def photo(runners: list[Runner], reads: dict[str, tuple[str, float]] | None = None) -> bytes:
    """A race photo whose bibs DetectText reads as `reads` says ({bib: (text read, confidence)})."""
    data, script = race_photo(next_seed(), runners)
    for text in script["text"]:
        text["text"], text["confidence"] = (reads or {}).get(text["text"], (text["text"], text["confidence"]))
    return embed_script(Image.open(io.BytesIO(data)), script)


@pytest.fixture(scope="module")
def event(local_stack, tmp_path_factory) -> dict[str, str]:
    """One event with a participant list; photo name -> photo id."""
    event_id = "e2e-corrections"
    participants = tmp_path_factory.mktemp("corrections") / "participants.txt"
    participants.write_text("\n".join(PARTICIPANTS) + "\n")
    settings = ("event-settings", "--org", ORG, "--event", event_id, "--participants", str(participants))
    assert snaprace(local_stack, *settings).exit_code == 0
    shots = {
        "misread.jpg": photo([Runner("5101")], {"5101": ("5104", 84.0)}),  # a wrong digit, unsure
        "turned.jpg": photo([Runner("5102", show_bib=False)]),  # a face, no bib in view
        "pair.jpg": photo([Runner("5101"), Runner("5103")]),  # both read well
        "hidden.jpg": photo([Runner("5101", show_bib=False)]),  # 5101 again, bib hidden
        "half.jpg": photo([Runner("5103")], {"5103": ("510", 97.0)}),  # half the number
        "stranger.jpg": photo([Runner("5103")], {"5103": ("7777", 97.0)}),  # not in the list
    }
    for name, data in shots.items():
        local_stack.put(ORG, event_id, name, data)
    local_stack.wait(ORG, event_id)
    return {"id": event_id, **{name: keys.photo_id_for(f"{ORG}/{event_id}/raw/{name}") for name in shots}}


def queue(running, event_id: str) -> dict[str, list[str]]:
    listed = snaprace(running, "review", "--org", ORG, "--event", event_id, "--json")
    assert listed.exit_code == 0, listed.output
    return {p["photoId"]: [r["reason"] for r in p["reasons"]] for p in json.loads(listed.stdout)["photos"]}


def tag(running, event_id: str, photo_id: str, *args: str) -> dict:
    tagged = snaprace(running, "tag", "--org", ORG, "--event", event_id, "--photo", photo_id, "--json", *args)
    assert tagged.exit_code == 0, tagged.output
    return json.loads(tagged.stdout)


def bibs_of(running, event_id: str, photo_id: str) -> list[str]:
    return sorted(running.stack.photo_table.photos.get(ORG, event_id, photo_id)["bibs"])


def found_by_bib(running, event_id: str, bib: str) -> dict[str, str]:
    return {p["photoId"]: p["matchedBy"] for p in operations.photos(running.stack, ORG, event_id, bib=bib)}


def reprocess(running, event_id: str, *args: str) -> None:
    again = snaprace(running, "reprocess", "--org", ORG, "--event", event_id, "--yes", "--wait", *args)
    assert again.exit_code == 0 and "executions started" in again.output, again.output
    running.settle(ORG, event_id)


def test_the_queue_lists_uncertain_photos_with_their_reasons_most_useful_first(local_stack, event):
    listed = queue(local_stack, event["id"])
    assert listed == {
        event["half.jpg"]: ["faces-no-bib", "partial"],
        event["stranger.jpg"]: ["faces-no-bib", "outside-event"],
        event["misread.jpg"]: ["low-confidence"],
        event["turned.jpg"]: ["faces-no-bib"],
        event["hidden.jpg"]: ["faces-no-bib"],
    }  # pair.jpg: two bibs read surely, each linked to its runner's face
    assert list(listed)[-1] == event["misread.jpg"]  # a face over no bib comes before a doubtful read
    shown = snaprace(local_stack, "review", "--org", ORG, "--event", event["id"]).output
    assert "half.jpg" in shown and "participant's bib (half hidden?): 510" in shown


def test_a_correction_answers_at_once_and_survives_reprocess(local_stack, event):
    misread = event["misread.jpg"]
    wrong = found_by_bib(local_stack, event["id"], "5104")  # the wrong read, and 5101's face elsewhere
    assert wrong[misread] == "bib" and set(wrong.values()) == {"bib", "face"}
    fixed = tag(local_stack, event["id"], misread, "--remove", "5104", "--add", "5101")
    assert fixed["bibs"] == ["5101"] and fixed["linkedToFace"] == "5101"
    assert found_by_bib(local_stack, event["id"], "5101")[misread] == "corrected"
    assert found_by_bib(local_stack, event["id"], "5104") == {}  # no read of it left, so no face either
    assert misread not in queue(local_stack, event["id"])

    before = local_stack.stack.photo_table.photos.get(ORG, event["id"], misread)["executionName"]
    reprocess(local_stack, event["id"], "--photo", misread)
    after = local_stack.stack.photo_table.photos.get(ORG, event["id"], misread)["executionName"]
    assert after != before  # a new run wrote the photo
    assert bibs_of(local_stack, event["id"], misread) == ["5101"]  # the removed read stays removed
    assert found_by_bib(local_stack, event["id"], "5104") == {}
    assert found_by_bib(local_stack, event["id"], "5101")[misread] == "corrected"
    assert misread not in queue(local_stack, event["id"])
    record = local_stack.stack.photo_table.corrections.get(ORG, event["id"], misread)
    assert [change["remove"] for change in record["history"]] == [["5104"]]
    assert record["added"]["5101"]["by"].startswith("operator ")


def test_confirm_takes_a_photo_out_of_the_queue_for_good(local_stack, event):
    turned = event["turned.jpg"]
    assert turned in queue(local_stack, event["id"])
    confirmed = tag(local_stack, event["id"], turned, "--confirm")
    assert confirmed["bibs"] == []
    assert turned not in queue(local_stack, event["id"])
    reprocess(local_stack, event["id"], "--photo", turned)
    assert turned not in queue(local_stack, event["id"])


def test_a_bib_spreads_to_the_runners_other_photos_by_face_and_nowhere_else(local_stack, event):
    hidden, pair, turned = event["hidden.jpg"], event["pair.jpg"], event["turned.jpg"]
    spread = tag(local_stack, event["id"], event["misread.jpg"], "--add", "5101", "--face", "1", "--spread")
    assert [(s["photoId"], s["bib"]) for s in spread["spread"]] == [(hidden, "5101")]  # pair has it already
    assert all(s["similarity"] >= 95 for s in spread["spread"])
    assert bibs_of(local_stack, event["id"], hidden) == ["5101"]
    assert bibs_of(local_stack, event["id"], pair) == ["5101", "5103"]
    assert bibs_of(local_stack, event["id"], turned) == []  # another runner's face
    assert found_by_bib(local_stack, event["id"], "5101")[hidden] == "corrected"
    record = local_stack.stack.photo_table.corrections.get(ORG, event["id"], hidden)
    assert record["added"]["5101"]["source"] == f"spread:{event['misread.jpg']}"


def test_a_reupload_of_new_content_drops_the_corrections_and_says_so(local_stack, event):
    stranger = event["stranger.jpg"]
    tag(local_stack, event["id"], stranger, "--remove", "7777", "--add", "5103")
    assert bibs_of(local_stack, event["id"], stranger) == ["5103"]
    local_stack.put(ORG, event["id"], "stranger.jpg", photo([Runner("5102")], {"5102": ("7777", 97.0)}))
    local_stack.wait(ORG, event["id"])
    assert bibs_of(local_stack, event["id"], stranger) == []  # new content: the machine's reads only
    assert queue(local_stack, event["id"])[stranger] == ["faces-no-bib", "reuploaded", "outside-event"]
    again = tag(local_stack, event["id"], stranger, "--add", "5102")
    assert again["earlierCorrectionsDropped"] is True and again["bibs"] == ["5102"]


def test_bad_corrections_are_refused_with_the_fix(local_stack, event):
    def refused(*args: str) -> str:
        result = snaprace(local_stack, "tag", "--org", ORG, "--event", event["id"], *args)
        assert result.exit_code == 1
        return result.output

    assert "no photo 0123456789abcdef01234567" in refused("--photo", "0123456789abcdef01234567", "--confirm")
    assert "say what to change" in refused("--photo", event["pair.jpg"])
    assert "added and removed at once" in refused("--photo", event["pair.jpg"], "--add", "1", "--remove", "1")
    assert "is not a bib number" in refused("--photo", event["pair.jpg"], "--add", "12-34!")
    assert "the photo has 2 faces" in refused("--photo", event["pair.jpg"], "--add", "5104", "--face", "3")
    by_key = snaprace(
        local_stack,
        "tag",
        "--org",
        ORG,
        "--event",
        event["id"],
        "--photo",
        f"{ORG}/{event['id']}/raw/pair.jpg",
        "--confirm",
    )
    assert by_key.exit_code == 0 and event["pair.jpg"] in by_key.output


def api(running, path: str, key: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - the local stack
        running.stack.output("ApiUrl") + path,
        method="POST" if body is not None else "GET",
        data=None if body is None else json.dumps(body).encode(),
        headers={"x-api-key": key, "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local stack
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_an_organisers_page_drives_the_queue_and_corrections_through_the_api(local_stack, event):
    """The organiser API (OrganiserApiFunction, under its own IAM role on the local stack) runs
    the code the commands run; another org's key opens nothing."""

    def key_for(org: str) -> str:
        made = snaprace(local_stack, "org-key", "create", "--org", org, "--json")
        return json.loads(made.stdout.strip().splitlines()[-1])["key"]

    acme, rival = key_for(ORG), key_for("rival")
    path = f"/orgs/{ORG}/events/{event['id']}"
    status, listed = api(local_stack, f"{path}/review?limit=100", acme)
    assert status == 200 and [p["photoId"] for p in listed["photos"]] == list(queue(local_stack, event["id"]))
    half = event["half.jpg"]
    assert any("half hidden" in why for p in listed["photos"] if p["photoId"] == half for why in p["why"])
    status, fixed = api(local_stack, f"{path}/photos/{half}/corrections", acme, {"add": ["5103"]})
    assert status == 200 and fixed["bibs"] == ["5103"] and fixed["linkedToFace"] == "5103"
    record = local_stack.stack.photo_table.corrections.get(ORG, event["id"], half)
    assert record["added"]["5103"]["by"].startswith(f"organiser {ORG} key ")
    assert half not in [p["photoId"] for p in api(local_stack, f"{path}/review", acme)[1]["photos"]]

    assert api(local_stack, f"{path}/review", rival)[0] == 403
    assert api(local_stack, f"{path}/photos/{half}/corrections", rival, {"confirm": True})[0] == 403
    for body, message in (
        ({"add": "5103"}, "lists of bib numbers"),
        ({"add": ["5103"], "face": 9}, "the photo has 1 faces"),
        ({"delete": True}, "some of"),
        ({}, "say what to change"),
    ):
        status, answer = api(local_stack, f"{path}/photos/{half}/corrections", acme, body)
        assert status == 400 and message in answer["message"], answer
    status, answer = api(local_stack, f"{path}/photos/not-a-photo/corrections", acme, {"confirm": True})
    assert status == 400 and "photoId" in answer["message"]
    # the session's end checks that no role of the template was refused anything (tests/conftest.py)
