"""The search API on the local stack: HTTP requests through the authorizer and SearchApiFunction
with API Gateway's payload 2.0 events, against photos the real pipeline indexed."""

import base64
import csv
import io
import json
import urllib.error
import urllib.request

import pytest
from local_stack import next_seed

from pipeline.common import keys
from snaprace.samples import Runner, race_photo, selfie


def call(
    running, path: str, key: str | None = "", method: str = "GET", body: bytes | None = None, ctype=None
):
    """(status, JSON body) of one API request; key "" means the stack's real key."""
    if key == "":
        key = api_key(running)
    request = urllib.request.Request(running.stack.output("ApiUrl") + path, method=method, data=body)  # noqa: S310 - the local stack
    if key is not None:
        request.add_header("x-api-key", key)
    else:
        request.add_header("x-snaprace-client", "test")  # what the runner page sends (pipeline.api.web)
    if ctype:
        request.add_header("content-type", ctype)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local stack
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def snaprace(running, *args):
    from click.testing import CliRunner

    from snaprace.cli import main

    return CliRunner().invoke(main, ["--endpoint-url", running.endpoint, *args])


def api_key(running) -> str:
    secret = running.stack.output("ApiKeySecretName")
    return running.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]


def selfie_body(image: bytes, consent=True) -> bytes:
    return json.dumps({"consent": consent, "image": base64.b64encode(image).decode()}).encode()


@pytest.fixture(scope="module")
def race(local_stack):
    """One event: runner 901 on three photos, once with the bib hidden; others around them."""
    event = "e2e-api-race"
    shots = [
        [Runner("901"), Runner("902")],
        [Runner("901")],
        [Runner("901", show_bib=False), Runner("903")],
        [Runner("902"), Runner("903")],
        [Runner("904")],
    ]
    for index, runners in enumerate(shots):
        data, _ = race_photo(next_seed(), runners)
        local_stack.put("acme", event, f"IMG_{index}.jpg", data)
    local_stack.wait("acme", event)
    return event


def ids(photos: list[dict]) -> set[str]:
    return {photo["photoId"] for photo in photos}


def photo_ids(org: str, event: str, *names: str) -> set[str]:
    return {keys.photo_id_for(f"{org}/{event}/raw/{name}") for name in names}


def test_requests_need_the_key(local_stack, race):
    assert call(local_stack, f"/orgs/acme/events/{race}/photos", key=None)[0] == 401
    assert call(local_stack, f"/orgs/acme/events/{race}/photos", key="guess")[0] == 403
    assert call(local_stack, f"/orgs/acme/events/{race}/photos")[0] == 200


def test_bib_search_finds_the_runner_by_bib_and_by_linked_face(local_stack, race):
    status, body = call(local_stack, f"/orgs/acme/events/{race}/bibs/%23901/photos")
    assert status == 200 and body["bib"] == "901"
    assert ids(body["photos"]) == photo_ids("acme", race, "IMG_0.jpg", "IMG_1.jpg", "IMG_2.jpg")
    by = {p["matchedBy"] for p in body["photos"]}
    assert by == {"bib", "face"}
    (face_match,) = [p for p in body["photos"] if p["matchedBy"] == "face"]
    assert face_match["similarity"] >= 95 and "901" not in face_match["bibs"]
    assert [p["matchedBy"] for p in body["photos"]] == ["bib", "bib", "face"]  # bib reads first
    with urllib.request.urlopen(face_match["photoUrl"], timeout=10) as photo:  # noqa: S310 - presigned
        assert photo.read(3) == b"\xff\xd8\xff"


def test_selfie_search_as_json_or_image(local_stack, race):
    path = f"/orgs/acme/events/{race}/selfie-search"
    status, body = call(
        local_stack, path, method="POST", body=selfie_body(selfie("903")), ctype="application/json"
    )
    assert status == 200
    assert ids(body["photos"]) == photo_ids("acme", race, "IMG_2.jpg", "IMG_3.jpg")
    assert all(p["matchedBy"] == "selfie" and p["similarity"] >= 90 for p in body["photos"])
    status, raw = call(
        local_stack, path + "?consent=true", method="POST", body=selfie("903"), ctype="image/jpeg"
    )
    assert status == 200 and {p["photoId"] for p in raw["photos"]} == {p["photoId"] for p in body["photos"]}


