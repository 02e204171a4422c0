"""Timing results on the local stack: an import refused whole, a camera's offset found among wrong
reads, a hidden-bib photo found by time, a photo outside the window left out, search by name."""

import datetime
import io
import json
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner
from local_stack import next_seed
from PIL import Image

from pipeline.common import keys
from snaprace.cli import main
from snaprace.local.engines import embed_script
from snaprace.samples import Runner, race_photo

ORG = "acme"
START = datetime.datetime(2026, 4, 12, 9, 40, 0)
CLOCK_BEHIND = 3607.0  # the north camera's clock: an hour and 7 s behind the timing system
BIBS = [str(bib) for bib in range(301, 313)]
# 20 s apart (no crowd), but for 320, 1.3 s behind 310: near enough for 310's window, too far
# to share 310's frame
PASSINGS = {bib: START + datetime.timedelta(seconds=20 * index) for index, bib in enumerate(BIBS)}
PASSINGS["320"] = PASSINGS["310"] + datetime.timedelta(seconds=1.3)


def snaprace(running, *args: str):
    return CliRunner().invoke(main, ["--endpoint-url", running.endpoint, *args], catch_exceptions=False)


def passing(bib: str, later: float = 0.0) -> datetime.datetime:
    return PASSINGS[bib] + datetime.timedelta(seconds=later)


def shot(runners: list[Runner], at: datetime.datetime, reads: dict[str, str] | None = None) -> bytes:
    """A photo the north camera took at timing-system time `at` (its EXIF time is behind)."""
    camera = at - datetime.timedelta(seconds=CLOCK_BEHIND)
    data, script = race_photo(next_seed(), runners, 800, 533, taken_at=camera.strftime("%Y:%m:%d %H:%M:%S"))
    for text in script["text"]:
        text["text"] = (reads or {}).get(text["text"], text["text"])
    return embed_script(Image.open(io.BytesIO(data)), script, exif=Image.open(io.BytesIO(data)).info["exif"])


def results_csv(path, names: dict[str, str]) -> str:
    rows = ["Bib;Timing Point;Time;Name"]
    rows += [f"{bib};10K;{moment:%H:%M:%S.%f};{names.get(bib, '')}" for bib, moment in PASSINGS.items()]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def import_results(running, event_id: str, path: str, *extra: str):
    columns = ("--checkpoint-column", "Timing Point", "--bib-column", "Bib", "--time-column", "Time")
    return snaprace(running, "timing", "import", "--org", ORG, "--event", event_id, path, *columns, *extra)


def settings(running, event_id: str) -> None:
    dated = ("--date", "2026-04-12", "--timezone", "Asia/Seoul", "--publish")
    assert snaprace(running, "event-settings", "--org", ORG, "--event", event_id, *dated).exit_code == 0


@pytest.fixture(scope="module")
def event(local_stack, tmp_path_factory) -> dict:
    event_id = "e2e-timing"
    settings(local_stack, event_id)
    photos = {f"north/{bib}.jpg": shot([Runner(bib)], passing(bib)) for bib in BIBS[:10]}
    # wrong reads: 311 read as 302, and a second 303 read on someone else a minute later
    photos["north/misread-a.jpg"] = shot([Runner("311")], passing("311"), {"311": "302"})
    photos["north/misread-b.jpg"] = shot(
        [Runner("309")], passing("309") + datetime.timedelta(seconds=9), {"309": "303"}
    )
    # 312: bib hidden, face turned away; then a photo 30 s after 312 passed, of nobody known
    photos["north/hidden.jpg"] = shot([Runner("312", show_bib=False, show_face=False)], passing("312"))
    photos["north/later.jpg"] = shot(
        [Runner("999", show_bib=False, show_face=False)], passing("312") + datetime.timedelta(seconds=30)
    )
    # 310 seen again from behind, and two seconds later face on with the bib hidden; 320 alone
    # as they came into focus, in 310's window
    photos["north/310-back.jpg"] = shot([Runner("310", show_bib=False, show_face=False)], passing("310", 0.6))
    photos["north/310-face.jpg"] = shot([Runner("310", show_bib=False)], passing("310", 2))
    photos["north/320.jpg"] = shot([Runner("320")], passing("310", 0.8))
    for name, data in photos.items():
        local_stack.put(ORG, event_id, name, data)
    local_stack.wait(ORG, event_id)
    path = results_csv(
        tmp_path_factory.mktemp("timing") / "results.csv", {"305": "Jörg Müller", "306": "Ana Lima"}
    )
    imported = import_results(local_stack, event_id, path, "--json")
    assert imported.exit_code == 0, imported.output
    placed = snaprace(
        local_stack,
        "checkpoint",
        "set",
        "--org",
        ORG,
        "--event",
        event_id,
        "--photographer",
        "north",
        "--checkpoint",
        "10K",
        "--json",
    )
    assert placed.exit_code == 0, placed.output
    ids = {name: keys.photo_id_for(f"{ORG}/{event_id}/raw/{name}") for name in photos}
    return {
        "id": event_id,
        "import": json.loads(imported.stdout),
        "cameras": json.loads(placed.stdout)["cameras"],
        **ids,
    }


