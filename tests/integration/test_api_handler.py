"""The search API's request handling, with the events/ fixtures (API Gateway HTTP API payload 2.0)
on moto: status codes, messages and the answer's shape, without a local stack."""

import base64
import copy
import json
import time

import boto3
import pytest
from conftest import BUCKET, REGION, ROOT, SIGNING_KEY, TABLE

from pipeline.access.runner_links import make_token
from pipeline.store import Store
from pipeline.store.faces import FaceData
from snaprace.samples import selfie
from snaprace.strangers import index_runner_photo

ORG, EVENT = "acme", "seoul-marathon-2026"


def fixture(name: str) -> dict:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())


def call(event: dict, context) -> tuple[int, dict]:
    from pipeline.handlers import api

    answer = api.lambda_handler(event, context)
    return answer["statusCode"], json.loads(answer["body"])


def with_query(event: dict, query: str) -> dict:
    event = copy.deepcopy(event)
    event["rawQueryString"] = query
    pairs = [part.split("=", 1) for part in query.split("&") if part]
    event["queryStringParameters"] = {key: value for key, value in pairs} or None
    return event


@pytest.fixture
def indexed_photos(aws):
    table = Store(boto3.resource("dynamodb", region_name=REGION).Table(TABLE))
    for n, bib in enumerate(["1234", "1234", "5678"]):
        photo_id = f"p{n}"
        item = {
            "orgId": ORG,
            "eventId": EVENT,
            "photoId": photo_id,
            "status": "INDEXED",
            "bibs": [bib],
            "processedKey": f"{ORG}/{EVENT}/processed/{photo_id}.jpg",
            "thumbnailKey": f"{ORG}/{EVENT}/thumbnails/{photo_id}.jpg",
            "rawKey": f"{ORG}/{EVENT}/raw/IMG_{n}.jpg",
            "galleryKey": f"2026-11-01T08:0{n}:00+00:00#{photo_id}",
            "createdAt": f"2026-11-01T08:0{n}:00+00:00",
        }
        table.photos.replace(item, [{"bib": bib, "confidence": 99.0, "box": {}}], None)
    return table


def test_the_gallery_fixture_answers_newest_first_with_presigned_urls_and_no_raw_keys(
    indexed_photos, context
):
    status, body = call(fixture("api_gallery"), context)
    assert status == 200
    assert [p["photoId"] for p in body["photos"]] == ["p2", "p1", "p0"]
    assert all(f"/{BUCKET}/" in p["photoUrl"] or f"{BUCKET}.s3." in p["photoUrl"] for p in body["photos"])
    assert all("X-Amz-Signature=" in p["thumbnailUrl"] for p in body["photos"])
    assert "rawKey" not in json.dumps(body) and "faceIds" not in json.dumps(body)


def test_the_gallery_pages_with_its_cursor(indexed_photos, context):
    status, first = call(with_query(fixture("api_gallery"), "limit=2"), context)
    assert status == 200 and len(first["photos"]) == 2 and first["nextCursor"]
    status, second = call(
        with_query(fixture("api_gallery"), f"limit=2&cursor={first['nextCursor']}"), context
    )
    assert status == 200 and [p["photoId"] for p in second["photos"]] == ["p0"]


def test_the_bib_fixture_finds_the_photos_the_bib_was_read_on(indexed_photos, context):
    status, body = call(fixture("api_bib"), context)
    assert status == 200 and body["bib"] == "1234" and body["faceMatchesComplete"] is True
    assert sorted(p["photoId"] for p in body["photos"]) == ["p0", "p1"]
    assert {p["matchedBy"] for p in body["photos"]} == {"bib"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must be between 1 and 100"),
        ("limit=ten", "limit must be a whole number"),
        ("cursor=!!!", "cursor"),
    ],
)
def test_bad_gallery_queries_are_a_400_with_the_reason(indexed_photos, context, query, message):
    status, body = call(with_query(fixture("api_gallery"), query), context)
    assert status == 400 and message in body["message"]


def test_a_malformed_event_id_and_a_bib_that_is_not_a_bib_are_a_400(indexed_photos, context):
    event = fixture("api_bib")
    event["pathParameters"]["bib"] = "12-34!"
    event["rawPath"] = event["rawPath"].replace("/1234/", "/12-34!/")
    status, body = call(event, context)
    assert status == 400 and "is not a bib number" in body["message"]
    gallery = fixture("api_gallery")
    gallery["rawPath"] = gallery["rawPath"].replace(EVENT, "Seoul_2026")
    status, body = call(gallery, context)
    assert status == 400 and "eventId 'Seoul_2026' is not valid" in body["message"]


