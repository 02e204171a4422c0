"""SearchApiFunction: the search API behind API Gateway (HTTP API, payload 2.0).

    GET  /orgs/{orgId}/events/{eventId}/photos?limit=&cursor=    the gallery, newest first
    GET  /orgs/{orgId}/events/{eventId}/bibs/{bib}/photos        by bib, the bib's linked face, and time
    GET  /orgs/{orgId}/events/{eventId}/runners?name=            runners by name (timing results)
    POST /orgs/{orgId}/events/{eventId}/selfie-search            {"consent": true, "image": base64}
                                                                 or the image itself with ?consent=true
The key is checked by ApiAuthorizerFunction before a request gets here. The same under
/public/ answer anyone about a published event, within per-client limits; a public selfie search
on an event in `verified` selfie mode needs a runner's link (`x-runner-token`, pipeline.access.runner_links).
The selfie is never stored or logged.
"""

import json
from functools import cache
from urllib.parse import unquote

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import BadRequestError
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters

from pipeline.access import ratelimit, runner_links
from pipeline.api import shared, web
from pipeline.api.models import (
    SELFIE_BODY,
    BibPhotos,
    ClientHeader,
    Consent,
    Cursor,
    Gallery,
    Limit,
    Name,
    PublicEvent,
    Runners,
    RunnerToken,
    SelfiePhotos,
    answers,
)
from pipeline.common import clients, governor
from pipeline.common.config import get_config
from pipeline.events.settings import VERIFIED, EventSettings
from pipeline.processing.bibs import searched_bib
from pipeline.search import photos as search
from pipeline.search.answers import Match, describe, photo_urls
from pipeline.search.names import full_name_words
from pipeline.store import Store

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# an answer our code shapes wrong is our bug: a 500 the errors alarm counts, never the caller's 4xx
app = APIGatewayHttpResolver(enable_validation=True, response_validation_error_http_code=500)
app.include_router(shared.shared_router())
SIGNING_KEY_CACHE_SECONDS = 300


# the routes ApiAuthorizerFunction guards (an operator's or organiser's key)
KEYED: list[dict[str, list[str]]] = [{"apiKey": []}]


def photo_search(cursor_key: bytes = b"") -> search.PhotoSearch:
    """The search; only the gallery signs cursors, so only it (and a runner's link) reads the key: no
    secret on a bib search's cold start."""
    config = get_config()
    return search.PhotoSearch(
        Store(clients.dynamodb_table(config.table_name)),
        clients.rekognition(),
        config.collection_prefix,
        cursor_key,
    )


def signing_key() -> bytes:
    """The key that signs gallery cursors and runner links (template.yaml SigningKeySecret), cached
    5 minutes per container."""
    secret = parameters.get_secret(get_config().signing_key_secret_name, max_age=SIGNING_KEY_CACHE_SECONDS)
    return secret.encode()


def answer(matches: list[Match], **extra) -> dict:
    config = get_config()
    s3 = clients.s3_presigner()
    photos = [describe(match, photo_urls(s3, config.bucket_name, match.item)) for match in matches]
    return {"photos": photos, "count": len(photos), **extra}


@app.get(
    "/orgs/<org_id>/events/<event_id>/photos",
    responses=answers(Gallery, 400, 401, 403, 429),
    tags=["keyed"],
    security=KEYED,
)
def gallery(org_id: str, event_id: str, limit: Limit = "50", cursor: Cursor = None) -> Gallery:
    shared.caller_of(app, org_id, event_id)
    return gallery_of(org_id, event_id, limit, cursor)


@app.get(
    "/orgs/<org_id>/events/<event_id>/bibs/<bib>/photos",
    responses=answers(BibPhotos, 400, 401, 403, 429, 503),
    tags=["keyed"],
    security=KEYED,
)
def by_bib(org_id: str, event_id: str, bib: str) -> BibPhotos:
    shared.caller_of(app, org_id, event_id)
    return bib_search_of(org_id, event_id, bib)


@app.post(
    "/orgs/<org_id>/events/<event_id>/selfie-search",
    responses=answers(SelfiePhotos, 400, 401, 403, 413, 415, 429, 503),
    openapi_extensions=SELFIE_BODY,
    tags=["keyed"],
    security=KEYED,
)
def by_selfie(org_id: str, event_id: str, consent: Consent = None) -> SelfiePhotos:
    shared.caller_of(app, org_id, event_id)
    return selfie_search_of(org_id, event_id, selfie_from_request(consent))


@app.get(
    "/orgs/<org_id>/events/<event_id>/runners",
    responses=answers(Runners, 400, 401, 403, 429),
    tags=["keyed"],
    security=KEYED,
)
def runners(org_id: str, event_id: str, name: Name = "") -> Runners:
    """Runners whose name has a word starting with each word typed (the organiser's staff)."""
    shared.caller_of(app, org_id, event_id)
    found = photo_search().runners_named(org_id, event_id, name)
    metrics.add_metric(name="NameSearches", unit=MetricUnit.Count, value=1)
    return {"runners": found, "count": len(found)}


