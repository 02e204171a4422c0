"""The runbook commands on the local stack, including their refusals and second runs."""

import json
import time

from click.testing import CliRunner
from local_stack import next_seed
from photos import s3_eventbridge_event

from pipeline.common import keys
from snaprace.cli import main
from snaprace.samples import Runner, race_photo, selfie

ORG = "acme"


def snaprace(running, *args: str):
    return CliRunner().invoke(main, ["--endpoint-url", running.endpoint, *args], catch_exceptions=False)


def upload_event(running, event: str, shots: list[list[Runner]], fail: dict | None = None) -> list[str]:
    raw_keys = []
    for index, runners in enumerate(shots):
        data, _ = race_photo(next_seed(), runners, fail=fail)
        raw_keys.append(running.put(ORG, event, f"IMG_{index}.jpg", data))
    running.wait(ORG, event)
    return raw_keys


def faces_of(running, event: str) -> dict[str, str]:
    from snaprace.operations import collection_faces

    return collection_faces(running.stack, ORG, event)


def test_status_reports_the_stack_and_fails_on_a_dlq_message_until_redriven(local_stack, event_id):
    (raw_key,) = upload_event(local_stack, event_id, [[Runner("711")]])
    healthy = snaprace(local_stack, "status", "--json")
    report = json.loads(healthy.stdout)
    assert healthy.exit_code == 0, healthy.output
    assert report["resources"]["bucket"] == "snaprace-images-dev-123456789012-ap-northeast-2"
    assert {a["name"] for a in report["alarms"]} >= {
        "image-processing-failed-dev",
        "image-upload-dlq-not-empty-dev",
    }
    assert any(c["event"] == event_id and c["faces"] == 1 for c in report["collections"])

    # an upload event that reached the DLQ during an outage, for content to be read again (new bib
    # settings: unchanged, the starter would keep the photo's result and start nothing)
    snaprace(local_stack, "event-settings", "--org", ORG, "--event", event_id, "--bibs", "1-5000")
    s3 = local_stack.client("s3")
    etag = keys.normalise_etag(s3.head_object(Bucket=local_stack.stack.bucket, Key=raw_key)["ETag"])
    body = s3_eventbridge_event(local_stack.stack.bucket, raw_key, etag=etag, sequencer="00000000000000BEEF")
    local_stack.client("sqs").send_message(
        QueueUrl=local_stack.stack.output("DlqUrl"), MessageBody=json.dumps(body)
    )
    sick = snaprace(local_stack, "status")
    assert sick.exit_code == 1 and "1 messages in the DLQ" in sick.output
    assert "1 messages would move" in snaprace(local_stack, "redrive", "--dry-run").output
    assert "1 messages moved" in snaprace(local_stack, "redrive").output
    assert "0 messages moved" in snaprace(local_stack, "redrive").output  # a second run finds nothing
    name = keys.execution_name(keys.photo_id_for(raw_key), etag, "00000000000000BEEF")
    arn = local_stack.stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    deadline = time.monotonic() + 60
    while True:  # the redriven event ran the photo again
        try:
            if (
                local_stack.client("stepfunctions").describe_execution(executionArn=arn)["status"]
                == "SUCCEEDED"
            ):
                break
        except local_stack.client("stepfunctions").exceptions.ExecutionDoesNotExist:
            pass
        assert time.monotonic() < deadline, "the redriven event started no execution"
        time.sleep(0.3)
    assert snaprace(local_stack, "status").exit_code == 0

    cloudwatch = local_stack.client("cloudwatch")
    cloudwatch.set_alarm_state(
        AlarmName="image-processing-failed-dev", StateValue="ALARM", StateReason="an execution failed"
    )
    try:
        alarmed = snaprace(local_stack, "status")
        assert alarmed.exit_code == 1 and "alarm image-processing-failed-dev is in ALARM" in alarmed.output
    finally:
        cloudwatch.set_alarm_state(
            AlarmName="image-processing-failed-dev", StateValue="OK", StateReason="test over"
        )