@pytest.mark.parametrize(
    "body, ctype, expected",
    [
        (selfie_body(selfie("903"), consent=False), "application/json", "consent"),
        (selfie("903"), "image/jpeg", "consent=true"),
        (selfie_body(b"<html>not a photo</html>"), "application/json", "JPEG or PNG"),
        (selfie_body(b"\xff\xd8\xff" + b"\0" * (4 * 1024 * 1024)), "application/json", "at most 4 MB"),
        (b"{not json", "application/json", "consent"),
    ],
)
def test_bad_selfies_get_a_readable_400(local_stack, race, body, ctype, expected):
    status, answer = call(
        local_stack, f"/orgs/acme/events/{race}/selfie-search", method="POST", body=body, ctype=ctype
    )
    assert status == 400 and expected in answer["message"]


def test_a_selfie_without_a_face_is_a_400(local_stack, race):
    data, _ = race_photo(next_seed(), [Runner("905", show_face=False)])
    path = f"/orgs/acme/events/{race}/selfie-search"
    status, answer = call(local_stack, path, method="POST", body=selfie_body(data), ctype="application/json")
    assert status == 400 and "no face" in answer["message"]


def test_an_event_with_no_photos_yet_is_empty_not_an_error(local_stack):
    empty = "/orgs/acme/events/e2e-api-nothing-yet"
    assert call(local_stack, f"{empty}/photos") == (200, {"photos": [], "count": 0, "nextCursor": None})
    assert call(local_stack, f"{empty}/bibs/901/photos")[1]["photos"] == []
    status, body = call(
        local_stack,
        f"{empty}/selfie-search",
        method="POST",
        body=selfie_body(selfie("901")),
        ctype="application/json",
    )
    assert (status, body["photos"]) == (200, [])


@pytest.mark.parametrize(
    "path",
    [
        "/orgs/Acme/events/e2e-api-race/photos",
        "/orgs/acme/events/e2e_api_race/photos",
        "/orgs/acme/events/e2e-api-race/bibs/12-34!/photos",
        "/orgs/acme/events/e2e-api-race/photos?limit=0",
        "/orgs/acme/events/e2e-api-race/photos?limit=ten",
        "/orgs/acme/events/e2e-api-race/photos?cursor=bm90LWEtY3Vyc29y",
    ],
)
def test_malformed_requests_get_a_readable_400(local_stack, race, path):
    status, body = call(local_stack, path)
    assert status == 400 and body["message"]


def test_gallery_pages_are_newest_first_and_stable(local_stack, race):
    path = f"/orgs/acme/events/{race}/photos?limit=2"
    status, first = call(local_stack, path)
    assert status == 200 and first["count"] == 2 and first["nextCursor"]
    data, _ = race_photo(next_seed(), [Runner("906")])  # a new upload between two page requests
    local_stack.put("acme", race, "IMG_late.jpg", data)
    local_stack.wait("acme", race)
    seen, cursor = [p["photoId"] for p in first["photos"]], first["nextCursor"]
    while cursor:
        status, page = call(local_stack, f"{path}&cursor={cursor}")
        assert status == 200
        seen += [p["photoId"] for p in page["photos"]]
        cursor = page["nextCursor"]
    assert len(seen) == len(set(seen)) == 5  # every photo once; the late one sits before page 1
    status, fresh = call(local_stack, f"/orgs/acme/events/{race}/photos?limit=100")
    assert fresh["count"] == 6 and ids(fresh["photos"][:1]) == photo_ids("acme", race, "IMG_late.jpg")