# Runners: a published event without a key, each client within its limits (pipeline.access.ratelimit).
# An event that is not published answers as an empty one: guessing ids reveals nothing. Every
# public route needs a request a cross-site page cannot send unasked (pipeline.api.web).


@app.get("/public/orgs/<org_id>/events/<event_id>", responses=answers(PublicEvent, 400, 429), tags=["public"])
def public_event_info(org_id: str, event_id: str, client: ClientHeader) -> PublicEvent:
    """What the runner page needs to know: whether it may search, and how (a hidden or unknown
    event answers {"published": false} alike)."""
    settings = public_event(org_id, event_id)
    if settings is None:
        return {"published": False}
    return {
        "published": True,
        "faceSearch": settings.faces,
        "selfieSearch": settings.selfie_mode,
        "nameSearch": settings.name_search,
    }


@app.get(
    "/public/orgs/<org_id>/events/<event_id>/photos", responses=answers(Gallery, 400, 429), tags=["public"]
)
def public_gallery(
    org_id: str, event_id: str, client: ClientHeader, limit: Limit = "50", cursor: Cursor = None
) -> Gallery:
    if public_event(org_id, event_id) is None:
        return answer([], nextCursor=None)
    return gallery_of(org_id, event_id, limit, cursor)


@app.get(
    "/public/orgs/<org_id>/events/<event_id>/bibs/<bib>/photos",
    responses=answers(BibPhotos, 400, 429, 503),
    tags=["public"],
)
def public_by_bib(org_id: str, event_id: str, bib: str, client: ClientHeader) -> BibPhotos:
    settings = public_event(org_id, event_id)
    if settings is None:
        return answer([], bib=searched_or_400(bib), faceMatchesComplete=True)
    return bib_search_of(org_id, event_id, bib, settings.faces)  # read consistently just now


@app.get(
    "/public/orgs/<org_id>/events/<event_id>/runners",
    responses=answers(Runners, 400, 403, 429),
    tags=["public"],
)
def public_runners(org_id: str, event_id: str, client: ClientHeader, name: Name = "") -> Runners:
    """A runner's bib by their full name, when the organiser turned name search on: the one runner
    of that whole name or none. Each client makes at most NAMES_PER_HOUR name searches an hour,
    counted before the lookup: past it a hit and a miss answer alike (429)."""
    settings = public_event(org_id, event_id)
    if settings is None:
        return {"runners": [], "count": 0}
    if not settings.name_search:
        raise search.NameSearchOff("this event does not search by name: search by your bib number")
    words = full_name_words(name)  # a typo is a 400 that costs no name search
    within_limit(app.current_event.request_context.http.source_ip, org_id, event_id, ratelimit.NAMES)
    found = photo_search().runner_named_in_full(org_id, event_id, words)
    metrics.add_metric(name="NameSearches", unit=MetricUnit.Count, value=1)
    return {"runners": found, "count": len(found)}


@app.post(
    "/public/orgs/<org_id>/events/<event_id>/selfie-search",
    responses=answers(SelfiePhotos, 400, 403, 413, 415, 429, 503),
    openapi_extensions=SELFIE_BODY,
    tags=["public"],
)
def public_by_selfie(
    org_id: str, event_id: str, consent: Consent = None, runner_token: RunnerToken = None
) -> SelfiePhotos:
    """Counted per runner link once the link is checked, so a venue's shared address cannot use up
    its runners' selfie searches; per address only without a valid link (and on an open event)."""
    web.check_selfie_request(app.current_event.headers)  # before anything is read or counted
    settings = public_event(org_id, event_id, counted=False)
    address = app.current_event.request_context.http.source_ip
    if settings is None or not (settings.faces and settings.selfie_mode == VERIFIED):
        within_limit(address, org_id, event_id, ratelimit.SELFIE)
        selfie = selfie_from_request(consent)
        if settings is None:
            return answer([])
        return selfie_search_of(org_id, event_id, selfie, faces_on=settings.faces)  # read consistently
    try:
        runner = runner_links.runner_of(runner_token, signing_key(), org_id, event_id)
    except runner_links.InvalidRunnerLink:
        within_limit(address, org_id, event_id, ratelimit.SELFIE)
        raise
    within_limit(f"runner-link:{org_id}/{event_id}/{runner}", org_id, event_id, ratelimit.SELFIE)
    return selfie_search_of(org_id, event_id, selfie_from_request(consent), runner, settings.faces)


