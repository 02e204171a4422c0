"""Search pieces that need no AWS: cursors, selfie checks, ranking."""

import base64
import json
from pathlib import Path

import pytest

from pipeline.common.errors import BadRequest
from pipeline.search import answers
from pipeline.search import cursor as cursors
from pipeline.search import photos as search
from pipeline.search import selfie as selfies
from pipeline.store.core import event_pk

KEY = b"k" * 32


def test_cursor_round_trip_and_it_stays_in_its_event():
    key = {"PK": event_pk("acme", "seoul"), "SK": "PHOTO#abc", "galleryKey": "2026-11-01T08:00:00Z#abc"}
    cursor = cursors.encode_cursor(key, "acme", "seoul", KEY)
    assert "=" not in cursor and "PHOTO" not in cursor  # opaque and URL-safe
    assert cursors.decode_cursor(cursor, "acme", "seoul", KEY) == key
    for org, event in (("rival", "seoul"), ("acme", "busan")):
        with pytest.raises(BadRequest, match="cursor"):
            cursors.decode_cursor(cursor, org, event, KEY)
    assert cursors.encode_cursor(None, "acme", "seoul", KEY) is None


def forged(key: dict, mac: str = "AAAAAAAAAAAAAAAAAAAAAA") -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=") + "." + mac


GENUINE = {"PK": event_pk("acme", "seoul"), "SK": "PHOTO#abc", "galleryKey": "2026-11-01T08:00:00Z#abc"}


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "bm90LWpzb24",
        forged(GENUINE),  # the shape of a real one, no valid signature
        forged(
            {**GENUINE, "SK": "PHOTO#other"},
            cursors.encode_cursor(GENUINE, "acme", "seoul", KEY).split(".")[1],
        ),
        cursors.encode_cursor(GENUINE, "acme", "seoul", b"another-stacks-key"),
        cursors.encode_cursor({"PK": event_pk("acme", "seoul")}, "acme", "seoul", KEY),  # signed, wrong shape
        cursors.encode_cursor(GENUINE, "acme", "seoul", KEY) + "x",
    ],
)
def test_a_cursor_the_api_did_not_make_for_this_gallery_is_refused(cursor):
    with pytest.raises(BadRequest, match="cursor"):
        cursors.decode_cursor(cursor, "acme", "seoul", KEY)


def test_selfies_are_checked_before_rekognition_sees_them():
    finder = search.PhotoSearch(table=None, rekognition_client=None, collection_prefix="snaprace-test")
    for selfie, message in (
        (b"", "empty"),
        (b"GIF89a" + b"\0" * 100, "JPEG or PNG"),
        (b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024), "at most 4 MB"),
        (b"\xff\xd8\xff" + b"\0" * (4_500_000), "at most 4 MB"),  # would never reach the function
    ):
        with pytest.raises(BadRequest, match=message):
            finder.by_selfie("acme", "seoul", selfie)


def test_bib_reads_rank_before_face_matches_newest_first():
    def match(photo_id, created, by, similarity=None):
        return answers.Match({"photoId": photo_id, "galleryKey": f"{created}#{photo_id}"}, by, similarity)

    ranked = answers.ranked(
        [
            match("old-bib", "2026-11-01T08:00", "bib"),
            match("face-96", "2026-11-01T09:00", "face", 96.0),
            match("new-bib", "2026-11-01T10:00", "bib"),
            match("face-99", "2026-11-01T07:00", "face", 99.0),
        ]
    )
    assert [m.item["photoId"] for m in ranked] == ["new-bib", "old-bib", "face-99", "face-96"]


def test_gallery_limit_is_bounded():
    finder = search.PhotoSearch(table=None, rekognition_client=None, collection_prefix="snaprace-test")
    for limit in (0, 101):
        with pytest.raises(BadRequest, match="limit"):
            finder.gallery("acme", "seoul", limit)


def test_the_largest_selfie_accepted_reaches_the_function_within_lambdas_payload_limit():
    """API Gateway sends a binary body to Lambda in base64 inside its event: the largest selfie
    the API accepts must still fit Lambda's 6 MB synchronous payload, or it is refused before
    the function (and its clear message) ever runs."""
    event = json.loads((Path(__file__).parents[2] / "events" / "api_selfie.json").read_text())
    selfie = b"\xff\xd8\xff" + b"\x7f" * (selfies.MAX_SELFIE_BYTES - 3)
    event["headers"]["content-type"] = "image/jpeg"
    event["body"], event["isBase64Encoded"] = base64.b64encode(selfie).decode(), True
    assert len(json.dumps(event).encode()) < selfies.LAMBDA_PAYLOAD_BYTES
    finder = search.PhotoSearch(table=None, rekognition_client=None, collection_prefix="snaprace-test")
    selfies.check_selfie(selfie)  # accepted by the API's own check
    with pytest.raises(BadRequest):
        finder.by_selfie("acme", "seoul", selfie + b"\0")


def test_a_throttled_face_search_still_answers_the_bib_reads(aws):
    """Rekognition's quota spent: the runner still gets the photos their bib was read on, told
    that face matches are missing, instead of a 500 that loses everything."""
    import boto3
    from botocore.stub import Stubber

    from pipeline.store import Store

    table = Store(boto3.resource("dynamodb", region_name="ap-northeast-2").Table("PhotoService-test"))
    photo = {"orgId": "acme", "eventId": "seoul", "photoId": "p1", "status": "INDEXED", "bibs": ["1234"]}
    table.photos.replace(photo, [{"bib": "1234", "confidence": 99.0, "box": {}, "faceId": "face-1"}], None)
    rekognition = boto3.client("rekognition", region_name="ap-northeast-2")
    finder = search.PhotoSearch(table, rekognition, "snaprace-test")
    with Stubber(rekognition) as stub:
        for _ in range(3):  # botocore's own retries first
            stub.add_client_error(
                "search_faces",
                service_error_code="ProvisionedThroughputExceededException",
                http_status_code=400,
            )
        matches, complete = finder.by_bib("acme", "seoul", "1234")
    assert [(m.item["photoId"], m.matched_by) for m in matches] == [("p1", "bib")]
    assert complete is False
