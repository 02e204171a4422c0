"""OrganiserApiFunction: what an organiser's page drives - the event's progress and settings, the
review queue and a person's corrections.

    GET  /orgs/{orgId}/events/{eventId}/progress             raw, indexed, rejected (why), failed, in flight
    GET  /orgs/{orgId}/events/{eventId}/settings
    PUT  /orgs/{orgId}/events/{eventId}/settings    {"published", "faces", "bibRange", "selfieSearch",
                                                     "nameSearch"}  (202 when face data goes: a job)
    GET  /orgs/{orgId}/events/{eventId}/review?limit=1..100  photos to look at, most useful first
    POST /orgs/{orgId}/events/{eventId}/photos/{photoId}/corrections
         {"add": ["1234"], "remove": ["1284"], "confirm": true, "face": 1, "spread": true}

An organiser key (its own org) or the operator's key, checked by ApiAuthorizerFunction. The same
code as `snaprace review` and `snaprace tag` (pipeline.corrections.review, pipeline.corrections.records).
"""

import json

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import BadRequestError
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.api import shared
from pipeline.api.requests import Correction, SettingsChange
from pipeline.common import clients, governor, keys
from pipeline.common.config import get_config
from pipeline.corrections import review
from pipeline.corrections.records import CorrectionError, Corrector
from pipeline.events import changes, progress
from pipeline.events.settings import EventSettings, InvalidSettings, parse_range
from pipeline.jobs import queue, scrub
from pipeline.processing import results
from pipeline.search.answers import photo_urls
from pipeline.store import Store

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()
app.include_router(shared.shared_router())
SETTINGS_FIELDS = {
    "published": "published",
    "faces": "faces",
    "nameSearch": "name_search",
    "selfieSearch": "selfie_mode",
}


def table() -> Store:
    return Store(clients.dynamodb_table(get_config().table_name))


@app.get("/orgs/<org_id>/events/<event_id>/progress")
def event_progress(org_id: str, event_id: str) -> dict:
    """Counted at once when the event is one page of uploads; else the last background count
    (`asOf`, `complete`), counted again when older than a minute (pipeline.events.progress)."""
    shared.caller_of(app, org_id, event_id)
    config, store, now = get_config(), table(), results.now_iso()

    def start_count(job_id: str) -> None:
        queue.start(
            store, clients.sqs(), config.job_queue_url, org_id, event_id, progress.COUNT, {}, now, job_id
        )

    return progress.report(store, clients.s3(), config.bucket_name, org_id, event_id, start_count, now)


@app.get("/orgs/<org_id>/events/<event_id>/settings")
def event_settings(org_id: str, event_id: str) -> dict:
    """The settings, and the latest deletion of the event's face data when there has been one
    (`state`: running, done; `changed`: items cleared so far)."""
    shared.caller_of(app, org_id, event_id)
    store = table()
    summary = EventSettings.from_item(store.settings.get(org_id, event_id, consistent=True)).summary()
    job = store.jobs.latest(org_id, event_id, scrub.KIND)
    if job:
        summary["facesDeletion"] = {
            name: job.get(name) for name in ("jobId", "state", "changed", "updatedAt")
        }
    return summary


@app.put("/orgs/<org_id>/events/<event_id>/settings")
def change_settings(org_id: str, event_id: str) -> dict | Response:
    """Publish, face search on or off (off deletes the event's faces now), the bib range, the
    selfie mode, the name search; what is not in the body stays as it is."""
    shared.caller_of(app, org_id, event_id)
    change = shared.body_of(app, SettingsChange)
    given = change.model_fields_set
    updates = {field: getattr(change, name) for name, field in SETTINGS_FIELDS.items() if name in given}
    nulls = sorted(
        name for name, field in SETTINGS_FIELDS.items() if name in given and updates[field] is None
    )
    if nulls:
        raise BadRequestError(
            f"{', '.join(nulls)}: null is not a setting: {shared.what_it_takes(SettingsChange)}"
        )
    if "bibRange" in given:
        try:
            updates["bib_range"] = parse_range(change.bibRange) if change.bibRange else None
        except InvalidSettings as exc:
            raise BadRequestError(str(exc)) from None
    store, config = table(), get_config()
    start_job = queue.starter(store, clients.sqs(), config.job_queue_url)
    try:
        settings, deletion = changes.change_settings(
            store, clients.rekognition(), config.collection_prefix, start_job, org_id, event_id, updates
        )
    except changes.ScrubAtWork as exc:
        return shared.message(409, str(exc))
    if deletion is None:
        return settings.summary()
    # the face data goes in the background: 202, with the job that does it (GET .../settings follows it)
    body = settings.summary() | {"facesDeletion": deletion}
    return Response(202, content_types.APPLICATION_JSON, json.dumps(body))


@app.get("/orgs/<org_id>/events/<event_id>/review")
def review_queue(org_id: str, event_id: str, limit: str = "50") -> dict:
    shared.caller_of(app, org_id, event_id)
    presigner, bucket = clients.s3_presigner(), get_config().bucket_name
    photos = [
        {**review.entry(item), "thumbnailUrl": photo_urls(presigner, bucket, item)["thumbnailUrl"]}
        for item in table().corrections.review_queue(org_id, event_id, shared.page_limit(limit))
    ]
    return {"photos": photos, "count": len(photos)}


@app.post("/orgs/<org_id>/events/<event_id>/photos/<photo_id>/corrections")
def correct(org_id: str, event_id: str, photo_id: str) -> dict:
    caller = shared.caller_of(app, org_id, event_id)
    if not keys.is_photo_id(photo_id):
        raise BadRequestError("photoId is not a photo id (the `photoId` the API returns)")
    change = shared.body_of(app, Correction)
    result = Corrector(table(), clients.rekognition(), get_config().collection_prefix, results.now_iso).tag(
        org_id, event_id, photo_id, who=caller.who(), **change.model_dump()
    )
    metrics.add_metric(name="Corrections", unit=MetricUnit.Count, value=1)
    return result.as_dict()


@app.exception_handler(CorrectionError)
def cannot_correct(exc: CorrectionError):
    return shared.message(400, str(exc))


@logger.inject_lambda_context(clear_state=True, log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context) -> dict:
    with governor.serving("", governor.PERSON_WAIT_SECONDS):  # the pipeline's share of SearchFaces
        return shared.respond(app, event, context, max_body=shared.MAX_BODY_CHARS)
