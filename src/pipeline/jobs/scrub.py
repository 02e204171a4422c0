"""An event's face data off its items, as a background job: face search turned off, or its face
retention passed (pipeline.retention.faces). The collection is deleted before the job starts (one
call: no face can be found from then on); the job then takes every face id, box and link off the
photo and bib items, a page of PAGE_ITEMS items per message, the cursor in the message, so a page
that fails comes back and the job goes on from there. Its first and last pages delete the bib
searches' cached face matches; its last records on the event's registry item that the faces are
gone (the daily sweep then leaves the event alone).

Job message: {"jobId", "orgId", "eventId", "kind": "scrub-faces", "page": n, "changed": n,
"cursor": {"prefix": i, "key": {...}} | None}.

Per page: one strongly consistent Query of PAGE_ITEMS items (filtered to those holding faces, so
the answer is small; DynamoDB charges for what it reads, ~1,000 items at ~1 KB: ~125 read units)
and one UpdateItem per item holding a face, SCRUB_WRITERS at once. At 150,000 photos (~450,000
photo and bib items): ~450 pages, each a few seconds of the function's time.
"""

import datetime
from dataclasses import dataclass

from pipeline.store import Store
from pipeline.store.faces import HOLDING_FACES

KIND = "scrub-faces"
PAGE_ITEMS = 1_000  # items read per page: ~1 MB at most, the most one Query returns


@dataclass(frozen=True)
class Scrubbed:
    changed: int  # items that lost face data on this page
    cursor: dict | None  # where the next page starts; None: this was the last


def scrub_page(store: Store, job: dict) -> Scrubbed:
    org_id, event_id, cursor = job["orgId"], job["eventId"], job.get("cursor") or {}
    index = int(cursor.get("prefix", 0))
    if index == 0 and not cursor.get("key"):
        store.faces.forget_matches(org_id, event_id)
    items, last = store.faces.page_holding_faces(
        org_id, event_id, HOLDING_FACES[index], PAGE_ITEMS, cursor.get("key")
    )
    changed = store.faces.scrub(items)
    if last:
        return Scrubbed(changed, {"prefix": index, "key": last})
    if index + 1 < len(HOLDING_FACES):
        return Scrubbed(changed, {"prefix": index + 1})
    store.faces.forget_matches(org_id, event_id)  # any a search kept while the faces went
    return Scrubbed(changed, None)


def is_scrub(job: dict) -> bool:
    return job.get("kind") == KIND


def faces_gone_at(started_at: str | None) -> str:
    """What the registry notes when a scrub finishes: a second before the job started (the
    collection went just before it), not when it finished. A face indexed by an upload after that,
    while the job worked (under retention, face search stays on), has a later upload time, so the
    sweep takes it at its own date; one noted in the same second as the start is swept again."""
    started = (
        datetime.datetime.fromisoformat(started_at) if started_at else datetime.datetime.now(datetime.UTC)
    )
    return (started - datetime.timedelta(seconds=1)).isoformat(timespec="seconds")
