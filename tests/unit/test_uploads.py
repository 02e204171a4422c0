import pytest
from photos import s3_eventbridge_event

from pipeline.common import keys
from pipeline.common.errors import InvalidKey
from pipeline.processing import uploads

BUCKET = "snaprace-images-test"


def request_for(event: dict, bucket: str = BUCKET, exists=None) -> uploads.ExecutionRequest:
    (request,) = uploads.execution_requests(event, bucket, exists)
    return request


def test_created_photo_starts_processing_with_a_decoded_key():
    event = s3_eventbridge_event(BUCKET, "acme/seoul-2026/raw/finish+line+%281%29.JPG", etag="abc123")
    request = request_for(event, BUCKET)
    photo = request.input["photo"]
    assert request.input["action"] == "process"
    assert photo["rawKey"] == "acme/seoul-2026/raw/finish line (1).JPG"
    assert (photo["orgId"], photo["eventId"], photo["etag"]) == ("acme", "seoul-2026", "abc123")
    assert photo["photoId"] == keys.photo_id_for("acme/seoul-2026/raw/finish line (1).JPG")
    assert request.name == request.input["executionName"]
    assert request.name == keys.execution_name(photo["photoId"], "abc123", "00617F08299329D189")


def test_the_same_event_twice_maps_to_the_same_execution():
    event = s3_eventbridge_event(BUCKET, "raw/acme/e1/a.jpg")
    assert request_for(event, BUCKET) == request_for(dict(event), BUCKET)


def test_unsupported_type_in_a_raw_path_is_recorded_as_rejected():
    request = request_for(s3_eventbridge_event(BUCKET, "acme/e1/raw/notes.txt"), BUCKET)
    assert request.input["action"] == "reject"
    assert request.input["reason"] == "unsupported file type .txt: upload .jpg, .jpeg, .png, .heic or .heif"


def test_deleted_object_starts_a_deletion():
    event = s3_eventbridge_event(BUCKET, "acme/e1/raw/a.jpg", detail_type="Object Deleted")
    request = request_for(event, BUCKET)
    assert request.input["action"] == "delete"
    assert request.name == keys.deletion_execution_name(
        keys.photo_id_for("acme/e1/raw/a.jpg"), "00617F08299329D189"
    )


def test_keys_outside_the_layouts_are_invalid():
    with pytest.raises(InvalidKey, match="outside the upload layouts"):
        request_for(s3_eventbridge_event(BUCKET, "acme/e1/a.jpg"), BUCKET)
    with pytest.raises(InvalidKey, match="not this stack's bucket"):
        request_for(s3_eventbridge_event("other-bucket", "acme/e1/raw/a.jpg"), BUCKET)


def test_other_events_are_unexpected():
    event = s3_eventbridge_event(BUCKET, "acme/e1/raw/a.jpg")
    event["detail-type"] = "Object Restore Completed"
    with pytest.raises(uploads.UnexpectedEvent):
        request_for(event, BUCKET)


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


@pytest.mark.parametrize(
    ("key_in_event", "stored", "expected"),
    [
        ("acme/e1/raw/finish+line.jpg", {"acme/e1/raw/finish line.jpg"}, "acme/e1/raw/finish line.jpg"),
        ("acme/e1/raw/c%2B%2B.jpg", {"acme/e1/raw/c++.jpg"}, "acme/e1/raw/c++.jpg"),  # encoded, as S3 does
        ("acme/e1/raw/c++.jpg", {"acme/e1/raw/c++.jpg"}, "acme/e1/raw/c++.jpg"),  # delivered as written
        ("acme/e1/raw/100%25.jpg", {"acme/e1/raw/100%.jpg"}, "acme/e1/raw/100%.jpg"),
        ("acme/%EC%84%9C%EC%9A%B8/raw/a.jpg", set(), None),  # Hangul event id: refused by the id rules
        ("acme/e1/raw/%EA%B2%B0%EC%8A%B9.jpg", {"acme/e1/raw/결승.jpg"}, "acme/e1/raw/결승.jpg"),
        ("acme/e1/raw/10%3A47%3A07.jpg", {"acme/e1/raw/10:47:07.jpg"}, "acme/e1/raw/10:47:07.jpg"),
    ],
)
def test_an_upload_key_is_right_whether_or_not_the_event_encoded_it(key_in_event, stored, expected):
    event = s3_eventbridge_event(BUCKET, key_in_event)
    if expected is None:
        with pytest.raises(InvalidKey):
            request_for(event, exists=stored.__contains__)
        return
    request = request_for(event, exists=stored.__contains__)
    assert request.input["photo"]["rawKey"] == expected
    assert request.input["photo"]["photoId"] == keys.photo_id_for(expected)


def test_a_key_that_names_no_object_is_reported_not_run_as_superseded():
    event = s3_eventbridge_event(BUCKET, "acme/e1/raw/a+b.jpg")
    with pytest.raises(uploads.UploadNotFound, match="'acme/e1/raw/a b.jpg' or 'acme/e1/raw/a\\+b.jpg'"):
        uploads.execution_requests(event, BUCKET, exists=lambda key: False)


def test_deleting_an_ambiguous_key_removes_what_either_reading_left():
    event = s3_eventbridge_event(BUCKET, "acme/e1/raw/a+b.jpg", detail_type="Object Deleted")
    requests = uploads.execution_requests(event, BUCKET, exists=None)
    assert [r.input["photo"]["rawKey"] for r in requests] == ["acme/e1/raw/a b.jpg", "acme/e1/raw/a+b.jpg"]
    assert all(r.input["action"] == "delete" for r in requests)
