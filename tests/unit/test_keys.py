import re

import pytest

from pipeline.common import keys
from pipeline.common.errors import InvalidKey


@pytest.mark.parametrize(
    "raw_key, org, event, file_name",
    [
        ("acme/seoul-marathon-2026/raw/IMG_0001.JPG", "acme", "seoul-marathon-2026", "IMG_0001.JPG"),
        ("raw/acme/seoul-marathon-2026/IMG_0001.jpg", "acme", "seoul-marathon-2026", "IMG_0001.jpg"),
        ("acme/e1/raw/card 2/finish line.jpeg", "acme", "e1", "card 2/finish line.jpeg"),
        ("acme/e1/raw/c++ 마라톤 %.png", "acme", "e1", "c++ 마라톤 %.png"),
        ("acme/raw/raw/x.jpg", "acme", "raw", "x.jpg"),  # an event may be named raw
        ("raw/e1/raw/x.jpg", "e1", "raw", "x.jpg"),  # org "raw" is reserved: only the older layout fits
    ],
)
def test_both_layouts_parse(raw_key, org, event, file_name):
    photo = keys.parse_raw_key(raw_key)
    assert (photo.org_id, photo.event_id, photo.file_name) == (org, event, file_name)


@pytest.mark.parametrize(
    "raw_key, reason",
    [
        ("acme/e1/processed/abc.jpg", "outside the upload layouts"),
        ("photos/IMG_1.jpg", "outside the upload layouts"),
        ("Acme/e1/raw/IMG_1.jpg", "orgId 'Acme' is not valid"),
        ("acme/-e1/raw/IMG_1.jpg", "eventId '-e1' is not valid"),
        ("acme/e_1/raw/IMG_1.jpg", "eventId 'e_1' is not valid"),
        (f"{'a' * 64}/e1/raw/IMG_1.jpg", "is not valid"),
        ("raw/acme/e1/", "is a folder"),
        ("acme/e1/raw/card1/", "is a folder"),
        ("raw/acme.com/e1/IMG_1.jpg", "orgId 'acme.com' is not valid"),
    ],
)
def test_keys_outside_the_rules_are_rejected_with_a_reason(raw_key, reason):
    with pytest.raises(InvalidKey, match=re.escape(reason)):
        keys.parse_raw_key(raw_key)


@pytest.mark.parametrize(
    "file_name, supported",
    [
        ("a.jpg", True),
        ("a.JPG", True),
        ("a.Jpeg", True),
        ("a.PNG", True),
        ("a.heic", True),
        ("a.HEIF", True),
        ("a.gif", False),
        ("a.txt", False),
        ("README", False),
        ("a.jpg.exe", False),
        ("folder.jpg/readme", False),
    ],
)
def test_photo_types_are_case_insensitive(file_name, supported):
    assert keys.parse_raw_key(f"acme/e1/raw/{file_name}").is_supported_type is supported


def test_photo_id_depends_on_the_key_alone_and_is_safe_as_external_image_id():
    first = keys.parse_raw_key("acme/e1/raw/IMG 1.jpg").photo_id
    assert first == keys.photo_id_for("acme/e1/raw/IMG 1.jpg")
    assert first != keys.parse_raw_key("acme/e1/raw/IMG 2.jpg").photo_id
    assert first != keys.parse_raw_key("raw/acme/e1/IMG 1.jpg").photo_id
    assert re.fullmatch(r"[a-zA-Z0-9_.\-:]{1,255}", first)


def test_derived_keys_are_outside_raw_paths():
    photo = keys.parse_raw_key("raw/acme/e1/IMG_1.jpg")
    assert photo.processed_key == f"acme/e1/processed/{photo.photo_id}.jpg"
    assert photo.thumbnail_key == f"acme/e1/thumbnails/{photo.photo_id}.jpg"
    for derived in (photo.processed_key, photo.thumbnail_key):
        with pytest.raises(InvalidKey):
            keys.parse_raw_key(derived)