def test_one_organiser_never_sees_anothers_photos(local_stack, race):
    rival_data, _ = race_photo(next_seed(), [Runner("901")])  # same event id, same bib, other org
    local_stack.put("rival", race, "RIVAL.jpg", rival_data)
    local_stack.wait("rival", race)
    status, acme = call(local_stack, f"/orgs/acme/events/{race}/bibs/901/photos")
    assert not ids(acme["photos"]) & photo_ids("rival", race, "RIVAL.jpg")
    status, rival = call(local_stack, f"/orgs/rival/events/{race}/bibs/901/photos")
    assert ids(rival["photos"]) == photo_ids("rival", race, "RIVAL.jpg")
    status, rival_selfie = call(
        local_stack,
        f"/orgs/rival/events/{race}/selfie-search",
        method="POST",
        body=selfie_body(selfie("903")),
        ctype="application/json",
    )
    assert rival_selfie["photos"] == []  # 903 runs only in acme's photos
    cursor = call(local_stack, f"/orgs/acme/events/{race}/photos?limit=1")[1]["nextCursor"]
    status, hop = call(local_stack, f"/orgs/rival/events/{race}/photos?cursor={cursor}")
    assert status == 400 and "not one this API returned for this event" in hop["message"]


def test_an_organisers_key_opens_its_own_org_only_and_stops_when_revoked(local_stack, race):
    made = snaprace(local_stack, "org-key", "create", "--org", "acme", "--json")
    assert made.exit_code == 0, made.output
    acme = json.loads(made.stdout.strip().splitlines()[-1])
    assert acme["org"] == "acme" and acme["key"].startswith("snr.acme.")
    rival = json.loads(
        snaprace(local_stack, "org-key", "create", "--org", "rival", "--json").stdout.strip().splitlines()[-1]
    )

    status, body = call(local_stack, f"/orgs/acme/events/{race}/photos", key=acme["key"])
    _, as_operator = call(local_stack, f"/orgs/acme/events/{race}/photos")
    assert status == 200 and body["count"] >= 1
    assert [p["photoId"] for p in body["photos"]] == [p["photoId"] for p in as_operator["photos"]]
    status, body = call(local_stack, f"/orgs/acme/events/{race}/bibs/901/photos", key=rival["key"])
    assert status == 403 and "does not open org 'acme'" in body["message"]
    status, _ = call(local_stack, "/orgs/rival/events/any-event/photos", key=acme["key"])
    assert status == 403
    status, _ = call(local_stack, "/orgs/rival/events/any-event/photos", key=rival["key"])
    assert status == 200

    listed = json.loads(snaprace(local_stack, "org-key", "list", "--org", "acme", "--json").stdout)
    (mine,) = [k for k in listed["keys"] if k["keyId"] == acme["keyId"]]  # other tests make acme keys too
    assert mine["revokedAt"] is None and not any("key" in k for k in listed["keys"])  # never the key itself
    assert (
        snaprace(local_stack, "org-key", "revoke", "--org", "acme", "--key-id", acme["keyId"]).exit_code == 0
    )
    status, _ = call(local_stack, f"/orgs/acme/events/{race}/photos", key=acme["key"])
    assert status == 403  # the local stack does not cache the authorizer's answer (AWS: up to 300 s)
    forged = acme["key"][:-4] + "AAAA"
    status, _ = call(local_stack, f"/orgs/acme/events/{race}/photos", key=forged)
    assert status == 403
    unknown = snaprace(local_stack, "org-key", "revoke", "--org", "acme", "--key-id", "0123456789ab")
    assert unknown.exit_code == 1 and "has no key '0123456789ab'" in unknown.output


