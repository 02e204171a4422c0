"""IAM is enforced on the local stack: a copy of template.yaml with one permission removed makes the
flow that needs it fail with AccessDenied naming the action and resource, as AWS would. (The
unmodified template passing every flow is checked by the `local_stack` fixture: no request of
any end-to-end test was refused.)"""

import json
import shutil
import time

import pytest
from local_stack import ROOT, next_seed, start_local_stack

from pipeline.common import keys
from snaprace.samples import Runner, race_photo

ORG = "acme"


def template_without(tmp_path, old: str, new: str):
    """A copy of the project's template (and its state machine) with one statement changed."""
    text = (ROOT / "template.yaml").read_text()
    assert text.count(old) == 1, f"the template no longer has exactly one {old!r}"
    shutil.copytree(ROOT / "statemachine", tmp_path / "statemachine")
    copy = tmp_path / "template.yaml"
    copy.write_text(text.replace(old, new))
    return copy


def wait_for_denial(running, action: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in running.health()["iam"]["denials"]:
            if f"perform: {action} " in message:
                return message
        time.sleep(0.3)
    pytest.fail(f"no request was refused {action} within {timeout} s; see {running.log_file}")


def test_preprocess_without_put_object_fails_the_photo_with_access_denied(tmp_path):
    copy = template_without(
        tmp_path,
        "            - Effect: Allow\n              Action: s3:PutObject\n",
        "            - Effect: Allow\n              Action: s3:PutObjectAcl\n",
    )
    running = start_local_stack(tmp_path, "--template", str(copy))
    try:
        photo, _ = race_photo(next_seed(), [Runner("501")])
        key = running.put(ORG, "iam-put-object", "start.jpg", photo)
        message = wait_for_denial(running, "s3:PutObject")
        assert "assumed-role/PreprocessFunctionRole/PreprocessFunction-dev" in message
        assert f"/{ORG}/iam-put-object/processed/{keys.photo_id_for(key)}.jpg" in message
        audit = running.wait(ORG, "iam-put-object")
        assert audit.failed == [key]
        item = running.item(ORG, "iam-put-object", key)
        assert item["status"] == "FAILED"
        assert "AccessDenied" in item["reason"]
    finally:
        running.stop()


def test_result_writers_without_update_item_cannot_save_a_photo(tmp_path):
    """The defect the review found: the result writers update items (the run-faces note of a
    re-upload, and now the event registry of every indexed photo) without dynamodb:UpdateItem."""
    copy = template_without(
        tmp_path,
        "Action: [dynamodb:GetItem, dynamodb:Query, dynamodb:BatchWriteItem, dynamodb:UpdateItem]",
        "Action: [dynamodb:GetItem, dynamodb:Query, dynamodb:BatchWriteItem]",
    )
    running = start_local_stack(tmp_path, "--template", str(copy))
    try:
        first, _ = race_photo(next_seed(), [Runner("601"), Runner("602")])
        running.put(ORG, "iam-update-item", "finish.jpg", first)
        message = wait_for_denial(running, "dynamodb:UpdateItem")
        assert "assumed-role/SaveResultsFunctionRole/SaveResultsFunction-dev" in message
        assert message.endswith("because no identity-based policy allows the dynamodb:UpdateItem action")
    finally:
        running.stop()


def test_preflight_on_the_local_stack_reports_every_check_and_fails_without_an_alarm_address(local_stack):
    from click.testing import CliRunner

    from snaprace.cli import main

    result = CliRunner().invoke(main, ["--endpoint-url", local_stack.endpoint, "preflight", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    verdicts = {c["name"]: (c["ok"], c["figure"]) for c in report["checks"]}
    # unthrottled, the emulated account's quotas are 50 and the stack is told so
    assert verdicts["rekognition IndexFaces"] == (True, "50/s for IndexFacesTps 50")
    assert verdicts["alarm subscription"] == (False, "0 confirmed, 0 pending")  # dev has no AlarmEmail
    assert verdicts["bucket eventbridge"] == (True, "on")
    assert [name for name, (ok, _) in verdicts.items() if not ok] == ["alarm subscription"]


def test_preflight_passes_with_an_alarm_address_and_fails_a_quota_below_the_rate(tmp_path):
    from click.testing import CliRunner

    from snaprace.cli import main

    running = start_local_stack(
        tmp_path,
        "--rekognition-tps",
        "2",
        "--parameter",
        "AlarmEmail=ops@example.org",
        "--parameter",
        "DetectTextTps=3",
    )
    try:
        result = CliRunner().invoke(main, ["--endpoint-url", running.endpoint, "preflight"])
    finally:
        running.stop()
    assert result.exit_code == 1
    lines = {line.split()[1] + " " + line.split()[2]: line for line in result.stdout.splitlines()}
    assert (
        lines["rekognition DetectText"].startswith("FAIL")
        and "2/s for DetectTextTps 3" in lines["rekognition DetectText"]
    )
    assert lines["alarm subscription"].startswith("ok") and "1 confirmed" in lines["alarm subscription"]


def test_rekognition_reads_the_photo_with_the_callers_rights(tmp_path):
    """DetectText names the processed photo in S3; without s3:GetObject on it the call fails as
    Rekognition fails it (InvalidS3ObjectException), and the photo ends FAILED with that reason."""
    statement = (
        "            - Effect: Allow\n              Action: {}\n"
        '              Resource: !Sub "${{ImageBucket.Arn}}/*/*/processed/*"\n'
        "            - Effect: Allow # the event's settings (SETTINGS item)"
    )
    copy = template_without(tmp_path, statement.format("s3:GetObject"), statement.format("s3:GetObjectAcl"))
    running = start_local_stack(tmp_path, "--template", str(copy))
    try:
        photo, _ = race_photo(next_seed(), [Runner("701")])
        key = running.put(ORG, "iam-rekognition-s3", "start.jpg", photo)
        message = wait_for_denial(running, "s3:GetObject")
        assert "assumed-role/DetectTextFunctionRole/DetectTextFunction-dev" in message
        running.wait(ORG, "iam-rekognition-s3")
        item = running.item(ORG, "iam-rekognition-s3", key)
        assert item["status"] == "FAILED" and "InvalidS3ObjectException" in item["reason"]
    finally:
        running.stop()
