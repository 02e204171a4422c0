"""OrganiserApiFunction: what an organiser's page drives - the event's progress and settings, the
review queue and a person's corrections.

    GET  /orgs/{orgId}/events/{eventId}/progress             raw, indexed, rejected (why), failed, in flight
    GET  /orgs/{orgId}/events/{eventId}/settings
    PUT  /orgs/{orgId}/events/{eventId}/settings    {"published", "faces", "bibRange", "selfieSearch",
                                                     "nameSearch"}
    GET  /orgs/{orgId}/events/{eventId}/review?limit=1..100  photos to look at, most useful first
    POST /orgs/{orgId}/events/{eventId}/photos/{photoId}/corrections
         {"add": ["1234"], "remove": ["1284"], "confirm": true, "face": 1, "spread": true}

An organiser key (its own org) or the operator's key, checked by ApiAuthorizerFunction. The same
code as `snaprace review` and `snaprace tag` (pipeline.corrections.review, pipeline.corrections.records).
"""

import json
import re
from dataclasses import replace

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, ForbiddenError
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.access import org_keys as access
from pipeline.api import web
from pipeline.common import clients, keys
from pipeline.common.config import get_config
from pipeline.common.errors import InvalidKey, RekognitionThrottled, RekognitionUnavailable
from pipeline.corrections import review
from pipeline.corrections.records import CorrectionError, Corrector
from pipeline.events import progress
from pipeline.events.settings import OPEN, VERIFIED, EventSettings, InvalidSettings, parse_range
from pipeline.processing import results
from pipeline.retention import faces as retention
from pipeline.search.answers import photo_urls
from pipeline.store import Store

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()
CORRECTION_FIELDS = {"add", "remove", "confirm", "face", "spread"}
MAX_BODY_CHARS = 4096


def table() -> Store:
    return Store(clients.dynamodb_table(get_config().table_name))


def caller_of(org_id: str, event_id: str) -> access.Caller:
    try:
        keys.validate_event_ids(org_id, event_id)
    except InvalidKey as exc:
        raise BadRequestError(str(exc)) from None
    authorizer = app.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}
    caller = access.Caller.from_context(authorizer.get("lambda"))
    if caller is None or not caller.reaches(org_id):
        raise ForbiddenError(f"this key does not open org {org_id!r}")
    return caller


@app.get("/orgs/<org_id>/events/<event_id>/progress")
def event_progress(org_id: str, event_id: str) -> dict:
    caller_of(org_id, event_id)
    config = get_config()
    objects = progress.raw_objects(clients.s3(), config.bucket_name, org_id, event_id)
    return progress.summary(objects, table().photos.of_event(org_id, event_id))


@app.get("/orgs/<org_id>/events/<event_id>/settings")
def event_settings(org_id: str, event_id: str) -> dict:
    caller_of(org_id, event_id)
    return EventSettings.from_item(table().settings.get(org_id, event_id, consistent=True)).summary()


@app.put("/orgs/<org_id>/events/<event_id>/settings")
def change_settings(org_id: str, event_id: str) -> dict:
    """Publish, face search on or off (off deletes the event's faces now), the bib range, the
    selfie mode; what is not in the body stays as it is."""
    caller_of(org_id, event_id)
    change = json_body({"published", "faces", "bibRange", "selfieSearch", "nameSearch"})
    current = EventSettings.from_item(table().settings.get(org_id, event_id, consistent=True))
    updates = {}
    for name, field in (("published", "published"), ("faces", "faces"), ("nameSearch", "name_search")):
        if name in change:
            if not isinstance(change[name], bool):
                raise BadRequestError(f"{name} is true or false")
            updates[field] = change[name]
    if "selfieSearch" in change:
        if change["selfieSearch"] not in (OPEN, VERIFIED):
            raise BadRequestError("selfieSearch is open or verified")
        updates["selfie_mode"] = change["selfieSearch"]
    if "bibRange" in change:
        if change["bibRange"] is not None and not isinstance(change["bibRange"], str):
            raise BadRequestError('bibRange is "FIRST-LAST", e.g. "1-5000", or null')
        try:
            updates["bib_range"] = parse_range(change["bibRange"]) if change["bibRange"] else None
        except InvalidSettings as exc:
            raise BadRequestError(str(exc)) from None
    settings = replace(current, **updates)
    table().settings.put(org_id, event_id, settings.to_item())
    answer = settings.summary()
    if current.faces and not settings.faces:
        faces, _ = retention.delete_event_faces(
            table(), clients.rekognition(), get_config().collection_prefix, org_id, event_id
        )
        answer["facesDeleted"] = faces
    return answer