def test_the_selfie_fixture_without_consent_is_refused_before_rekognition(aws, context):
    event = fixture("api_selfie")
    body = json.loads(event["body"])
    body["consent"] = False
    event["body"] = json.dumps(body)
    status, answer = call(event, context)
    assert status == 400 and "consent must be true" in answer["message"]
    event["body"] = json.dumps({"consent": True, "image": base64.b64encode(b"GIF89a" + b"\0" * 64).decode()})
    status, answer = call(event, context)
    assert status == 400 and "JPEG or PNG" in answer["message"]


def public_selfie(token: str | None, address: str, face: str = "1234") -> dict:
    event = fixture("api_selfie")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/public{event['rawPath']}"
    event["requestContext"]["http"]["sourceIp"] = address
    event["body"] = json.dumps({"consent": True, "image": base64.b64encode(selfie(face)).decode()})
    if token:
        event["headers"]["x-runner-token"] = token
    return event


def index_runner(photo_id: str, bib: str, linked: bool, bib_read: bool = True) -> str:
    """Runner `bib`'s photo in the fixtures' event (snaprace.strangers.index_runner_photo)."""
    from pipeline.common import clients

    return index_runner_photo(
        Store(clients.dynamodb_table(TABLE)),
        clients.rekognition(),
        f"snaprace-test.{ORG}.{EVENT}",
        ORG,
        EVENT,
        photo_id,
        bib,
        int(bib) + (0 if bib_read else 7),
        linked,
        bib_read,
    )


def index_face_only(photo_id: str, bib: str) -> str:
    """A photo where runner `bib`'s face shows but no bib was read; its face id."""
    return index_runner(photo_id, bib, linked=False, bib_read=False)


def test_a_runners_link_opens_the_verified_selfie_search_within_its_own_limit(
    emulated_rekognition, published, context
):
    """PublicSelfiesPerHour counts per address and also per link: a shared or leaked link does not
    open selfie search to a crowd behind many addresses."""
    index_runner("p1234", "1234", linked=True)
    index_runner("p5678", "5678", linked=True)
    link = make_token(SIGNING_KEY.encode(), ORG, EVENT, "1234", int(time.time()) + 86400)
    status, answer = call(public_selfie(None, "198.51.100.1"), context)
    assert status == 403 and "personal runner link" in answer["message"]
    answers = [call(public_selfie(link, f"198.51.100.{n}"), context) for n in range(2, 13)]
    assert [status for status, _ in answers] == [200] * 10 + [429]  # PublicSelfiesPerHour: 10
    assert "too many requests" in answers[-1][1]["message"]
    assert [p["photoId"] for p in answers[0][1]["photos"]] == ["p1234"]
    other = make_token(SIGNING_KEY.encode(), ORG, EVENT, "5678", int(time.time()) + 86400)
    status, answer = call(public_selfie(other, "198.51.100.13", "5678"), context)
    assert status == 200 and [p["photoId"] for p in answer["photos"]] == ["p5678"]  # another runner's link


def test_a_runners_link_whose_bib_has_no_linked_face_opens_no_selfie_search(
    emulated_rekognition, published, context
):
    """Bib 1053's runner never had a face linked (did not start, hid the bib): their link must not
    find runner 111 by 111's selfie, nor anyone else; the runner is told what to do instead."""
    index_runner("p111", "111", linked=True)
    index_runner("p1053", "1053", linked=False)  # read, but no face linked to it
    link = make_token(SIGNING_KEY.encode(), ORG, EVENT, "1053", int(time.time()) + 86400)
    for face in ("111", "1053"):
        status, answer = call(public_selfie(link, "198.51.100.20", face), context)
        assert status == 403 and "no photo with your bib shows your face yet" in answer["message"]
        assert "photos" not in answer
    assert emulated_rekognition.calls["SearchFacesByImage"] == 0  # refused before Rekognition is asked
    own = make_token(SIGNING_KEY.encode(), ORG, EVENT, "111", int(time.time()) + 86400)
    status, answer = call(public_selfie(own, "198.51.100.21", "111"), context)
    assert status == 200 and [p["photoId"] for p in answer["photos"]] == ["p111"]


