"""The operator's first hour (issue "The operator's first hour"): typos that say so, previews that
exit 0, photos named as the operator knows them, exit codes, and set-up mistakes that get one line
instead of a traceback."""

import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner
from local_stack import ROOT, next_seed

from pipeline.common import keys
from snaprace.cli import main
from snaprace.samples import Runner, race_photo

ORG = "acme"


def snaprace(running, *args: str, env: dict | None = None):
    endpoint = ["--endpoint-url", running.endpoint] if running else []
    return CliRunner(env=env).invoke(main, [*endpoint, *args], catch_exceptions=False)


@pytest.fixture
def unused_port() -> int:
    from snaprace.local.launch import free_port

    return free_port()


@pytest.fixture(scope="module")
def event(local_stack) -> str:
    event_id = "e2e-operator-race"
    for index, runners in enumerate([[Runner("801")], [Runner("802")]]):
        data, _ = race_photo(next_seed(), runners)
        local_stack.put(ORG, event_id, f"IMG_{index}.jpg", data)
    local_stack.wait(ORG, event_id)
    return event_id


def test_a_misspelled_event_is_an_error_that_names_the_orgs_events(local_stack, event):
    typo = event.replace("race", "rcae")
    for command in (
        ("audit",),
        ("wait", "--timeout", "5"),
        ("photos",),
        ("reprocess",),
        ("review",),
        ("tag", "--photo", "IMG_0.jpg", "--confirm"),
    ):
        result = snaprace(local_stack, *command, "--org", ORG, "--event", typo)
        assert result.exit_code == 1, (command, result.output)
        assert f"no event {ORG}/{typo}" in result.output and event in result.output, result.output
    listed = json.loads(snaprace(local_stack, "events", "--org", ORG, "--json").stdout)
    assert event in listed["events"]
    assert "has no uploads yet" in snaprace(local_stack, "events", "--org", "nobody-here").output


def test_previews_exit_0_and_change_nothing_and_reprocess_takes_a_file_name(local_stack, event):
    photo_id = keys.photo_id_for(f"{ORG}/{event}/raw/IMG_1.jpg")
    before = local_stack.stack.photo_table.photos.get(ORG, event, photo_id)["executionName"]
    preview = snaprace(local_stack, "reprocess", "--org", ORG, "--event", event, "--photo", "IMG_1.jpg")
    assert (
        preview.exit_code == 0 and "would start 1 executions" in preview.output and "--yes" in preview.output
    )
    purge = snaprace(local_stack, "purge-event", "--org", ORG, "--event", event)
    assert purge.exit_code == 0 and "(a preview)" in purge.output
    assert local_stack.stack.photo_table.photos.get(ORG, event, photo_id)["executionName"] == before

    started = snaprace(
        local_stack, "reprocess", "--org", ORG, "--event", event, "--photo", "IMG_1.jpg", "--yes"
    )
    assert started.exit_code == 0 and "1 executions started" in started.output
    local_stack.settle(ORG, event)
    assert local_stack.stack.photo_table.photos.get(ORG, event, photo_id)["executionName"] != before
    missing = snaprace(local_stack, "reprocess", "--org", ORG, "--event", event, "--photo", "IMG_9.jpg")
    assert missing.exit_code == 1 and "no photo IMG_9.jpg" in missing.output
    by_status = snaprace(local_stack, "reprocess", "--org", ORG, "--event", event, "--status", "indexed")
    assert by_status.exit_code == 0 and "would start 2 executions" in by_status.output  # any case


def test_wait_exits_2_when_photos_failed(local_stack):
    event_id = "e2e-operator-failing"
    data, _ = race_photo(next_seed(), [Runner("811")], fail={"IndexFaces": "AccessDeniedException"})
    local_stack.put(ORG, event_id, "IMG_0.jpg", data)
    waited = snaprace(local_stack, "wait", "--org", ORG, "--event", event_id, "--timeout", "60")
    assert (
        waited.exit_code == 2 and "1 photos failed" in waited.output and "snaprace failures" in waited.output
    )


