import pytest
from photos import s3_eventbridge_event

from pipeline import keys, uploads
from pipeline.errors import InvalidKey

BUCKET = "snaprace-images-test"


def test_created_photo_starts_processing_with_a_decoded_key():
    event = s3_eventbridge_event(BUCKET, "acme/seoul-2026/raw/finish+line+%281%29.JPG", etag="abc123")
    request = uploads.execution_request(event, BUCKET)
    photo = request.input["photo"]
    assert request.input["action"] == "process"
    assert photo["rawKey"] == "acme/seoul-2026/raw/finish line (1).JPG"
    assert (photo["orgId"], photo["eventId"], photo["etag"]) == ("acme", "seoul-2026", "abc123")
    assert photo["photoId"] == keys.photo_id_for("acme/seoul-2026/raw/finish line (1).JPG")
    assert request.name == request.input["executionName"]
    assert request.name == keys.execution_name(photo["photoId"], "abc123", "00617F08299329D189")


def test_the_same_event_twice_maps_to_the_same_execution():
    event = s3_eventbridge_event(BUCKET, "raw/acme/e1/a.jpg")
    assert uploads.execution_request(event, BUCKET) == uploads.execution_request(dict(event), BUCKET)


def test_unsupported_type_in_a_raw_path_is_recorded_as_rejected():
    request = uploads.execution_request(s3_eventbridge_event(BUCKET, "acme/e1/raw/notes.txt"), BUCKET)
    assert request.input["action"] == "reject"
    assert request.input["reason"] == "unsupported file type .txt: upload .jpg, .jpeg, .png, .heic or .heif"


def test_deleted_object_starts_a_deletion():
    event = s3_eventbridge_event(BUCKET, "acme/e1/raw/a.jpg", detail_type="Object Deleted")
    request = uploads.execution_request(event, BUCKET)
    assert request.input["action"] == "delete"
    assert request.name == keys.deletion_execution_name(
        keys.photo_id_for("acme/e1/raw/a.jpg"), "00617F08299329D189"
    )


def test_keys_outside_the_layouts_are_invalid():
    with pytest.raises(InvalidKey, match="outside the upload layouts"):
        uploads.execution_request(s3_eventbridge_event(BUCKET, "acme/e1/a.jpg"), BUCKET)
    with pytest.raises(InvalidKey, match="not this stack's bucket"):
        uploads.execution_request(s3_eventbridge_event("other-bucket", "acme/e1/raw/a.jpg"), BUCKET)


def test_other_events_are_unexpected():
    event = s3_eventbridge_event(BUCKET, "acme/e1/raw/a.jpg")
    event["detail-type"] = "Object Restore Completed"
    with pytest.raises(uploads.UnexpectedEvent):
        uploads.execution_request(event, BUCKET)


def test_s3_test_events_are_recognised():
    body = {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2026-11-01T08:00:00.000Z",
        "Bucket": BUCKET,
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }
    assert uploads.is_s3_test_event(body)
    assert not uploads.is_s3_test_event(s3_eventbridge_event(BUCKET, "acme/e1/raw/a.jpg"))


@pytest.mark.parametrize(
    ("reason", "deletion_type", "ignored"),
    [
        ("DeleteObject", "Delete Marker Created", False),  # a photographer deleted the photo
        ("Lifecycle Expiration", "Permanently Deleted", True),  # an old version expired 30 days on
        ("DeleteObject", "Permanently Deleted", True),  # purge-event removing each version
    ],
)
def test_only_a_delete_marker_removes_a_photo(reason, deletion_type, ignored):
    event = s3_eventbridge_event(BUCKET, "acme/e1/raw/a.jpg", detail_type="Object Deleted")
    event["detail"].update({"reason": reason, "deletion-type": deletion_type})
    assert uploads.is_version_removal(event) is ignored
    created = s3_eventbridge_event(BUCKET, "acme/e1/raw/a.jpg")
    assert uploads.is_version_removal(created) is False