def public(name: str, address: str = "198.51.100.30", client_header: bool = True) -> dict:
    event = fixture(name)
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/public{event['rawPath']}"
    event["requestContext"]["http"]["sourceIp"] = address
    event["requestContext"].pop("authorizer", None)
    if client_header:
        event["headers"]["x-snaprace-client"] = "runner-page"
    return event


def test_a_cross_site_page_cannot_make_its_visitors_search(emulated_rekognition, published, context):
    """A third-party page can send a plain GET or a text/plain POST without asking the API first (no
    CORS preflight); such requests are refused before any counter, table read or Rekognition call."""
    index_runner("p1234", "1234", linked=True)
    status, answer = call(public("api_bib", client_header=False), context)
    assert status == 400 and "x-snaprace-client" in answer["message"]
    assert call(public("api_bib"), context)[0] == 200
    selfie_post = public_selfie(None, "198.51.100.31")
    selfie_post["headers"]["content-type"] = "text/plain"
    status, answer = call(selfie_post, context)
    assert status == 415 and "application/json" in answer["message"]
    keyed = fixture("api_selfie")
    keyed["headers"]["content-type"] = "text/plain;charset=UTF-8"
    assert call(keyed, context)[0] == 415
    assert emulated_rekognition.calls["SearchFacesByImage"] == 0


def test_answers_are_never_cached_nor_sniffed_errors_included(indexed_photos, context):
    from pipeline.handlers import api

    for event in (fixture("api_bib"), fixture("api_gallery"), with_query(fixture("api_gallery"), "limit=0")):
        answer = api.lambda_handler(event, context)
        assert answer["headers"]["Cache-Control"] == "no-store"
        assert answer["headers"]["X-Content-Type-Options"] == "nosniff"


def test_junk_from_a_venues_shared_address_does_not_lock_out_its_runners(
    emulated_rekognition, published, context
):
    """Ten POSTs without a link use up that address's selfie searches; a runner behind the same
    address with their link is counted by the link, not the address."""
    index_runner("p1234", "1234", linked=True)
    venue = "203.0.113.50"
    junk = [call(public_selfie(None, venue), context)[0] for _ in range(11)]
    assert junk == [403] * 10 + [429]
    link = make_token(SIGNING_KEY.encode(), ORG, EVENT, "1234", int(time.time()) + 86400)
    status, answer = call(public_selfie(link, venue), context)
    assert status == 200 and [p["photoId"] for p in answer["photos"]] == ["p1234"]


def test_repeated_bib_searches_cost_no_more_rekognition_calls_and_erased_faces_drop_out(
    emulated_rekognition, published, context
):
    """The bib's linked-face matches are kept per bib: twenty searches of a popular bib make one
    SearchFaces, not twenty. A face erased since (delete-runner, face search off, retention) leaves
    the answer at once: the cache is checked against the photo items the answer reads anyway."""
    from pipeline.common import clients

    index_runner("p1234", "1234", linked=True)
    hidden_face = index_face_only("p1234-hidden", "1234")
    answers = [call(public("api_bib", f"198.51.100.{n}"), context) for n in range(40, 60)]
    assert {status for status, _ in answers} == {200}
    for _, answer in answers:
        assert {(p["photoId"], p["matchedBy"]) for p in answer["photos"]} == {
            ("p1234", "bib"),
            ("p1234-hidden", "face"),
        }
    assert emulated_rekognition.calls["SearchFaces"] == 1

    table = Store(clients.dynamodb_table(TABLE))
    matches = table.faces.matches(ORG, EVENT, "1234")
    photos = table.photos.get_many(ORG, EVENT, ["p1234-hidden"])
    table.faces.forget_on(ORG, EVENT, {hidden_face}, photos)  # the erasure's write; it clears the cache too
    status, answer = call(public("api_bib", "198.51.100.61"), context)
    assert status == 200 and [p["photoId"] for p in answer["photos"]] == ["p1234"]
    # and were the cleared cache put back as it was, the photo item no longer lists the face
    table.faces.put_matches(ORG, EVENT, "1234", matches["linkedFaces"], matches["matches"], 4_000_000_000)
    status, answer = call(public("api_bib", "198.51.100.62"), context)
    assert status == 200 and [p["photoId"] for p in answer["photos"]] == ["p1234"]