def test_runners_search_a_published_event_without_a_key_and_an_unpublished_one_answers_as_empty(
    local_stack, race
):
    from click.testing import CliRunner

    from snaprace.cli import main

    def settings(*args):
        return CliRunner().invoke(
            main,
            [
                "--endpoint-url",
                local_stack.endpoint,
                "event-settings",
                "--org",
                "acme",
                "--event",
                race,
                *args,
            ],
        )

    public = f"/public/orgs/acme/events/{race}"
    status, hidden = call(local_stack, f"{public}/photos", key=None)
    _, unknown = call(local_stack, "/public/orgs/acme/events/no-such-event/photos", key=None)
    assert status == 200 and hidden == unknown == {"photos": [], "count": 0, "nextCursor": None}  # no oracle
    faceless, _ = race_photo(next_seed(), [Runner("905", show_face=False)])
    for image in (selfie("903"), faceless):  # a face or none: a hidden event is an unknown one
        answers = [
            call(
                local_stack,
                f"{events}/selfie-search",
                key=None,
                method="POST",
                body=selfie_body(image),
                ctype="application/json",
            )
            for events in (public, "/public/orgs/acme/events/no-such-event")
        ]
        assert answers[0] == answers[1] == (200, {"photos": [], "count": 0})
    status, _ = call(local_stack, f"/orgs/acme/events/{race}/photos", key=None)
    assert status == 401  # the keyed routes still need a key

    assert "published" in settings("--publish").output
    status, body = call(local_stack, f"{public}/photos", key=None)
    assert status == 200 and body["count"] >= 1
    status, body = call(local_stack, f"{public}/bibs/902/photos", key=None)
    assert status == 200 and body["bib"] == "902" and body["count"] >= 1
    status, body = call(local_stack, f"{public}/bibs/9-0-2!/photos", key=None)
    assert status == 400 and "is not a bib number" in body["message"]

    assert "published" not in settings("--unpublish").output
    status, body = call(local_stack, f"{public}/photos", key=None)
    assert status == 200 and body["count"] == 0