@app.get("/openapi.json", include_in_schema=False)
def openapi():  # no return annotation: a Response is not a model
    """This API's description, generated from the routes and pipeline.api.models."""
    return Response(200, "application/json", description())


def public_event(org_id: str, event_id: str, counted: bool = True) -> EventSettings | None:
    """Valid ids and, when `counted`, this client (its address) within its search limits, 429
    otherwise; then the event's settings if it is published (read consistently: unpublishing holds
    at once), else None."""
    shared.checked_ids(org_id, event_id)
    if counted:
        within_limit(app.current_event.request_context.http.source_ip, org_id, event_id, ratelimit.SEARCH)
    table = Store(clients.dynamodb_table(get_config().table_name))
    settings = EventSettings.from_item(table.settings.get(org_id, event_id, consistent=True))
    return settings if settings.published else None


def within_limit(client: str, org_id: str, event_id: str, kind: str) -> None:
    """One more request of this client (an address, or a runner's link) on this event and across
    all events; 429 beyond either (pipeline.access.ratelimit)."""
    config = get_config()
    limit = {
        ratelimit.SEARCH: ratelimit.Limit(config.public_searches_per_minute, 60),
        ratelimit.SELFIE: ratelimit.Limit(config.public_selfies_per_hour, 3600),
        ratelimit.NAMES: ratelimit.Limit(ratelimit.NAMES_PER_HOUR, 3600),
    }[kind]
    table = Store(clients.dynamodb_table(config.table_name))
    allowed, retry_after = ratelimit.allow(table, client, org_id, event_id, kind, limit)
    if not allowed:
        raise ratelimit.RateLimited(retry_after)


def searched_or_400(bib: str) -> str:
    try:
        return searched_bib(unquote(bib))  # the raw path keeps %-escapes ("%23901" for "#901")
    except ValueError as exc:
        raise BadRequestError(str(exc)) from None


def gallery_of(org_id: str, event_id: str, limit: str, cursor: str | None) -> dict:
    matches, next_cursor = photo_search(signing_key()).gallery(
        org_id, event_id, shared.page_limit(limit), cursor
    )
    return answer(matches, nextCursor=next_cursor)


def bib_search_of(org_id: str, event_id: str, bib: str, faces_on: bool | None = None) -> dict:
    wanted = searched_or_400(bib)
    matches, faces_complete = photo_search().by_bib(org_id, event_id, wanted, faces_on)
    metrics.add_metric(name="BibSearches", unit=MetricUnit.Count, value=1)
    if not faces_complete:  # the bib reads answer; the runner may search again for face matches
        metrics.add_metric(name="BibSearchesWithoutFaces", unit=MetricUnit.Count, value=1)
    return answer(matches, bib=wanted, faceMatchesComplete=faces_complete)


def selfie_search_of(
    org_id: str, event_id: str, selfie: bytes, runner: str | None = None, faces_on: bool | None = None
) -> dict:
    matches = photo_search().by_selfie(org_id, event_id, selfie, runner, faces_on)
    metrics.add_metric(name="SelfieSearches", unit=MetricUnit.Count, value=1)
    return answer(matches)


def selfie_from_request(consent: str | None) -> bytes:
    return web.selfie_of(app.current_event, consent)


@app.exception_handler(search.FaceSearchOff)
@app.exception_handler(search.NameSearchOff)
@app.exception_handler(runner_links.InvalidRunnerLink)
def forbidden(exc: search.FaceSearchOff | search.NameSearchOff | runner_links.InvalidRunnerLink) -> Response:
    return shared.message(403, str(exc))


@cache
def description() -> str:
    """The OpenAPI description (docs/openapi.json is this, checked in). The resolver lists a 422
    for requests it refuses and a 500 for answers that fail their model: the first are a 400 with a
    message here (invalid_request), the second a bug, so the description lists neither."""
    described = json.loads(
        app.get_openapi_json_schema(
            title="SnapRace search API",
            version="1",
            description="Runners find their race photos by bib, name or selfie (docs/api.md). On the "
            "local stack the API's base is {endpoint}/_api/SearchApi (snaprace api-key).",
            security_schemes={"apiKey": APIKey(name="x-api-key", in_=APIKeyIn.header)},
        )
    )
    for operations in described["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
            operation["responses"].pop("500", None)
    for unused in ("HTTPValidationError", "ValidationError"):
        described["components"]["schemas"].pop(unused, None)
    return json.dumps(described, indent=2, sort_keys=True) + "\n"


@logger.inject_lambda_context(clear_state=True, log_event=False)  # events can carry a selfie
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context) -> dict:
    with governor.serving(governor.RUNNERS, governor.PERSON_WAIT_SECONDS):
        return shared.respond(app, event, context)


if __name__ == "__main__":  # python -m pipeline.handlers.api > ../docs/openapi.json
    print(description(), end="")