def test_failures_name_the_photo_the_step_and_the_error_and_reprocess_runs_them_again(local_stack, event_id):
    (raw_key,) = upload_event(
        local_stack, event_id, [[Runner("721")]], fail={"IndexFaces": "AccessDeniedException"}
    )
    listed = json.loads(snaprace(local_stack, "failures", "--since", "1h", "--json").stdout)["failures"]
    (failure,) = [f for f in listed if f["rawKey"] == raw_key]
    assert failure["step"] == "IndexFaces" and failure["error"] == "AccessDeniedException"
    assert "IndexFaces" in failure["cause"] and "Traceback" not in failure["cause"]
    assert "IndexFaces: AccessDeniedException" in snaprace(local_stack, "failures").output

    audit = snaprace(local_stack, "audit", "--org", ORG, "--event", event_id)
    assert audit.exit_code == 0 and f"failed: {raw_key}" in audit.output
    again = snaprace(
        local_stack,
        "reprocess",
        "--org",
        ORG,
        "--event",
        event_id,
        "--status",
        "FAILED",
        "--yes",
        "--wait",
    )
    assert again.exit_code == 0 and "1 executions started" in again.output
    deadline = time.monotonic() + 60
    while True:  # the fault is still scripted: the second run fails too
        retried = json.loads(snaprace(local_stack, "failures", "--json").stdout)["failures"]
        if len([f for f in retried if f["rawKey"] == raw_key]) == 2:
            break
        assert time.monotonic() < deadline, "the reprocessed photo never failed again"
        time.sleep(0.3)
    nothing = snaprace(local_stack, "reprocess", "--org", ORG, "--event", event_id, "--status", "INDEXED")
    assert "nothing to reprocess" in nothing.output


def test_audit_finds_missing_derived_objects_and_stray_faces(local_stack, event_id):
    raw_keys = upload_event(local_stack, event_id, [[Runner("731")], [Runner("732")]])
    assert snaprace(local_stack, "audit", "--org", ORG, "--event", event_id).exit_code == 0
    item = local_stack.item(ORG, event_id, raw_keys[0])
    local_stack.client("s3").delete_object(Bucket=local_stack.stack.bucket, Key=item["thumbnailKey"])
    other = local_stack.item(ORG, event_id, raw_keys[1])
    collection = keys.collection_id("snaprace-dev", ORG, event_id)
    local_stack.client("rekognition").delete_faces(CollectionId=collection, FaceIds=list(other["faceIds"]))
    report = snaprace(local_stack, "audit", "--org", ORG, "--event", event_id, "--json")
    problems = json.loads(report.stdout)["problems"]
    assert report.exit_code == 1
    assert any("thumbnailKey" in p and raw_keys[0] in p for p in problems)
    assert any(other["faceIds"][0] in p and "not in the collection" in p for p in problems)
    # fresh: the kept answers are what the audit doubts (faces no longer in the collection)
    fixed = snaprace(
        local_stack, "reprocess", "--org", ORG, "--event", event_id, "--fresh", "--yes", "--wait"
    )
    assert "2 executions started" in fixed.output
    deadline = time.monotonic() + 60
    while snaprace(local_stack, "audit", "--org", ORG, "--event", event_id).exit_code:
        assert time.monotonic() < deadline, "reprocessing did not repair the event"
        time.sleep(0.5)