def test_set_up_mistakes_get_one_line_and_no_traceback(local_stack, event, unused_port):
    elsewhere = {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PROFILE": "no-such-profile",
    }
    audited = snaprace(local_stack, "audit", "--org", ORG, "--event", event, env=elsewhere)
    assert audited.exit_code == 0, audited.output  # the local stack ignores the region and the profile

    cases = [
        (
            ["--endpoint-url", local_stack.endpoint.removeprefix("http://"), "status"],
            "give a URL with its scheme",
        ),
        (["--endpoint-url", f"http://127.0.0.1:{unused_port}", "logs", "preprocess"], "cannot reach"),
        (
            ["--endpoint-url", f"http://127.0.0.1:{unused_port}", "audit", "--org", ORG, "--event", event],
            "cannot reach",
        ),
        (["--profile", "no-such-profile", "status"], "AWS profile 'no-such-profile' not found"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
        assert isinstance(result.exception, SystemExit), result.exception  # handled: no traceback


def test_an_aws_outage_mid_command_is_one_line_that_says_to_run_it_again(local_stack, event, monkeypatch):
    from botocore.exceptions import ClientError

    from snaprace import operations

    def outage(*_args, **_kwargs):
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "Service Unavailable"},
                           "ResponseMetadata": {"HTTPStatusCode": 503}}, "ListFaces")  # fmt: skip

    monkeypatch.setattr(operations, "collection_faces", outage)
    result = snaprace(local_stack, "audit", "--org", ORG, "--event", event)
    assert result.exit_code == 1
    assert (
        "ListFaces failed: ServiceUnavailable" in result.output and "run the command again" in result.output
    )


def test_the_command_says_its_version_and_takes_the_endpoint_from_the_aws_variable(local_stack, event):
    version = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "snaprace", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0 and "version 0.1.0" in version.stdout
    env = {**os.environ, "AWS_ENDPOINT_URL": local_stack.endpoint}
    env.pop("SNAPRACE_ENDPOINT_URL", None)
    listed = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "snaprace", "events", "--org", ORG],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0 and event in listed.stdout, listed.stderr


def test_rejected_photos_are_listed_with_their_reasons_and_logged_under_their_own_ids(local_stack):
    """Good and bad uploads at once, so the functions' invocations overlap (threads on the local
    stack): every log line names its own photo, the audit lists the rejects with their reasons,
    and while runs are under way nothing in flight is called a problem."""
    event_id = "e2e-operator-mixed"
    good = {f"IMG_{n}.jpg": race_photo(next_seed(), [Runner(str(820 + n))])[0] for n in range(6)}
    bad = {f"notes_{n}.txt": f"battery swap at km {n}\n".encode() for n in range(3)}
    bad |= {f"IMG_9{n}.jpg": b"\xff\xd8\xff" + bytes(40) for n in range(3)}  # truncated JPEGs
    for name, data in {**good, **bad}.items():
        local_stack.put(ORG, event_id, name, data)
    while True:  # audit mid-run: what is under way is in flight, never a problem
        report = json.loads(
            snaprace(local_stack, "audit", "--org", ORG, "--event", event_id, "--json").stdout
        )
        assert report["problems"] == [], report
        if not report["missing"]:
            break
    ids = {name: keys.photo_id_for(f"{ORG}/{event_id}/raw/{name}") for name in {**good, **bad}}

    audit = snaprace(local_stack, "audit", "--org", ORG, "--event", event_id, "--rejected")
    assert audit.exit_code == 0 and audit.output.count("  rejected: ") == 6
    assert f"rejected: {ORG}/{event_id}/raw/notes_0.txt: " in audit.output
    listed = json.loads(
        snaprace(
            local_stack, "photos", "--org", ORG, "--event", event_id, "--status", "rejected", "--json"
        ).stdout
    )
    assert {p["photoId"] for p in listed["photos"]} == {ids[name] for name in bad}
    assert all(p["reason"] for p in listed["photos"])

    for function, message, names in (
        ("record-status", "Photo recorded", bad),
        ("save-results", "Results saved", good),
    ):
        lines = snaprace(local_stack, "logs", function, "--since", "10m").output.splitlines()
        logged = {
            m.group(1)
            for line in lines
            if message in line and (m := re.search(r'"photoId": ?"([0-9a-f]+)"', line))
        }
        mine = {ids[name] for name in names}
        assert logged & set(ids.values()) == mine, (function, logged, mine)