def found(running, event_id: str, bib: str) -> dict[str, dict]:
    listed = snaprace(running, "photos", "--org", ORG, "--event", event_id, "--bib", bib, "--json")
    assert listed.exit_code == 0, listed.output
    return {photo["photoId"]: photo for photo in json.loads(listed.stdout)["photos"]}


def test_the_import_counts_runners_and_checkpoints(event):
    assert event["import"]["runners"] == 13
    assert event["import"]["checkpoints"] == ["10K"]
    assert event["import"]["named"] == 2


def test_the_cameras_offset_is_estimated_among_wrong_reads(event):
    (north,) = event["cameras"]
    assert north["source"] == "estimated"
    assert abs(north["offset"] - CLOCK_BEHIND) <= 1.0
    assert north["agreeingPhotos"] == 11  # the two misreads do not agree with them
    assert north["comparedReads"] == 13


def test_a_hidden_bib_photo_is_found_by_time_and_a_later_one_is_not(local_stack, event):
    mine = found(local_stack, event["id"], "312")
    assert set(mine) == {event["north/hidden.jpg"]}
    assert mine[event["north/hidden.jpg"]]["matchedBy"] == "time"
    assert abs(mine[event["north/hidden.jpg"]]["secondsFromPassing"]) <= 1.0
    # the same through the public API, under the search function's own role (CameraIndex)
    url = f"{local_stack.stack.output('ApiUrl')}/public/orgs/{ORG}/events/{event['id']}/bibs/312/photos"
    with urllib.request.urlopen(from_a_page(url), timeout=30) as response:  # noqa: S310 - the local stack
        (photo,) = json.loads(response.read())["photos"]
    assert (photo["photoId"], photo["matchedBy"]) == (event["north/hidden.jpg"], "time")


def test_time_matches_rank_after_bib_and_face_and_leave_out_another_runners_moment(local_stack, event):
    listed = snaprace(local_stack, "photos", "--org", ORG, "--event", event["id"], "--bib", "310", "--json")
    ranked = [(p["photoId"], p["matchedBy"]) for p in json.loads(listed.stdout)["photos"]]
    # 320's photo is in 310's window, but it shows 320 alone at 320's moment: left out
    assert ranked == [
        (event["north/310.jpg"], "bib"),
        (event["north/310-face.jpg"], "face"),
        (event["north/310-back.jpg"], "time"),
    ]
    assert "320.jpg" not in listed.stdout


def test_a_manual_offset_overrides_the_estimate(local_stack, event):
    args = (
        "checkpoint",
        "set",
        "--org",
        ORG,
        "--event",
        event["id"],
        "--photographer",
        "north",
        "--checkpoint",
        "10K",
    )
    wrong = snaprace(local_stack, *args, "--clock-offset", "0", "--json")
    try:
        assert wrong.exit_code == 0, wrong.output
        (north,) = json.loads(wrong.stdout)["cameras"]
        assert (north["source"], north["offset"]) == ("manual", 0.0)
        assert found(local_stack, event["id"], "312") == {}  # an hour off: nothing in the window
    finally:
        assert snaprace(local_stack, *args).exit_code == 0
    assert set(found(local_stack, event["id"], "312")) == {event["north/hidden.jpg"]}