def test_execution_names_fit_step_functions_rules():
    photo_id = keys.photo_id_for("acme/e1/raw/a.jpg")
    multipart_etag = "9b2cf535f27731c974343645a3985328-128"
    name = keys.execution_name(photo_id, f'"{multipart_etag}"', "0055AED6DCD90281E5" * 3)
    assert len(name) <= 80
    assert re.fullmatch(r"[0-9A-Za-z_-]+", name)
    assert keys.execution_name(photo_id, multipart_etag, "0055AED6DCD90281E5") == keys.execution_name(
        photo_id, f'"{multipart_etag}"', "0055AED6DCD90281E5"
    )
    deleted = keys.deletion_execution_name(photo_id, "0055AED6DCD90281E5")
    assert len(deleted) <= 80 and deleted != name


def test_same_content_uploaded_again_gets_a_new_execution():
    photo_id = keys.photo_id_for("acme/e1/raw/a.jpg")
    etag = "d41d8cd98f00b204e9800998ecf8427e"
    assert keys.execution_name(photo_id, etag, "0061") != keys.execution_name(photo_id, etag, "0062")


def test_collection_ids_never_collide_across_organisers():
    assert keys.collection_id("snaprace-dev", "a-b", "c") != keys.collection_id("snaprace-dev", "a", "b-c")
    assert keys.collection_id("snaprace-dev", "acme", "e1") == "snaprace-dev.acme.e1"
    assert re.fullmatch(r"[a-zA-Z0-9_.\-]{1,255}", keys.collection_id("snaprace-prod", "a" * 63, "b" * 63))


@pytest.mark.parametrize(
    ("kind", "value"), [("orgId", "raw"), ("eventId", "processed"), ("eventId", "thumbnails")]
)
def test_ids_the_buckets_own_folders_use_are_reserved(kind, value):
    with pytest.raises(InvalidKey, match="reserved"):
        keys.validate_id(kind, value)


def eventbridge_matches(pattern: dict, key: str) -> bool:
    """EventBridge's prefix and wildcard key filters (a wildcard's * matches any characters)."""
    if "prefix" in pattern:
        return key.startswith(pattern["prefix"])
    return (
        re.fullmatch(".*".join(re.escape(part) for part in pattern["wildcard"].split("*")), key) is not None
    )


def test_no_derived_object_of_any_valid_ids_can_match_the_upload_rule(template):
    rule = template["Resources"]["UploadRule"]["Properties"]["EventPattern"]["detail"]["object"]["key"]
    tricky = ["raw", "processed", "thumbnails", "r", "raw-1", "a", "x-raw", "raw2", "0"]
    checked = 0
    for org in tricky:
        for event in tricky:
            try:
                keys.validate_event_ids(org, event)
            except InvalidKey:
                continue
            for file_name in ("a.jpg", "raw/b.jpg", "card/raw/c.jpg"):
                photo = keys.parse_raw_key(f"{org}/{event}/raw/{file_name}")
                for derived in (photo.processed_key, photo.thumbnail_key):
                    assert not any(eventbridge_matches(p, derived) for p in rule), derived
                    with pytest.raises(InvalidKey):
                        keys.parse_raw_key(derived)
                    checked += 1
    assert checked == 2 * 3 * 8 * 7  # every valid pair: 8 orgs (not raw), 7 events


@pytest.mark.parametrize(
    "raw_key, name",
    [
        ("acme/seoul-2026/raw/IMG_0001.jpg", "IMG_0001.jpg"),
        ("raw/acme/seoul-2026/IMG_0001.jpg", "IMG_0001.jpg"),  # the older layout: not the whole key
        ("acme/seoul-2026/raw/cam/raw/x.jpg", "cam/raw/x.jpg"),  # a card folder named raw keeps its folder
        ("not-a-layout.jpg", "not-a-layout.jpg"),
    ],
)
def test_an_uploads_name_is_its_path_under_the_events_raw_folder_in_either_layout(raw_key, name):
    assert keys.file_name_of(raw_key) == name


def test_a_photo_id_is_24_lower_case_hex_digits_the_hash_of_its_key():
    photo_id = keys.photo_id_for("acme/seoul-2026/raw/IMG_0001.jpg")
    assert keys.is_photo_id(photo_id)
    assert not keys.is_photo_id(photo_id.upper()) and not keys.is_photo_id(photo_id[:-1])
    assert not keys.is_photo_id(photo_id + "0") and not keys.is_photo_id("")