def test_a_bib_whose_linked_faces_change_is_searched_again(emulated_rekognition, published, context):
    from pipeline.common import clients

    index_runner("p1234", "1234", linked=True)
    assert call(public("api_bib"), context)[0] == 200
    assert emulated_rekognition.calls["SearchFaces"] == 1
    index_runner("p1234-b", "1234", linked=True)  # a second photo links another face to the bib
    status, answer = call(public("api_bib"), context)
    assert status == 200 and emulated_rekognition.calls["SearchFaces"] == 3  # both faces, once each
    cached = Store(clients.dynamodb_table(TABLE)).faces.matches(ORG, EVENT, "1234")
    assert len(cached["linkedFaces"]) == 2 and int(cached["expiresAt"]) > time.time()


@pytest.fixture
def named_runners(published):
    """Timing results with runners whose names share words: two Kims, two Anas."""
    import datetime

    from pipeline.common import clients
    from pipeline.timing import results_file
    from pipeline.timing import rules as timing

    names = {
        "1001": "Kim Minjun",
        "1002": "Kim Seoyeon",
        "1003": "Ana Lima",
        "1004": "Ana Souza",
        "1005": "Oh Li",
    }
    rows = ["bib,checkpoint,time,name"] + [
        f"{bib},FINISH,10:00:0{i},{name}" for i, (bib, name) in enumerate(names.items())
    ]
    results = results_file.parse_results(
        "\n".join(rows), results_file.Columns(), datetime.date(2026, 4, 12), timing.event_zone("Asia/Seoul")
    )
    Store(clients.dynamodb_table(TABLE)).timing.replace_results(ORG, EVENT, results, "results.csv")
    return names


def name_search(name: str, address: str = "198.51.100.70") -> dict:
    event = with_query(public("api_runners", address), f"name={name}")
    event["queryStringParameters"] = {"name": name}
    return event


def test_the_public_name_search_is_off_until_the_organiser_turns_it_on(named_runners, context):
    status, answer = call(name_search("Ana Lima"), context)
    assert status == 403 and "search by your bib number" in answer["message"]
    Store(boto3.resource("dynamodb", region_name=REGION).Table(TABLE)).settings.put(
        ORG, EVENT, {"published": True, "nameSearch": "on"}
    )
    assert call(name_search("Ana Lima"), context)[1]["runners"] == [{"bib": "1003", "name": "Ana Lima"}]


@pytest.mark.parametrize(
    ("typed", "bibs"),
    [
        ("ana lima", ["1003"]),
        ("LIMA ANA", ["1003"]),  # any order, any case
        ("oh li", ["1005"]),  # short names are names
        ("ana", []),  # two runners are Ana: no list of them
        ("kim", []),
        ("ana l", []),  # no prefixes: the directory walk of two-letter prefixes finds nothing
        ("an li", []),
        ("lima", []),  # one word of a two-word name: a surname alone is a guess, not a name
        ("ana lima souza", []),
    ],
)
def test_a_stranger_finds_one_runner_by_their_whole_name_and_no_directory(
    named_runners, context, typed, bibs
):
    Store(boto3.resource("dynamodb", region_name=REGION).Table(TABLE)).settings.put(
        ORG, EVENT, {"published": True, "nameSearch": "on"}
    )
    status, answer = call(name_search(typed), context)
    assert status == 200 and [runner["bib"] for runner in answer["runners"]] == bibs


def test_one_client_makes_a_few_name_searches_an_hour_and_a_hit_and_a_miss_then_answer_alike(
    named_runners, context
):
    """Counted before the lookup: past the limit, "is this person running?" gets no answer."""
    from pipeline.access import ratelimit

    Store(boto3.resource("dynamodb", region_name=REGION).Table(TABLE)).settings.put(
        ORG, EVENT, {"published": True, "nameSearch": "on"}
    )
    names = ["oh li", "nobody here"] * ratelimit.NAMES_PER_HOUR
    answers = [call(name_search(name, "198.51.100.80"), context) for name in names]
    assert [status for status, _ in answers[: ratelimit.NAMES_PER_HOUR]] == [200] * ratelimit.NAMES_PER_HOUR
    assert answers[0][1]["runners"] == [{"bib": "1005", "name": "Oh Li"}]
    assert {status for status, _ in answers[ratelimit.NAMES_PER_HOUR :]} == {429}  # hits and misses alike
    assert call(name_search("oh li", "198.51.100.81"), context)[0] == 200  # another client