def test_local_status_and_down_find_the_stack_local_up_started(tmp_path):
    from snaprace.local.launch import launch

    launched = launch(tmp_path / "local.log")
    try:
        assert any("keeps everything in memory" in line for line in launched.output)  # said at start
        status = CliRunner().invoke(main, ["local", "status", "--json"])
        report = json.loads(status.stdout)
        assert status.exit_code == 0 and report["running"] and report["endpoint"] == launched.endpoint
        assert report["health"]["status"] == "ready"
        down = CliRunner().invoke(main, ["local", "down"])
        assert down.exit_code == 0 and f"stopped the local stack at {launched.endpoint}" in down.output
        assert launched.process.wait(timeout=30) == 0
        after = CliRunner().invoke(main, ["local", "status"])
        assert after.exit_code == 1 and "not running" in after.output
    finally:
        if launched.process.poll() is None:
            launched.process.kill()


def test_ctrl_c_stops_an_upload_at_once_and_running_it_again_finishes_it(local_stack, tmp_path):
    import signal
    import time

    event_id = "e2e-operator-ctrl-c"
    folder = tmp_path / "card"
    folder.mkdir()
    data, _ = race_photo(next_seed(), [Runner("831")])
    for n in range(40):
        (folder / f"IMG_{n:03d}.jpg").write_bytes(data + n.to_bytes(2, "big"))  # 40 distinct files
    (folder / "IMG_0001.CR3").write_bytes(b"raw sensor data")  # a camera RAW file
    (folder / "clip.mp4").write_bytes(b"video")
    command = [
        sys.executable,
        "-m",
        "snaprace",
        "--endpoint-url",
        local_stack.endpoint,
        "upload",
        str(folder),
    ]
    command += ["--org", ORG, "--event", event_id, "--concurrency", "1"]
    uploading = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    s3, bucket = local_stack.client("s3"), local_stack.stack.bucket
    while not s3.list_objects_v2(Bucket=bucket, Prefix=f"{ORG}/{event_id}/raw/").get("KeyCount"):
        time.sleep(0.05)
    interrupted = time.monotonic()
    uploading.send_signal(signal.SIGINT)
    out, err = uploading.communicate(timeout=30)
    assert time.monotonic() - interrupted < 2  # within a second or so, not after the whole card
    assert uploading.returncode == 130 and "files not uploaded; run the same command again" in err, err
    assert "2 files left out" in err and "IMG_0001.CR3" in err  # RAW and video are not sent
    sent = s3.list_objects_v2(Bucket=bucket, Prefix=f"{ORG}/{event_id}/raw/")["KeyCount"]
    assert 0 < sent < 40
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)  # noqa: S603
    assert again.returncode == 0 and f"{40 - sent} uploaded, {sent} already there" in again.stdout, (
        again.stderr
    )
    assert s3.list_objects_v2(Bucket=bucket, Prefix=f"{ORG}/{event_id}/raw/")["KeyCount"] == 40
    local_stack.wait(ORG, event_id, timeout=300)


