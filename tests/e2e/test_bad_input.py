"""Every upload ends with a final status and a reason, whatever it is; none crashes a worker or
poisons the batch it arrived in (DESIGN: never silently gone)."""

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner
from local_stack import next_seed

from snaprace.cli import main
from snaprace.corpus import IGNORED_KEYS, corpus
from snaprace.runbook import queue_depth

ORG = "acme"


def test_the_bad_input_corpus_ends_in_final_statuses_with_reasons(local_stack, event_id):
    uploads = corpus(next_seed())
    s3 = local_stack.client("s3")
    for upload in uploads:
        s3.put_object(
            Bucket=local_stack.stack.bucket, Key=f"{ORG}/{event_id}/raw/{upload.name}", Body=upload.data
        )
    for key in IGNORED_KEYS:
        s3.put_object(
            Bucket=local_stack.stack.bucket, Key=key.replace("seoul-2026", event_id), Body=uploads[-1].data
        )
    audit = local_stack.wait(ORG, event_id, timeout=180)

    wrong = []
    for upload in uploads:
        item = local_stack.item(ORG, event_id, f"{ORG}/{event_id}/raw/{upload.name}")
        status, reason = (item or {}).get("status"), (item or {}).get("reason", "")
        if status != upload.status or (upload.status == "REJECTED" and upload.reason not in reason):
            wrong.append(
                f"{upload.name[:40]}: {status} {reason!r}, expected {upload.status} {upload.reason!r}"
            )
        if upload.status == "REJECTED" and not reason:
            wrong.append(f"{upload.name[:40]}: rejected without a reason")
    assert wrong == []
    assert audit.as_dict()["missing"] == 0 and audit.as_dict()["failed"] == 0
    assert audit.raw == len(uploads)

    for orientation in range(1, 9):  # every EXIF orientation stands upright: 400x267 turned or not
        item = local_stack.item(ORG, event_id, f"{ORG}/{event_id}/raw/orientation-{orientation}.jpg")
        assert (item["width"] > item["height"]) == (orientation <= 4), orientation

    dlq = queue_depth(local_stack.stack, local_stack.stack.output("DlqUrl"))
    assert dlq == {"visible": 0, "inFlight": 0}
    table = local_stack.stack.photo_table
    for org, event in (("Acme Corp", event_id), ("acme", "seoul_2026!")):
        assert not [i for i in table.photos.of_event(org, event)]
    ignored = CliRunner().invoke(
        main,
        [
            "--endpoint-url",
            local_stack.endpoint,
            "logs",
            "start-processing",
            "--filter",
            "Upload ignored",
            "--since",
            "1h",
        ],
    )
    assert "Acme Corp" in ignored.output and "seoul_2026!" in ignored.output


def test_a_key_over_s3s_1024_bytes_is_refused_as_s3_refuses_it(local_stack):
    s3 = local_stack.client("s3")
    key = f"{ORG}/long-keys/" + "é" * 510  # 525 characters, 1,035 bytes in UTF-8; not an upload path
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=local_stack.stack.bucket, Key=key, Body=b"x")
    assert refused.value.response["Error"]["Code"] == "KeyTooLongError"
    s3.put_object(Bucket=local_stack.stack.bucket, Key=key[:-10], Body=b"x")  # 1,015 bytes: stored
    s3.delete_object(Bucket=local_stack.stack.bucket, Key=key[:-10])
