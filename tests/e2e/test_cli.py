"""The snaprace command against the local stack, as an operator uses it."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from local_stack import ROOT, next_seed, start_local_stack

from snaprace import operations
from snaprace.cli import main
from snaprace.local.launch import DidNotStart, free_port, launch
from snaprace.samples import Runner, race_photo

ORG = "acme"


def snaprace(running, *args: str):
    return CliRunner().invoke(main, ["--endpoint-url", running.endpoint, *args], catch_exceptions=False)


def test_upload_wait_audit_photos(local_stack, event_id, tmp_path):
    card = tmp_path / "card1" / "DCIM"
    card.mkdir(parents=True)
    for index, bib in enumerate(("811", "812", "811")):
        data, _ = race_photo(next_seed(), [Runner(bib)])
        (card / f"IMG_{index}.jpg").write_bytes(data)
    (card / ".DS_Store").write_bytes(b"\0")

    uploaded = snaprace(local_stack, "upload", str(tmp_path / "card1"), "--org", ORG, "--event", event_id)
    assert uploaded.exit_code == 0, uploaded.output
    assert "3 uploaded, 0 already there, 0 failed" in uploaded.output
    again = snaprace(local_stack, "upload", str(tmp_path / "card1"), "--org", ORG, "--event", event_id)
    assert "0 uploaded, 3 already there" in again.output

    waited = snaprace(local_stack, "wait", "--org", ORG, "--event", event_id, "--timeout", "60", "--json")
    assert waited.exit_code == 0, waited.output
    audit = snaprace(local_stack, "audit", "--org", ORG, "--event", event_id, "--json")
    counts = json.loads(audit.stdout)
    assert audit.exit_code == 0
    assert (counts["raw"], counts["indexed"], counts["missing"]) == (3, 3, 0)

    found = snaprace(local_stack, "photos", "--org", ORG, "--event", event_id, "--bib", "#811", "--json")
    photos = json.loads(found.stdout)["photos"]
    assert sorted(p["rawKey"] for p in photos) == [
        f"{ORG}/{event_id}/raw/DCIM/IMG_0.jpg",
        f"{ORG}/{event_id}/raw/DCIM/IMG_2.jpg",
    ]
    assert {p["matchedBy"] for p in photos} == {"bib"}
    assert all(p["url"].startswith(local_stack.endpoint) for p in photos)
    table = snaprace(local_stack, "photos", "--org", ORG, "--event", event_id)
    assert "3 photos" in table.output


def test_audit_and_wait_report_a_photo_without_a_final_status(local_stack, event_id):
    data, _ = race_photo(next_seed(), [Runner("821")])
    key = local_stack.put(ORG, event_id, "stale.jpg", data)
    local_stack.wait(ORG, event_id)
    table = local_stack.stack.resource("dynamodb").Table(local_stack.stack.table_name)
    item = local_stack.item(ORG, event_id, key)
    table.put_item(Item={**item, "etag": "0" * 32})  # results for content the bucket no longer has

    audit = snaprace(local_stack, "audit", "--org", ORG, "--event", event_id)
    assert audit.exit_code == 1
    assert f"missing: {key}" in audit.output
    waited = snaprace(local_stack, "wait", "--org", ORG, "--event", event_id, "--timeout", "0")
    assert waited.exit_code == 1
    assert "timed out after 0 s with 1 photos still missing" in waited.output


def test_invoke_runs_a_handler_with_its_template_environment(local_stack, tmp_path):
    fixture = json.loads((ROOT / "events" / "preprocess.json").read_text())
    bucket, key = fixture["photo"]["bucket"], fixture["photo"]["rawKey"]
    data, _ = race_photo(next_seed(), [Runner("831")])
    s3 = local_stack.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    command = [sys.executable, "-m", "snaprace", "--endpoint-url", local_stack.endpoint, "invoke"]

    def invoke(function: str, event_file):
        return subprocess.run(  # noqa: S603 - its own process: invoke sets the function's environment
            [*command, function, "--event", str(event_file)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    stale = invoke("preprocess", "events/preprocess.json")  # the fixture's etag is not this content's
    assert stale.returncode == 1
    assert json.loads(stale.stdout)["errorType"] == "PhotoSuperseded"

    fixture["photo"]["etag"] = s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
    event_file = tmp_path / "preprocess.json"
    event_file.write_text(json.dumps(fixture))
    result = invoke("preprocess", event_file)
    assert result.returncode == 0, result.stderr
    image = json.loads(result.stdout)
    assert image["processedKey"] == "acme/seoul-marathon-2026/processed/1904837d07bd83f4066f4dae.jpg"
    assert s3.head_object(Bucket=bucket, Key=image["processedKey"])["ContentType"] == "image/jpeg"
    assert "PreprocessFunction-dev: ok" in result.stderr

    unknown = invoke("resize", event_file)
    assert unknown.returncode != 0 and "PreprocessFunction" in unknown.stderr


def test_errors_name_the_resource_and_the_fix(local_stack):
    unknown = CliRunner().invoke(
        main,
        [
            "--endpoint-url",
            local_stack.endpoint,
            "--stack",
            "Nope-dev",
            "audit",
            "--org",
            "a",
            "--event",
            "b",
        ],
    )
    assert unknown.exit_code == 1 and "stack Nope-dev not found" in unknown.output
    down = CliRunner().invoke(
        main, ["--endpoint-url", f"http://127.0.0.1:{free_port()}", "audit", "--org", "a", "--event", "b"]
    )
    assert down.exit_code == 1 and "snaprace local up" in down.output
    bad_id = snaprace(local_stack, "audit", "--org", "Acme Corp", "--event", "b")
    assert bad_id.exit_code == 1 and "orgId" in bad_id.output


def test_local_up_says_how_to_install_the_vision_extra_when_it_is_missing(tmp_path):
    blocked = tmp_path / "without-vision"
    (blocked / "rapidocr").mkdir(parents=True)  # shadows the installed package, as if absent
    (blocked / "rapidocr" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'rapidocr'\", name='rapidocr')\n"
    )
    vision = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "snaprace",
            "local",
            "up",
            "--engine",
            "vision",
            "--log-file",
            str(tmp_path / "l"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(blocked)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert vision.returncode == 1
    assert "vision" in vision.stderr and "pip install -e '.[vision]'" in vision.stderr
    assert "Traceback" not in vision.stderr


def test_local_up_refuses_a_busy_port_and_stops_cleanly(tmp_path):
    running = start_local_stack(tmp_path)
    port = int(running.endpoint.rsplit(":", 1)[-1])
    try:
        with pytest.raises(DidNotStart) as refused:
            launch(tmp_path / "second.log", port=port)
    finally:
        output = running.stop()
    assert f"cannot listen on 127.0.0.1:{port}" in str(refused.value)
    assert running.process.returncode == 0
    assert output.rstrip().endswith("stopped")


def test_event_settings_decide_which_numbers_are_bibs(local_stack, event_id, tmp_path):
    def settings(event: str, *args: str):
        return snaprace(local_stack, "event-settings", "--org", ORG, "--event", event, *args)

    def bibs_read(event: str) -> list[str]:
        local_stack.put(
            ORG, event, "IMG_2008.jpg", race_photo(next_seed(), [Runner("2008"), Runner("1234")])[0]
        )
        local_stack.wait(ORG, event)
        (photo,) = operations.photos(local_stack.stack, ORG, event)
        return sorted(photo["bibs"])

    plain, ranged = event_id, f"{event_id}-ranged"[:60]
    assert (
        settings(plain).output.strip()
        == f"{ORG}/{plain}: none: every bib-shaped number counts; face search on, selfie search verified"
    )
    assert bibs_read(plain) == ["1234"]  # 2008 looks like the race's year
    assert (
        settings(ranged, "--bibs", "1-3000").output.strip()
        == f"{ORG}/{ranged}: bibs 1-3000; face search on, selfie search verified"
    )
    assert bibs_read(ranged) == ["1234", "2008"]  # the organiser says bibs go up to 3000

    refused = settings(ranged, "--bibs", "3000-1")
    assert refused.exit_code == 1 and "FIRST must not be above LAST" in refused.output
    roster = tmp_path / "runners.csv"
    roster.write_text("bib,name\n1234,Kim Minji\n")
    shown = settings(ranged, "--participants", str(roster)).output.strip()
    assert shown == f"{ORG}/{ranged}: bibs 1-3000, 1 participants; face search on, selfie search verified"
    assert (
        settings(ranged, "--clear").output.strip()
        == f"{ORG}/{ranged}: none: every bib-shaped number counts; face search on, selfie search verified"
    )