def test_a_name_whose_runners_are_not_all_read_answers_nobody(published, context):
    """Two "Kim Li" among 400 Kims: the search reads at most 3 pages of "kim" and cannot tell the
    name is shared, so it answers nobody rather than one of them."""
    import datetime

    from pipeline.common import clients
    from pipeline.timing import results_file
    from pipeline.timing import rules as timing

    names = {str(1000 + n): f"Kim Seo{chr(97 + n % 26)}{chr(97 + n // 26 % 26)}" for n in range(398)}
    names["1000"] = names["9999"] = "Kim Li"  # one read on the first page, one beyond the third
    rows = ["bib,checkpoint,time,name"] + [f"{bib},FINISH,10:00:00,{name}" for bib, name in names.items()]
    results = results_file.parse_results(
        "\n".join(rows), results_file.Columns(), datetime.date(2026, 4, 12), timing.event_zone("Asia/Seoul")
    )
    Store(clients.dynamodb_table(TABLE)).timing.replace_results(ORG, EVENT, results, "results.csv")
    Store(clients.dynamodb_table(TABLE)).settings.put(ORG, EVENT, {"published": True, "nameSearch": "on"})
    status, answer = call(name_search("kim li"), context)
    assert status == 200 and answer["runners"] == []
    long_word = "\u3300" * 100  # folds to 1,200 bytes: no sort key holds it
    status, answer = call(name_search(long_word + " kim"), context)
    assert status == 400 and "that long" in answer["message"]
    keyed = fixture("api_runners")
    keyed["queryStringParameters"] = {"name": long_word}
    status, answer = call(keyed, context)
    assert status == 400 and "that long" in answer["message"]


def test_a_runner_link_is_counted_in_its_own_event_only(emulated_rekognition, published, context):
    """The same bib in other orgs' events is other runners: their links' searches (refused there:
    no face linked) do not use up this runner's, however many events a stranger spreads them over."""
    from pipeline.common import clients

    index_runner("p1234", "1234", linked=True)
    table = Store(clients.dynamodb_table(TABLE))
    for race in range(4):
        table.settings.put("rival", f"race-{race}", {"published": True})
        elsewhere = make_token(
            SIGNING_KEY.encode(), "rival", f"race-{race}", "1234", int(time.time()) + 86400
        )
        for n in range(10):
            event = public_selfie(elsewhere, f"198.51.{race}.{n + 1}")
            path = f"/public/orgs/rival/events/race-{race}/selfie-search"
            event["rawPath"] = event["requestContext"]["http"]["path"] = path
            event["pathParameters"] = {"orgId": "rival", "eventId": f"race-{race}"}
            assert call(event, context)[0] == 403
    link = make_token(SIGNING_KEY.encode(), ORG, EVENT, "1234", int(time.time()) + 86400)
    assert call(public_selfie(link, "198.51.100.120"), context)[0] == 200


def test_face_search_off_stops_face_matches_at_once_even_from_the_cache(
    emulated_rekognition, published, context
):
    """Turned off, the faces leave Rekognition and the table over a while on a big event; the bib
    search answers no face match from the moment the setting says off."""
    from pipeline.common import clients

    index_runner("p1234", "1234", linked=True)
    index_face_only("p1234-hidden", "1234")
    assert {p["photoId"] for p in call(public("api_bib"), context)[1]["photos"]} == {"p1234", "p1234-hidden"}
    table = Store(clients.dynamodb_table(TABLE))
    table.settings.put(ORG, EVENT, {"published": True, "faceSearch": "off"})  # faces not yet gone
    status, answer = call(public("api_bib"), context)
    assert status == 200 and [p["photoId"] for p in answer["photos"]] == ["p1234"]
    assert call(fixture("api_bib"), context)[1]["count"] == 1  # the keyed search too