def test_delete_runner_erases_one_runners_faces_and_links_only(local_stack, event_id):
    upload_event(
        local_stack,
        event_id,
        [[Runner("741"), Runner("742")], [Runner("741", show_bib=False)], [Runner("742")]],
    )
    before = faces_of(local_stack, event_id)
    assert len(before) == 4
    refused = snaprace(local_stack, "delete-runner", "--org", ORG, "--event", event_id, "--bib", "741")
    assert (
        refused.exit_code == 0 and "2 faces on 2 photos" in refused.output and "(a preview)" in refused.output
    )
    assert faces_of(local_stack, event_id) == before
    done = snaprace(local_stack, "delete-runner", "--org", ORG, "--event", event_id, "--bib", "741", "--yes")
    assert done.exit_code == 0 and "deleted 2 faces" in done.output
    assert len(faces_of(local_stack, event_id)) == 2  # runner 742's two faces stay
    found = json.loads(
        snaprace(local_stack, "photos", "--org", ORG, "--event", event_id, "--bib", "741", "--json").stdout
    )
    assert [p["matchedBy"] for p in found["photos"]] == ["bib"]  # the photo with the bib, no face match
    assert snaprace(local_stack, "audit", "--org", ORG, "--event", event_id).exit_code == 0
    second = snaprace(
        local_stack, "delete-runner", "--org", ORG, "--event", event_id, "--bib", "741", "--yes"
    )
    assert "no face data found" in second.output

    by_selfie = snaprace(
        local_stack, "delete-runner", "--org", ORG, "--event", event_id, "--selfie", "-", "--yes"
    )
    assert by_selfie.exit_code != 0  # stdin is empty: an empty selfie is refused
    selfie_file = local_stack.log_file.parent / "selfie-742.jpg"
    selfie_file.write_bytes(selfie("742"))
    erased = snaprace(
        local_stack, "delete-runner", "--org", ORG, "--event", event_id, "--selfie", str(selfie_file), "--yes"
    )
    assert "deleted 2 faces" in erased.output and faces_of(local_stack, event_id) == {}


def runs_of(running, photo_ids: set[str]) -> int:
    sfn = running.client("stepfunctions")
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=running.stack.state_machine_arn)
    return sum(e["name"].split("-", 1)[0] in photo_ids for page in pages for e in page["executions"])


