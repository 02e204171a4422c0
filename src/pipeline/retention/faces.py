"""Face data that ends: an event's faces are deleted `faceRetentionDays` (default 90) after its
last indexed upload, or after the date the organiser sets. RetentionSweepFunction runs daily
(`snaprace retention sweep` runs it at once): for every event past its date it deletes the
collection, the face ids on the photos and the face links on the bibs, and records when. Photos
stay searchable by bib. `due` and `to_sweep` decide; `sweep` carries it out.
"""

import datetime
from contextlib import suppress

from pipeline.common.keys import collection_id
from pipeline.events.settings import EventSettings


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
    """Past its date, and not swept since its last upload."""
    when = due(registry_item, settings)
    if when is None or when > now:
        return False
    deleted = registry_item.get("facesDeletedAt")
    return not deleted or _instant(deleted) < _instant(registry_item.get("lastUploadAt", deleted))


def sweep(table, rekognition_client, collection_prefix: str, now: datetime.datetime) -> list[dict]:
    """Delete the face data of every event past its retention; what was swept."""
    swept = []
    for item in table.registry.events():
        org_id, event_id = item["orgId"], item["eventId"]
        settings = EventSettings.from_item(table.settings.get(org_id, event_id, consistent=True))
        if not to_sweep(item, settings, now):
            continue
        faces, items = delete_event_faces(table, rekognition_client, collection_prefix, org_id, event_id)
        table.registry.note_faces_deleted(org_id, event_id, now.isoformat(timespec="seconds"))
        swept.append({"org": org_id, "event": event_id, "faces": faces, "itemsChanged": items})
    return swept


def delete_event_faces(table, rekognition_client, collection_prefix: str, org_id: str, event_id: str):
    """(faces, items changed): the event's collection and every face id, box and link in the table
    go (retention passed, or face search turned off: the settings already say so, so no run
    indexes new ones)."""
    collection = collection_id(collection_prefix, org_id, event_id)
    table.faces.forget_matches(org_id, event_id)  # no bib search answers from them meanwhile
    faces = 0
    with suppress(rekognition_client.exceptions.ResourceNotFoundException):
        faces = rekognition_client.describe_collection(CollectionId=collection)["FaceCount"]
        rekognition_client.delete_collection(CollectionId=collection)
    return faces, table.faces.forget_all(org_id, event_id)


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