def test_every_face_deletion_clears_the_cached_face_matches(emulated_rekognition, published, context):
    from pipeline.common import clients

    index_runner("p1234", "1234", linked=True)
    hidden = index_face_only("p1234-hidden", "1234")
    call(public("api_bib"), context)
    table = Store(clients.dynamodb_table(TABLE))
    assert table.faces.matches(ORG, EVENT, "1234") is not None
    table.faces.forget_on(ORG, EVENT, {hidden}, table.photos.get_many(ORG, EVENT, ["p1234-hidden"]))
    assert table.faces.matches(ORG, EVENT, "1234") is None  # delete-runner's last step

    from pipeline.jobs import scrub

    call(public("api_bib", "198.51.100.62"), context)
    assert table.faces.matches(ORG, EVENT, "1234") is not None
    job = {"orgId": ORG, "eventId": EVENT}  # face search off's and retention's job, page by page
    done = scrub.scrub_page(table, job)
    assert table.faces.matches(ORG, EVENT, "1234") is None and done.cursor is not None  # its first page
    call(public("api_bib", "198.51.100.63"), context)  # a search while the job works caches again
    assert table.faces.matches(ORG, EVENT, "1234") is not None
    while done.cursor is not None:
        done = scrub.scrub_page(table, {**job, "cursor": done.cursor})
    assert table.faces.matches(ORG, EVENT, "1234") is None  # its last page


def test_a_face_match_cache_write_that_fails_still_answers_the_runner(
    emulated_rekognition, published, context, monkeypatch
):
    from botocore.exceptions import ClientError

    index_runner("p1234", "1234", linked=True)
    index_face_only("p1234-hidden", "1234")

    def throttled(*_args, **_kwargs):
        error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
        raise ClientError(error, "UpdateItem")

    monkeypatch.setattr(FaceData, "put_matches", throttled)
    status, answer = call(public("api_bib"), context)
    assert status == 200 and {p["matchedBy"] for p in answer["photos"]} == {"bib", "face"}


def test_the_checked_in_description_is_the_one_the_routes_generate_and_the_api_serves(aws, context):
    """docs/openapi.json is generated from the routes and pipeline.api.models: regenerate it with
    `python -m pipeline.handlers.api > docs/openapi.json` (from src/) when the API changes."""
    from pipeline.handlers import api

    checked_in = (ROOT / "docs" / "openapi.json").read_text()
    assert api.description() == checked_in
    event = public("api_gallery")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/openapi.json"
    answer = api.lambda_handler(event, context)
    assert answer["statusCode"] == 200 and answer["body"] == checked_in
    described = json.loads(checked_in)
    served = {
        f"{method.upper()} {path}" for path, methods in described["paths"].items() for method in methods
    }
    from snaprace.template import load_template

    events = load_template()["Resources"]["SearchApiFunction"]["Properties"]["Events"].values()
    path = {"{orgId}": "{org_id}", "{eventId}": "{event_id}"}
    routes = {
        f"{e['Properties']['Method']} {e['Properties']['Path']}".replace("{orgId}", path["{orgId}"]).replace(
            "{eventId}", path["{eventId}"]
        )
        for e in events
    }
    assert served == routes - {"GET /openapi.json"}  # every route the template gives the function


def test_an_answer_our_code_shapes_wrong_is_a_500_not_the_callers_fault(indexed_photos, context, monkeypatch):
    """Response validation failing is our bug: the errors alarm counts it, the caller is not told
    to fix their request."""
    from pipeline.handlers import api

    monkeypatch.setattr(api, "answer", lambda matches, **extra: {"photos": "not a list"})
    assert api.lambda_handler(fixture("api_bib"), context)["statusCode"] == 500


class CollectionWatcher:
    """Rekognition's collection calls, answered, with what the table held when the collection went."""

    class exceptions:  # noqa: N801 - boto3's shape
        ResourceNotFoundException = KeyError

    def __init__(self, table):
        self.table, self.matches_when_deleted = table, None

    def describe_collection(self, CollectionId):  # noqa: N803 - boto3's names
        return {"FaceCount": 2}

    def delete_collection(self, CollectionId):  # noqa: N803
        self.matches_when_deleted = self.table.faces.matches(ORG, EVENT, "1234")


def test_retention_clears_the_cached_matches_before_the_faces_go(aws):
    """Under retention face search stays on, so a bib search would still read the cache: it goes
    before the collection (with face search off the search does not read it; the job deletes it)."""
    from pipeline.common import clients
    from pipeline.retention import faces as retention

    table = Store(clients.dynamodb_table(TABLE))
    table.faces.put_matches(ORG, EVENT, "1234", ["face-a"], [["p1", "face-a", 99.0]], 4_000_000_000)
    watcher = CollectionWatcher(table)
    started = []
    job_id = retention.delete_event_faces(
        table, watcher, "snaprace-test", lambda *job: started.append(job) or "R1", ORG, EVENT
    )
    assert watcher.matches_when_deleted is None
    assert (job_id, started) == ("R1", [(ORG, EVENT, "scrub-faces", {})])