def starter_has_ignored(running, removals: int, since: int, timeout: float = 60) -> bool:
    """Whether the starter logged `removals` version removals it starts no run for, after `since`
    (ms), and the upload queue holds nothing more for it: every record it received is done."""
    logs, sqs = running.client("logs"), running.client("sqs")
    queue = running.stack.output("QueueUrl")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = logs.filter_log_events(
            logGroupName="/aws/lambda/StartProcessingFunction-dev", startTime=since
        )["events"]
        ignored = sum("Ignoring the removal of one object version" in line["message"] for line in lines)
        waiting = sqs.get_queue_attributes(
            QueueUrl=queue,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if ignored >= removals and not any(int(count) for count in waiting.values()):
            return True
        time.sleep(0.2)
    return False


def test_purge_event_refuses_without_yes_deletes_everything_and_is_safe_twice(local_stack, event_id):
    raw_keys = upload_event(local_stack, event_id, [[Runner("751")], [Runner("752")]])
    raw_keys += upload_event(local_stack, event_id, [[Runner("753")]])  # IMG_0.jpg again: a 2nd version
    photo_ids = {keys.photo_id_for(key) for key in raw_keys}
    kept_event = event_id + "-kept"
    upload_event(local_stack, kept_event, [[Runner("751")]])
    refused = snaprace(local_stack, "purge-event", "--org", ORG, "--event", event_id)
    assert refused.exit_code == 0 and "table items" in refused.output and "(a preview)" in refused.output
    assert snaprace(local_stack, "audit", "--org", ORG, "--event", event_id, "--json").stdout.count(
        '"raw": 2'
    )

    backup = snaprace(local_stack, "backup")
    assert backup.exit_code == 0 and "PhotoService-dev-" in backup.output
    runs_before_purge = runs_of(local_stack, photo_ids)
    purge_started = int(time.time() * 1000)
    purged = snaprace(local_stack, "purge-event", "--org", ORG, "--event", event_id, "--yes")
    assert purged.exit_code == 0 and f"deleted {ORG}/{event_id}" in purged.output
    versions = local_stack.client("s3").list_object_versions(
        Bucket=local_stack.stack.bucket, Prefix=f"{ORG}/{event_id}/"
    )
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")
    table = local_stack.stack.resource("dynamodb").Table(local_stack.stack.table_name)
    assert (
        table.query(
            KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": f"ORG#{ORG}#EVT#{event_id}"}
        )["Items"]
        == []
    )
    assert faces_of(local_stack, event_id) == {}
    registry = local_stack.stack.photo_table.registry.events()
    assert not [event for event in registry if event["eventId"] == event_id]  # no sweep for it later
    assert [event for event in registry if event["eventId"] == kept_event]
    # the starter has taken each raw version's removal off the queue, said it starts nothing for it,
    # and started nothing
    assert starter_has_ignored(local_stack, len(raw_keys), since=purge_started)
    assert runs_of(local_stack, photo_ids) == runs_before_purge
    assert (
        "nothing stored"
        in snaprace(local_stack, "purge-event", "--org", ORG, "--event", event_id, "--yes").output
    )
    kept = json.loads(snaprace(local_stack, "audit", "--org", ORG, "--event", kept_event, "--json").stdout)
    assert (kept["raw"], kept["indexed"], kept["problems"]) == (1, 1, [])


def test_logs_reads_a_functions_lines(local_stack, event_id):
    upload_event(local_stack, event_id, [[Runner("761")]], fail={"DetectText": "AccessDeniedException"})
    lines = snaprace(local_stack, "logs", "detect-text", "--filter", "ERROR", "--since", "1h")
    assert lines.exit_code == 0 and "AccessDeniedException" in lines.output
    assert "Photo normalised" in snaprace(local_stack, "logs", "preprocess", "--since", "1h").output
    assert "not-a-function" in snaprace(local_stack, "logs", "not-a-function").output


def test_an_erasure_holds_against_reprocess_and_later_photos(local_stack, event_id):
    """delete-runner, then reprocess: the runner's faces are not indexed again, the selfie search
    finds nothing, a later photo of them (bib read) gets no face; other runners are untouched."""
    upload_event(local_stack, event_id, [[Runner("761"), Runner("762")], [Runner("761")]])
    erased = snaprace(
        local_stack, "delete-runner", "--org", ORG, "--event", event_id, "--bib", "761", "--yes"
    )
    assert erased.exit_code == 0 and "deleted 2 faces" in erased.output
    status = json.loads(snaprace(local_stack, "status", "--json").stdout)
    (collection,) = [c for c in status["collections"] if c["event"] == event_id]
    assert collection["erasures"] == 1

    again = snaprace(local_stack, "reprocess", "--org", ORG, "--event", event_id, "--yes", "--wait")
    assert again.exit_code == 0, again.output
    local_stack.settle(ORG, event_id)  # with --wait, reprocess has started its runs when it returns
    later, _ = race_photo(next_seed(), [Runner("761")])  # a photo uploaded after the erasure
    local_stack.put(ORG, event_id, "IMG_later.jpg", later)
    local_stack.wait(ORG, event_id)

    def by_selfie(runner: str) -> list[dict]:
        selfie_file = local_stack.log_file.parent / f"selfie-{runner}-{event_id}.jpg"
        selfie_file.write_bytes(selfie(runner))
        command = ("photos", "--org", ORG, "--event", event_id, "--selfie", str(selfie_file), "--json")
        return json.loads(snaprace(local_stack, *command).stdout)["photos"]

    assert by_selfie("761") == []
    assert len(faces_of(local_stack, event_id)) == 1  # runner 762's face only
    by_bib = json.loads(
        snaprace(local_stack, "photos", "--org", ORG, "--event", event_id, "--bib", "761", "--json").stdout
    )
    assert sorted(p["matchedBy"] for p in by_bib["photos"]) == ["bib", "bib", "bib"]  # reads stay, no faces
    assert len(by_selfie("762")) == 1


def test_face_search_off_indexes_no_face_deletes_the_events_faces_and_on_again_brings_them_back(
    local_stack, event_id
):
    upload_event(local_stack, event_id, [[Runner("771"), Runner("772")]])
    assert len(faces_of(local_stack, event_id)) == 2
    off = snaprace(
        local_stack, "event-settings", "--org", ORG, "--event", event_id, "--faces", "OFF", "--wait", "120"
    )
    assert off.exit_code == 0 and "face search off" in off.output and "(2 faces)" in off.output
    assert "face data taken off 3 items" in off.output, off.output  # the photo and its two bibs, by the job
    assert faces_of(local_stack, event_id) == {}
    items = local_stack.stack.photo_table.core.event_items(ORG, event_id)
    assert not any(item.get("faceIds") or item.get("faceId") or item.get("faceBoxes") for item in items)

    index_calls = local_stack.health()["rekognition"]["calls"].get("IndexFaces", 0)
    later, _ = race_photo(next_seed(), [Runner("773")])
    local_stack.put(ORG, event_id, "IMG_later.jpg", later)
    local_stack.wait(ORG, event_id)
    assert local_stack.health()["rekognition"]["calls"].get("IndexFaces", 0) == index_calls  # not one call
    collections = local_stack.client("rekognition").list_collections()["CollectionIds"]
    assert keys.collection_id("snaprace-dev", ORG, event_id) not in collections
    selfie_file = local_stack.log_file.parent / f"selfie-773-{event_id}.jpg"
    selfie_file.write_bytes(selfie("773"))
    refused = snaprace(local_stack, "photos", "--org", ORG, "--event", event_id, "--selfie", str(selfie_file))
    assert refused.exit_code == 1 and "face search is off for this event" in refused.output
    by_bib = json.loads(
        snaprace(local_stack, "photos", "--org", ORG, "--event", event_id, "--bib", "773", "--json").stdout
    )
    assert [p["matchedBy"] for p in by_bib["photos"]] == ["bib"]  # bib search works unchanged

    assert (
        snaprace(local_stack, "event-settings", "--org", ORG, "--event", event_id, "--faces", "on").exit_code
        == 0
    )
    assert (
        snaprace(local_stack, "reprocess", "--org", ORG, "--event", event_id, "--yes", "--wait").exit_code
        == 0
    )
    local_stack.settle(ORG, event_id)
    assert len(faces_of(local_stack, event_id)) == 3


def test_the_retention_sweep_deletes_face_data_past_its_date_and_bib_search_still_answers(
    local_stack, event_id
):
    upload_event(local_stack, event_id, [[Runner("781"), Runner("782")]])
    assert len(faces_of(local_stack, event_id)) == 2
    kept = snaprace(
        local_stack, "event-settings", "--org", ORG, "--event", event_id, "--face-retention-days", "30"
    )
    assert "faces kept 30 days from the last upload" in kept.output
    first = json.loads(snaprace(local_stack, "retention", "sweep", "--json").stdout)
    assert all(swept["event"] != event_id for swept in first["swept"])  # not due yet
    assert len(faces_of(local_stack, event_id)) == 2

    snaprace(local_stack, "event-settings", "--org", ORG, "--event", event_id, "--face-retention-days", "0")
    status = json.loads(snaprace(local_stack, "status", "--json").stdout)
    assert any(due["event"] == event_id for due in status["faceRetentionDue"])
    swept = json.loads(snaprace(local_stack, "retention", "sweep", "--wait", "120", "--json").stdout)["swept"]
    (ours,) = [s for s in swept if s["event"] == event_id]
    assert (ours["faces"], ours["changed"]) == (2, 3)  # the photo, two bibs: cleared by the job
    assert faces_of(local_stack, event_id) == {}
    items = local_stack.stack.photo_table.core.event_items(ORG, event_id)
    assert not any(item.get("faceIds") or item.get("faceId") or item.get("faceBoxes") for item in items)
    by_bib = json.loads(
        snaprace(local_stack, "photos", "--org", ORG, "--event", event_id, "--bib", "781", "--json").stdout
    )
    assert [p["matchedBy"] for p in by_bib["photos"]] == ["bib"]
    again = json.loads(snaprace(local_stack, "retention", "sweep", "--json").stdout)["swept"]
    assert all(s["event"] != event_id for s in again)  # swept once