@app.get("/orgs/<org_id>/events/<event_id>/review")
def review_queue(org_id: str, event_id: str) -> dict:
    caller_of(org_id, event_id)
    raw_limit = app.current_event.get_query_string_value("limit", "50")
    if not re.fullmatch(r"[0-9]{1,3}", raw_limit) or not 1 <= int(raw_limit) <= 100:
        raise BadRequestError("limit must be a whole number between 1 and 100")
    presigner, bucket = clients.s3_presigner(), get_config().bucket_name
    photos = [
        {**review.entry(item), "thumbnailUrl": photo_urls(presigner, bucket, item)["thumbnailUrl"]}
        for item in table().corrections.review_queue(org_id, event_id, int(raw_limit))
    ]
    return {"photos": photos, "count": len(photos)}


@app.post("/orgs/<org_id>/events/<event_id>/photos/<photo_id>/corrections")
def correct(org_id: str, event_id: str, photo_id: str) -> dict:
    caller = caller_of(org_id, event_id)
    if not keys.is_photo_id(photo_id):
        raise BadRequestError("photoId is not a photo id (the `photoId` the API returns)")
    change = correction_body()
    result = Corrector(table(), clients.rekognition(), get_config().collection_prefix, results.now_iso).tag(
        org_id, event_id, photo_id, who=caller.who(), **change
    )
    metrics.add_metric(name="Corrections", unit=MetricUnit.Count, value=1)
    return result.as_dict()


def json_body(fields: set[str]) -> dict:
    """The request's JSON object, with no field but `fields`."""
    if len(app.current_event.body or "") > MAX_BODY_CHARS:
        raise BadRequestError("the body is too large")
    try:
        change = json.loads(app.current_event.decoded_body or "")
    except (ValueError, TypeError, RecursionError):
        change = None
    if not isinstance(change, dict) or not set(change) <= fields:
        raise BadRequestError(f"send a JSON object with some of {sorted(fields)}")
    return change


def correction_body() -> dict:
    change = json_body(CORRECTION_FIELDS)
    lists = {name: change.get(name, []) for name in ("add", "remove")}
    if not all(isinstance(v, list) and all(isinstance(b, str) for b in v) for v in lists.values()):
        raise BadRequestError("add and remove are lists of bib numbers (strings)")
    flags = {name: change.get(name, False) for name in ("confirm", "spread")}
    if not all(isinstance(v, bool) for v in flags.values()):
        raise BadRequestError("confirm and spread are true or false")
    face = change.get("face")
    if face is not None and (not isinstance(face, int) or isinstance(face, bool) or not 1 <= face <= 100):
        raise BadRequestError("face is the face's number, 1 = leftmost")
    return {**lists, **flags, "face": face}


@app.exception_handler(CorrectionError)
def cannot_correct(exc: CorrectionError) -> Response:
    return Response(status_code=400, content_type="application/json", body=json.dumps({"message": str(exc)}))


@app.exception_handler(RekognitionThrottled)
@app.exception_handler(RekognitionUnavailable)
def busy(exc) -> Response:
    return Response(
        status_code=503,
        content_type="application/json",
        headers={"Retry-After": "2"},
        body=json.dumps({"message": "busy: try again in a few seconds"}),
    )


@logger.inject_lambda_context(clear_state=True, log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context) -> dict:
    return web.with_api_headers(app.resolve(event, context))
