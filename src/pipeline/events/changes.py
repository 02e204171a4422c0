"""An organiser's change of an event's settings, the same from the organiser's page
(OrganiserApiFunction) and `snaprace event-settings`: what is given replaces what was, the rest
stays. Face search turned off deletes the event's collection at once, after the settings say so
(no run indexes new faces meanwhile), and starts the background job that takes the face ids and
links off its items (pipeline.retention.faces, pipeline.jobs.scrub): the change answers at once,
whatever the event's size. Face search cannot be turned on again while that job is at work (it
would take the new faces off too)."""

import datetime
from dataclasses import replace

from pipeline.events.settings import EventSettings, InvalidSettings
from pipeline.retention import faces as retention
from pipeline.store import Store


class ScrubAtWork(InvalidSettings):
    """Face search on again while the event's face data is still being deleted."""


def change_settings(
    store: Store,
    rekognition_client,
    collection_prefix: str,
    start_job: retention.StartJob,
    org_id: str,
    event_id: str,
    changes: dict,
    clear_bibs: bool = False,
    finish_deletion: bool = False,
) -> tuple[EventSettings, dict | None]:
    """(the settings now, the deletion of the event's face data or None: {"faces": in the collection,
    "jobId", "state"}). `changes`: EventSettings fields; `clear_bibs` removes the bib range and
    participant list first (face search, publication and retention stay). Faces are deleted when
    face search goes from on to off; with `finish_deletion` (the operator's `--faces off`) also when
    it was off already, which finishes a deletion that died half-way. The page saves every field each
    time: it never rescans an event whose faces are gone."""
    now = datetime.datetime.now(datetime.UTC)
    stored = store.settings.get(org_id, event_id, consistent=True, participants=True)
    current = EventSettings.from_item(stored)
    base = replace(current, bib_range=None, participants=None, participant_count=0) if clear_bibs else current
    settings = replace(base, **changes)
    if settings.faces and not current.faces:
        stopped = retention.scrub_unfinished(store.registry.get(org_id, event_id) or {})
        if stopped:
            at_work = retention.scrub_at_work(store, org_id, event_id, now)
            raise ScrubAtWork(
                f"the event's face data is still being deleted (job {at_work['jobId']}, "
                f"{at_work.get('changed', 0)} items so far): turn face search on again when it is done"
                if at_work
                else "the deletion of the event's face data stopped before it finished: the daily sweep "
                "finishes it (or the operator's `snaprace event-settings --faces off`); then turn it on"
            )
    turning_off = "faces" in changes and not settings.faces and (current.faces or finish_deletion)
    faces = (
        retention.face_data(store, rekognition_client, collection_prefix, org_id, event_id)
        if turning_off
        else None
    )
    if faces is not None and current.faces:  # noted first: the sweep finishes what this starts
        store.registry.note_faces_off(org_id, event_id, now.isoformat(timespec="seconds"))
    if settings != current or (stored or {}).get("participants"):  # a list stored inline moves out
        store.settings.put(org_id, event_id, settings.to_item())
    if faces is None:  # nothing turned off, or an event with no photos and no collection
        return settings, None
    at_work = retention.scrub_at_work(store, org_id, event_id, now)
    if at_work:  # one scrub reads the event's items once
        return settings, {"faces": 0, "jobId": at_work["jobId"], "state": "running"}
    job_id = retention.delete_event_faces(
        store, rekognition_client, collection_prefix, start_job, org_id, event_id, clear_matches=False
    )
    return settings, {"faces": faces, "jobId": job_id, "state": "running"}