def public_selfie(running, org: str, event: str, image: bytes, token: str | None = None):
    request = urllib.request.Request(  # noqa: S310 - the local stack
        f"{running.stack.output('ApiUrl')}/public/orgs/{org}/events/{event}/selfie-search",
        method="POST",
        data=selfie_body(image),
        headers={"content-type": "application/json", **({"x-runner-token": token} if token else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local stack
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_a_verified_events_selfie_search_opens_to_a_runners_own_link_only(local_stack, race, tmp_path):
    """Selfie mode verified (a new event's default): `runner-links` writes each runner's link; the
    link opens the selfie search for that runner's face, on that event, and nothing else."""
    bibs = tmp_path / "bibs.csv"
    bibs.write_text("bib,name\n903,A. Runner\n901,B. Runner\n")
    written = snaprace(local_stack, "runner-links", "--org", "acme", "--event", race, "--bibs", str(bibs))
    assert written.exit_code == 0, written.output
    assert "not published" in written.stderr  # the links would open nothing yet: the command says so
    rows = list(csv.DictReader(io.StringIO(written.stdout)))
    assert [row["bib"] for row in rows] == ["901", "903"]
    link = {row["bib"]: row for row in rows}["903"]
    assert link["link"] == f"{local_stack.stack.output('ApiUrl')}/e/acme/{race}#runner={link['token']}"
    assert link["expiresAt"] > "2026"

    assert (
        snaprace(local_stack, "event-settings", "--org", "acme", "--event", race, "--publish").exit_code == 0
    )
    try:
        status, body = public_selfie(local_stack, "acme", race, selfie("903"))
        assert status == 403 and "personal runner link" in body["message"]
        status, body = public_selfie(local_stack, "acme", race, selfie("903"), link["token"])
        assert status == 200 and ids(body["photos"]) == photo_ids("acme", race, "IMG_2.jpg", "IMG_3.jpg")
        status, body = public_selfie(local_stack, "acme", race, selfie("901"), link["token"])
        assert status == 403 and "does not look like the runner" in body["message"]  # 903's link, 901's face
        forged = link["token"].replace("903.", "901.", 1)
        status, body = public_selfie(local_stack, "acme", race, selfie("901"), forged)
        assert status == 403 and "not valid for this event" in body["message"]

        published = ("event-settings", "--org", "rival", "--event", race, "--publish")
        assert snaprace(local_stack, *published).exit_code == 0  # the same event id at another org
        status, body = public_selfie(local_stack, "rival", race, selfie("903"), link["token"])
        assert status == 403 and "not valid for this event" in body["message"]

        opened = ("event-settings", "--org", "acme", "--event", race, "--selfie-search", "OPEN")
        assert "selfie search open" in snaprace(local_stack, *opened).output
        status, body = public_selfie(local_stack, "acme", race, selfie("903"))
        assert status == 200 and ids(body["photos"]) == photo_ids("acme", race, "IMG_2.jpg", "IMG_3.jpg")
    finally:
        for org in ("acme", "rival"):
            closed = (
                "event-settings",
                "--org",
                org,
                "--event",
                race,
                "--unpublish",
                "--selfie-search",
                "verified",
            )
            snaprace(local_stack, *closed)


def test_one_client_is_stopped_after_its_share_of_a_public_event(local_stack):
    path = "/public/orgs/acme/events/e2e-rate-limit/photos"
    answers = burst_in_one_window(local_stack, path, ["127.0.0.70", "127.0.0.71"])
    assert [status for status, _ in answers] == [200] * 60 + [429]
    assert 1 <= int(answers[60][1]) <= 60  # Retry-After: the seconds left in the window
    other = call(local_stack, "/public/orgs/acme/events/e2e-rate-limit-2/photos", key=None)[0]
    assert other == 200  # the limit is per event: another event's runners are not affected


@pytest.mark.parametrize(
    "size, ctype, expected",
    [
        (10 * 1024 * 1024 + 1, "application/json", "HTTP content length exceeded 10485760 bytes."),
        (5 * 1024 * 1024, "image/jpeg", "Request Too Long"),  # base64 in the event: over Lambda's 6 MB
    ],
)
def test_a_body_over_the_gateways_limits_is_a_413_and_the_function_never_runs(
    local_stack, race, size, ctype, expected
):
    before = search_api_invocations(local_stack)
    path = f"/orgs/acme/events/{race}/selfie-search?consent=true"
    status, answer = call(local_stack, path, method="POST", body=b"\xff\xd8\xff" + b"\0" * size, ctype=ctype)
    assert (status, answer["message"]) == (413, expected)
    assert search_api_invocations(local_stack) == before


def search_api_invocations(running) -> int:
    with urllib.request.urlopen(f"{running.endpoint}/_snaprace/meter", timeout=5) as response:  # noqa: S310
        functions = json.loads(response.read())["lambda"]
    return sum(used["invocations"] for name, used in functions.items() if "SearchApi" in name)


def from_address(running, path: str, address: str) -> tuple[int, str | None]:
    """(status, Retry-After) of a public GET sent from `address` (a 127.0.0.x of this machine)."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(running.stack.output("ApiUrl") + path)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30, source_address=(address, 0))
    try:
        connection.request("GET", url.path, headers={"x-snaprace-client": "test"})
        response = connection.getresponse()
        return response.status, response.getheader("Retry-After")
    finally:
        connection.close()


def burst_in_one_window(running, path: str, addresses: list[str]) -> list[tuple[int, str | None]]:
    """61 requests of one client within one of the limiter's fixed one-minute windows, without
    reading a clock. A window that ends during a burst starts its count again and lets all 61
    through (j in the old window, 61 - j in the new one); only then is the burst sent again, by
    the next address (a client with nothing counted), within the window that has just begun: a
    burst takes seconds."""
    for address in addresses:
        answers = [from_address(running, path, address) for _ in range(61)]
        if [status for status, _ in answers] != [200] * 61:
            return answers
    raise AssertionError(f"{len(addresses)} bursts of 61 requests, none of them limited")


def test_each_caller_is_its_own_client_as_api_gateway_tells_them_apart(local_stack):
    """The local API reports each caller's address as sourceIp: one address's used-up share
    leaves another's whole (a stranger with many addresses is modelled with several)."""
    path = "/public/orgs/acme/events/e2e-two-addresses"
    answers = burst_in_one_window(local_stack, path, ["127.0.0.60", "127.0.0.62"])
    assert [status for status, _ in answers] == [200] * 60 + [429]
    assert from_address(local_stack, path, "127.0.0.61")[0] == 200
