"""An organiser's change of an event's settings, the same from the organiser's page
(OrganiserApiFunction) and `snaprace event-settings`: what is given replaces what was, the rest
stays; face search turned off deletes the event's faces at once (pipeline.retention.faces), after
the settings say so, so no run indexes new ones meanwhile."""

from dataclasses import replace

from pipeline.events.settings import EventSettings
from pipeline.retention import faces as retention
from pipeline.store import Store


def change_settings(
    store: Store,
    rekognition_client,
    collection_prefix: str,
    org_id: str,
    event_id: str,
    changes: dict,
    clear_bibs: bool = False,
    finish_deletion: bool = False,
) -> tuple[EventSettings, int | None]:
    """(the settings now, the faces deleted or None). `changes`: EventSettings fields; `clear_bibs`
    removes the bib range and participant list first (face search, publication and retention stay).
    Faces are deleted when face search goes from on to off; with `finish_deletion` (the operator's
    `--faces off`) also when it was off already, which finishes a deletion that died half-way. The
    page saves every field each time: it never rescans an event whose faces are gone."""
    current = EventSettings.from_item(
        store.settings.get(org_id, event_id, consistent=True, participants=True)
    )
    base = replace(current, bib_range=None, participants=None, participant_count=0) if clear_bibs else current
    settings = replace(base, **changes)
    if settings != current:
        store.settings.put(org_id, event_id, settings.to_item())
    deleted = None
    if "faces" in changes and not settings.faces and (current.faces or finish_deletion):
        deleted, _ = retention.delete_event_faces(
            store, rekognition_client, collection_prefix, org_id, event_id
        )
    return settings, deleted