def test_a_runner_is_found_by_name_without_accents_or_case(local_stack, event):
    listed = snaprace(
        local_stack, "photos", "--org", ORG, "--event", event["id"], "--name", "MULLER", "--json"
    )
    assert listed.exit_code == 0, listed.output
    assert [p["photoId"] for p in json.loads(listed.stdout)["photos"]] == [event["north/305.jpg"]]
    api = local_stack.stack.output("ApiUrl")
    on = ("event-settings", "--org", ORG, "--event", event["id"], "--name-search", "on")
    assert snaprace(local_stack, *on).exit_code == 0
    url = f"{api}/public/orgs/{ORG}/events/{event['id']}/runners?name=MULLER%20j%C3%B6rg"
    with urllib.request.urlopen(from_a_page(url), timeout=30) as response:  # noqa: S310 - the local stack
        assert json.loads(response.read())["runners"] == [{"bib": "305", "name": "Jörg Müller"}]
    half = f"{api}/public/orgs/{ORG}/events/{event['id']}/runners?name=j%C3%B6rg%20m"
    with urllib.request.urlopen(from_a_page(half), timeout=30) as response:  # noqa: S310 - the local stack
        assert json.loads(response.read())["runners"] == []  # the public search takes whole words
    nobody = snaprace(local_stack, "photos", "--org", ORG, "--event", event["id"], "--name", "zz")
    assert nobody.exit_code == 0 and "0 runners named 'zz'" in nobody.output
    with pytest.raises(urllib.error.HTTPError) as short:
        short_name = f"{api}/public/orgs/{ORG}/events/{event['id']}/runners?name=j"
        urllib.request.urlopen(from_a_page(short_name), timeout=30)  # noqa: S310 - the local stack
    assert short.value.code == 400


def test_a_file_with_bad_rows_is_refused_whole_and_a_reimport_replaces(local_stack, tmp_path):
    event_id = "e2e-timing-import"
    local_stack.put(ORG, event_id, "north/a.jpg", shot([Runner("301")], passing("301")))
    local_stack.wait(ORG, event_id)
    good = results_csv(tmp_path / "good.csv", {"301": "Mina Park"})
    undated = import_results(local_stack, event_id, good)
    assert undated.exit_code == 1 and "--date" in undated.output and "--timezone" in undated.output
    settings(local_stack, event_id)
    assert import_results(local_stack, event_id, good).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Bib;Timing Point;Time;Name\n301;10K;09:40:00;Mina Park\n302;10K;9h41;Jo\n12345678;10K;09:42:00;Kim\n"
    )
    refused = import_results(local_stack, event_id, str(bad))
    assert refused.exit_code == 1
    assert "2 rows refused, nothing imported" in refused.output
    assert "line 3:" in refused.output and "line 4:" in refused.output
    named = ("photos", "--org", ORG, "--event", event_id, "--name")
    assert "bib 301" in snaprace(local_stack, *named, "park").output  # the first import stands
    again = results_csv(tmp_path / "again.csv", {"301": "Mina Kim"})
    assert import_results(local_stack, event_id, again).exit_code == 0
    assert "0 runners named 'park'" in snaprace(local_stack, *named, "park").output
    assert "bib 301" in snaprace(local_stack, *named, "kim").output
    items = local_stack.stack.photo_table.core.event_items(ORG, event_id)
    timing_items = [item["SK"] for item in items if item["SK"].startswith("TIMING#")]
    assert len({sk.split("#")[1] for sk in timing_items}) == 1  # the earlier import's items are gone


def from_a_page(url: str) -> urllib.request.Request:
    """A public search as the runner page sends it (pipeline.api.web)."""
    return urllib.request.Request(url, headers={"x-snaprace-client": "test"})  # noqa: S310 - the local stack