def test_an_identical_reupload_keeps_its_result_until_the_settings_change(local_stack):
    """A photographer re-syncing a card: the same content under the same key costs no execution
    and no Rekognition call; once the event's bib settings change, the same upload is read again."""
    import time
    import urllib.request

    event_id = "e2e-operator-resync"
    photo_id = keys.photo_id_for(f"{ORG}/{event_id}/raw/IMG_0.jpg")
    data, _ = race_photo(next_seed(), [Runner("841")])

    def meter() -> tuple[int, int]:
        with urllib.request.urlopen(f"{local_stack.endpoint}/_snaprace/meter", timeout=5) as answer:  # noqa: S310
            functions = json.loads(answer.read())["lambda"]
        starts = sum(used["invocations"] for name, used in functions.items() if "StartProcessing" in name)
        calls = local_stack.health()["rekognition"]["calls"]
        return starts, calls.get("DetectText", 0) + calls.get("IndexFaces", 0)

    def runs() -> int:
        sfn = local_stack.client("stepfunctions")
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=local_stack.stack.state_machine_arn
        )
        return sum(e["name"].startswith(photo_id) for page in pages for e in page["executions"])

    def upload_again() -> None:
        starts, _ = meter()
        local_stack.put(ORG, event_id, "IMG_0.jpg", data)  # a new object version: a new S3 event
        deadline = time.monotonic() + 30
        while meter()[0] == starts:  # until the starter has handled it
            assert time.monotonic() < deadline, "the upload event never reached StartProcessing"
            time.sleep(0.2)
        local_stack.settle(ORG, event_id)
        local_stack.wait(ORG, event_id)

    local_stack.put(ORG, event_id, "IMG_0.jpg", data)
    local_stack.wait(ORG, event_id)
    _, calls = meter()
    upload_again()
    assert (runs(), meter()[1]) == (1, calls)  # kept: no execution, no Rekognition call
    settings = ("event-settings", "--org", ORG, "--event", event_id, "--bibs", "1-5000")
    assert snaprace(local_stack, *settings).exit_code == 0
    upload_again()
    # read again under the new range, from the kept answers: a run, no Rekognition call
    assert runs() == 2 and meter()[1] == calls
    assert local_stack.stack.photo_table.photos.get(ORG, event_id, photo_id)["bibs"] == ["841"]


def test_global_options_anywhere_and_json_on_every_command_that_reports(local_stack, event, tmp_path):
    late = CliRunner().invoke(
        main, ["events", "--org", ORG, "--endpoint-url", local_stack.endpoint, "--json"]
    )
    assert late.exit_code == 0 and event in json.loads(late.stdout)["events"]  # as aws and sam take them
    photo = tmp_path / "IMG_0.jpg"
    photo.write_bytes(race_photo(next_seed(), [Runner("801")])[0])
    commands = [
        ("upload", str(photo), "--org", ORG, "--event", event + "-json"),
        ("event-settings", "--org", ORG, "--event", event),
        ("reprocess", "--org", ORG, "--event", event),
        ("purge-event", "--org", ORG, "--event", event),
        ("delete-runner", "--org", ORG, "--event", event, "--bib", "801"),
        ("redrive", "--dry-run"),
        ("backup",),
        ("api-key",),
        ("audit", "--org", ORG, "--event", event),
        ("review", "--org", ORG, "--event", event),
    ]
    for command in commands:
        result = snaprace(local_stack, *command, "--json")
        assert result.exit_code == 0, (command, result.output)
        assert isinstance(json.loads(result.stdout), dict), command
    previews = [json.loads(snaprace(local_stack, *c, "--json").stdout) for c in commands[2:5]]
    assert previews[0] == {  # both photos' answers kept: no first-look call, at most 2 second looks
        "preview": True,
        "executions": 2,
        "photos": 2,
        "answersKept": 2,
        "firstLookCalls": 0,
        "secondLookCallsAtMost": 2,
        "usdAtMost": 0.0,
    }
    assert previews[1]["deleted"] is False and previews[2] == {"faces": 1, "photos": 1, "deleted": False}
    local_stack.wait(ORG, event + "-json")
