"""Face data that ends: an event's faces are deleted `faceRetentionDays` (default 90) after its
last indexed upload, or after the date the organiser sets, and when the organiser turns face search
off. Either way the collection goes at once (one call: no face can be found from then on) and a
background job takes the face ids, boxes and links off the event's items (pipeline.jobs.scrub),
page by page, recording on the event's registry item when it is done. RetentionSweepFunction runs
daily (`snaprace retention sweep` runs it at once): for every event past its date, and every event
whose face search is off but whose items were never cleared, it starts that job unless one is
still at work. Its own work grows with the number of events, not with their photos. Photos stay
searchable by bib. `due` and `to_sweep` decide; `sweep` carries it out.
"""

import datetime
from collections.abc import Callable
from contextlib import suppress

from pipeline.common.keys import collection_id
from pipeline.events.settings import EventSettings
from pipeline.jobs import scrub

# start_job(org_id, event_id, kind, options) -> job id (pipeline.jobs.queue.start, bound to a stack)
StartJob = Callable[[str, str, str, dict], str]
# a scrub whose item has not moved for this long died (its pages are retried for ~30 minutes)
SCRUB_STALE_SECONDS = 3_600


def _instant(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def due(registry_item: dict, settings: EventSettings) -> datetime.datetime | None:
    """When the event's face data must go (None: it has no face search, so nothing to keep)."""
    if not settings.faces:
        return None
    start = settings.retention_from or registry_item.get("lastUploadAt")
    if not start:
        return None
    return _instant(start) + datetime.timedelta(days=settings.face_retention_days)


def to_sweep(registry_item: dict, settings: EventSettings, now: datetime.datetime) -> bool:
    """Past its date, and not swept since its last upload; or face search off, and its items not
    cleared since it was turned off (or ever, for an event turned off before that was noted)."""
    deleted = registry_item.get("facesDeletedAt")
    if not settings.faces:
        return not deleted or scrub_unfinished(registry_item)
    when = due(registry_item, settings)
    if when is None or when > now:
        return False
    return not deleted or _instant(deleted) < _instant(registry_item.get("lastUploadAt", deleted))


def sweep(
    table, rekognition_client, collection_prefix: str, start_job: StartJob, now: datetime.datetime
) -> list[dict]:
    """Start the face scrub of every event that needs one and has none at work; what was started."""
    swept = []
    for item in table.registry.events():
        org_id, event_id = item["orgId"], item["eventId"]
        settings = EventSettings.from_item(table.settings.get(org_id, event_id, consistent=True))
        if not to_sweep(item, settings, now) or scrub_at_work(table, org_id, event_id, now):
            continue
        faces = face_data(table, rekognition_client, collection_prefix, org_id, event_id) or 0
        job_id = delete_event_faces(table, rekognition_client, collection_prefix, start_job, org_id, event_id)
        swept.append({"org": org_id, "event": event_id, "faces": faces, "jobId": job_id})
    return swept


def scrub_at_work(table, org_id: str, event_id: str, now: datetime.datetime) -> dict | None:
    """The event's face scrub still at work (its item moved within SCRUB_STALE_SECONDS), if any:
    a second would read the same items again."""
    job = table.jobs.latest(org_id, event_id, scrub.KIND)
    if not job or job.get("state") != "running":
        return None
    moved = _instant(job.get("updatedAt") or job["startedAt"])
    return job if (now - moved).total_seconds() < SCRUB_STALE_SECONDS else None


def face_data(table, rekognition_client, collection_prefix: str, org_id: str, event_id: str) -> int | None:
    """The faces in the event's collection, 0 when it has none but has photos (their items may
    hold face links), None when it has neither: nothing to delete, no job to start."""
    try:
        return rekognition_client.describe_collection(
            CollectionId=collection_id(collection_prefix, org_id, event_id)
        )["FaceCount"]
    except rekognition_client.exceptions.ResourceNotFoundException:
        photos, _ = table.photos.page_of_event(org_id, event_id, 1)
        return 0 if photos else None


def scrub_unfinished(registry_item: dict) -> bool:
    """Face search was turned off and the scrub it started has not finished (at work, or stopped:
    the sweep finishes it)."""
    off, deleted = registry_item.get("facesOffAt"), registry_item.get("facesDeletedAt")
    # a finished scrub notes a second before its start (pipeline.jobs.scrub.faces_gone_at), and
    # it starts at or after the off: within that second it is the off's own scrub
    return bool(off and (not deleted or _instant(deleted) < _instant(off) - datetime.timedelta(seconds=1)))


def delete_event_faces(
    table,
    rekognition_client,
    collection_prefix: str,
    start_job: StartJob,
    org_id: str,
    event_id: str,
    clear_matches: bool = True,
) -> str:
    """The scrub job's id: the event's collection goes now and a background job takes every face
    id, box and link off its items (retention passed, or face search turned off: the settings
    already say so, so no run indexes new ones). `clear_matches`: the bib searches' cached face
    matches go first (retention: the search still reads them; with face search off it does not,
    and the job's first page deletes them)."""
    if clear_matches:
        table.faces.forget_matches(org_id, event_id)  # no bib search answers from them meanwhile
    with suppress(rekognition_client.exceptions.ResourceNotFoundException):
        rekognition_client.delete_collection(CollectionId=collection_id(collection_prefix, org_id, event_id))
    return start_job(org_id, event_id, scrub.KIND, {})


def due_within(table, days: int, now: datetime.datetime) -> list[dict]:
    """Events whose face data goes within `days` (for `snaprace status`)."""
    found = []
    for item in table.registry.events():
        settings = EventSettings.from_item(table.settings.get(item["orgId"], item["eventId"]))
        when = due(item, settings)
        if (
            when is not None
            and when <= now + datetime.timedelta(days=days)
            and to_sweep(item, settings, when)
        ):
            found.append(
                {"org": item["orgId"], "event": item["eventId"], "due": when.isoformat(timespec="seconds")}
            )
    return found
