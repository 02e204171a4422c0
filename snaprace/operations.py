"""What the operator commands do, without the command line: upload, audit, wait, photos.

Every function takes a `Stack` (deployed or local) and returns data; `snaprace.cli` prints it.
"""

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.common import keys
from pipeline.common.errors import BadRequest, InvalidKey
from pipeline.common.models import FAILED, FINAL_STATUSES, INDEXED, REJECTED
from pipeline.events import progress
from pipeline.events.changes import ScrubAtWork, change_settings
from pipeline.events.settings import EventSettings, InvalidSettings, parse_participants, parse_range
from pipeline.jobs import queue
from pipeline.search.answers import photo_urls
from pipeline.search.photos import MAX_PAGE, FaceSearchOff, PhotoSearch
from pipeline.timing.rules import InvalidTiming, event_zone
from snaprace.stack import Stack, StackError


def validate_ids(org_id: str, event_id: str, photographer: str | None = None) -> None:
    try:
        keys.validate_event_ids(org_id, event_id)
        if photographer is not None:
            keys.validate_id("photographer", photographer)
    except InvalidKey as exc:
        raise StackError(str(exc)) from None


# ---------------------------------------------------------------- audit


@dataclass
class Audit:
    raw: int = 0
    statuses: Counter = field(default_factory=Counter)
    # raw keys with no final status for their content, or a run of theirs still in flight
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # raw keys whose photo is FAILED
    ignored: list[str] = field(default_factory=list)  # keys in raw/ that are not photo keys (folders)
    orphaned: list[str] = field(default_factory=list)  # photo items whose raw object is gone
    problems: list[str] = field(default_factory=list)  # indexed photos missing derived objects or faces
    rejected: list[dict] = field(default_factory=list)  # {"rawKey", "reason"} of REJECTED photos
    in_flight: list[str] = field(default_factory=list)  # what looks wrong only while a run is under way

    @property
    def complete(self) -> bool:
        return not self.missing and not self.problems

    def as_dict(self) -> dict:
        return {
            "raw": self.raw,
            "indexed": self.statuses[INDEXED],
            "rejected": self.statuses[REJECTED],
            "failed": self.statuses[FAILED],
            "missing": len(self.missing),
            "ignored": len(self.ignored),
            "orphaned": len(self.orphaned),
            "problems": self.problems,
            "missingKeys": self.missing,
            "failedKeys": self.failed,
            "orphanedKeys": self.orphaned,
            "rejectedPhotos": self.rejected,
            "inFlight": self.in_flight,
        }


def raw_objects(stack: Stack, org_id: str, event_id: str) -> dict[str, str]:
    """Raw key -> ETag, in both upload layouts."""
    return progress.raw_objects(stack.client("s3"), stack.bucket, org_id, event_id)


def events_of(stack: Stack, org_id: str) -> list[str]:
    """The org's events with uploads (either layout), sorted."""
    validate_ids(org_id, "any")
    s3, found = stack.client("s3"), set()
    for prefix in keys.org_prefixes(org_id):
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=stack.bucket, Prefix=prefix, Delimiter="/"
        ):
            found.update(
                common["Prefix"][len(prefix) :].rstrip("/") for common in page.get("CommonPrefixes", [])
            )
    return sorted(found)


def known_event(stack: Stack, org_id: str, event_id: str) -> None:
    """A StackError naming the org's events when this one has no upload and no result: a typo in
    --org or --event must not look like an empty event."""
    validate_ids(org_id, event_id)
    s3 = stack.client("s3")
    for prefix in progress.raw_prefixes(org_id, event_id):
        if s3.list_objects_v2(Bucket=stack.bucket, Prefix=prefix, MaxKeys=1).get("KeyCount"):
            return
    if stack.photo_table.photos.of_event(org_id, event_id):
        return
    known = events_of(stack, org_id)
    listed = (
        f"its events: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}" if known else "it has none"
    )
    raise StackError(
        f"no event {org_id}/{event_id}: nothing uploaded there ({listed}; `snaprace events --org {org_id}`)"
    )


def photo_id_of(org_id: str, event_id: str, photo: str) -> str:
    """A photo id from what the operator has: the id, a raw key, or the file's name under the
    event's raw/ folder (as uploaded: `IMG_0001.jpg`, `cam1/IMG_0001.jpg`)."""
    if keys.is_photo_id(photo):
        return photo
    is_key = photo.startswith(keys.raw_prefixes(org_id, event_id))
    return keys.photo_id_for(photo if is_key else keys.raw_key(org_id, event_id, photo))


def listing(stack: Stack, prefix: str) -> dict[str, str]:
    return progress.listing(stack.client("s3"), stack.bucket, prefix)


def event_settings(
    stack: Stack,
    org_id: str,
    event_id: str,
    bib_range: str | None = None,
    participants: Path | None = None,
    clear: bool = False,
    faces: bool | None = None,
    published: bool | None = None,
    face_retention_days: int | None = None,
    retention_from: str | None = None,
    selfie_mode: str | None = None,
    event_date: str | None = None,
    timezone: str | None = None,
    name_search: bool | None = None,
) -> tuple[EventSettings, dict | None]:
    """The event's settings after replacing the parts given (`clear` removes the bib settings
    first), and the deletion of its face data when face search is off (pipeline.events.changes:
    the collection now, the items by a background job). Photos
    processed from then on use them (within a minute); `reprocess` applies them to the rest."""
    validate_ids(org_id, event_id)
    table = stack.photo_table
    changes = {
        "faces": faces,
        "published": published,
        "face_retention_days": face_retention_days,
        "selfie_mode": selfie_mode,
        "name_search": name_search,
    }
    try:
        if bib_range:
            changes["bib_range"] = parse_range(bib_range)
        if participants is not None:
            with participants.open(encoding="utf-8-sig", errors="replace") as lines:
                changes["participants"] = parse_participants(lines)
    except (InvalidSettings, OSError) as exc:
        raise StackError(str(exc)) from None
    if retention_from is not None:
        try:
            changes["retention_from"] = date.fromisoformat(retention_from).isoformat()
        except ValueError:
            raise StackError(f"--retention-from {retention_from!r}: give a date as YYYY-MM-DD") from None
    if event_date is not None:
        try:
            changes["date"] = date.fromisoformat(event_date).isoformat()
        except ValueError:
            raise StackError(f"--date {event_date!r}: give the event's date as YYYY-MM-DD") from None
    if timezone is not None:
        try:
            changes["timezone"] = event_zone(timezone).key
        except InvalidTiming as exc:
            raise StackError(str(exc)) from None
    changes = {name: value for name, value in changes.items() if value is not None}
    start_job = queue.starter(table, stack.client("sqs"), stack.output("JobQueueUrl"))
    try:
        return change_settings(
            table, stack.client("rekognition"), stack.collection_prefix, start_job, org_id, event_id,
            changes, clear, finish_deletion=True,
        )  # fmt: skip
    except ScrubAtWork as exc:
        raise StackError(str(exc)) from None


def run_retention_sweep(stack: Stack) -> list[dict]:
    """Invoke RetentionSweepFunction now, as its daily schedule does."""
    function = stack.physical_ids["RetentionSweepFunction"]
    answer = stack.client("lambda").invoke(FunctionName=function, Payload=b"{}")
    payload = json.loads(answer["Payload"].read() or b"{}")
    if answer.get("FunctionError"):
        raise StackError(f"the retention sweep failed: {payload.get('errorMessage', payload)}")
    return payload["swept"]


def collection_faces(stack: Stack, org_id: str, event_id: str) -> dict[str, str]:
    """Face id -> photo id of every face in the event's collection."""
    rekognition = stack.client("rekognition")
    collection = keys.collection_id(stack.collection_prefix, org_id, event_id)
    faces = {}
    try:
        for page in rekognition.get_paginator("list_faces").paginate(CollectionId=collection):
            faces.update({face["FaceId"]: face.get("ExternalImageId", "") for face in page["Faces"]})
    except rekognition.exceptions.ResourceNotFoundException:
        pass
    return faces


def audit(stack: Stack, org_id: str, event_id: str) -> Audit:
    """Every raw photo should have a photo item with a final status for its current content, and
    every indexed photo its processed photo, thumbnail and faces; no face may outlive its photo.
    A photo whose run has written its result but not yet deleted the faces it replaced (the run's
    note is still there) counts as missing: done means tidied."""
    validate_ids(org_id, event_id)
    objects = raw_objects(stack, org_id, event_id)
    table = stack.photo_table
    items = {item["photoId"]: item for item in table.photos.of_event(org_id, event_id)}
    in_flight = table.runs.photos_in_flight(org_id, event_id)  # results written, faces not yet tidied
    result = Audit()
    seen_ids, running = set(), set()  # running: photos whose current content has no final result yet
    for raw_key, etag in sorted(objects.items()):
        try:
            photo = keys.parse_raw_key(raw_key)
        except InvalidKey:
            result.ignored.append(raw_key)
            continue
        result.raw += 1
        seen_ids.add(photo.photo_id)
        item = items.get(photo.photo_id)
        final = item and item.get("status") in FINAL_STATUSES and item.get("etag") == etag
        if final and photo.photo_id not in in_flight:
            result.statuses[item["status"]] += 1
            if item["status"] == FAILED:
                result.failed.append(raw_key)
            if item["status"] == REJECTED:
                result.rejected.append({"rawKey": raw_key, "reason": item.get("reason", "")})
        else:
            result.missing.append(raw_key)
            running.add(photo.photo_id)
    result.orphaned = sorted(item.get("rawKey", pid) for pid, item in items.items() if pid not in seen_ids)
    processed, thumbnails = keys.derived_prefixes(org_id, event_id)
    derived = listing(stack, processed) | listing(stack, thumbnails)
    faces = collection_faces(stack, org_id, event_id)
    listed_faces = set()
    for item in items.values():
        if item.get("status") != INDEXED:
            continue
        if item["photoId"] in running:  # a run is replacing this result right now
            result.in_flight.append(f"{item['rawKey']}: being processed again")
            listed_faces.update(item.get("faceIds", []))
            continue
        for attribute in ("processedKey", "thumbnailKey"):
            if item.get(attribute) not in derived:
                result.problems.append(f"{item['rawKey']}: {attribute} {item.get(attribute)} is missing")
        for face_id in item.get("faceIds", []):
            listed_faces.add(face_id)
            if face_id not in faces:
                result.problems.append(f"{item['rawKey']}: face {face_id} is not in the collection")
    for face_id, photo_id in sorted(faces.items()):
        if face_id not in listed_faces and photo_id in running:  # indexed; its result not written yet
            result.in_flight.append(f"face {face_id} (photo {photo_id}): its run has not saved yet")
        elif face_id not in listed_faces:
            result.problems.append(
                f"face {face_id} (photo {photo_id}) is in the collection but no indexed photo lists it"
            )
    return result


def photos_with_status(stack: Stack, org_id: str, event_id: str, status: str) -> list[dict]:
    """Photos with this final status for their current content: photoId, rawKey, reason, updatedAt."""
    objects = raw_objects(stack, org_id, event_id)
    return [
        {key: item.get(key) for key in ("photoId", "rawKey", "reason", "updatedAt")}
        for item in sorted(
            stack.photo_table.photos.of_event(org_id, event_id), key=lambda i: i.get("rawKey", "")
        )
        if item.get("status") == status and objects.get(item.get("rawKey")) == item.get("etag")
    ]


def wait(
    stack: Stack,
    org_id: str,
    event_id: str,
    timeout: float,
    interval: float = 1.0,
    on_poll: Callable[[Audit], None] = lambda audit: None,
    progressing: bool = False,
) -> tuple[bool, Audit]:
    """Audit until nothing is missing; (True, audit) when done, (False, audit) on timeout. With
    `progressing`, `timeout` is a stall: the wait goes on while photos keep becoming final and
    ends when none has for `timeout` seconds (a busy machine is slow, not stuck)."""
    deadline, most = time.monotonic() + timeout, -1
    while True:
        current = audit(stack, org_id, event_id)
        on_poll(current)
        if not current.missing:
            return True, current
        final = current.raw - len(current.missing)  # photos final: uploads meanwhile are not a stall
        if progressing and final > most:
            deadline, most = time.monotonic() + timeout, final
        if time.monotonic() >= deadline:
            return False, current
        time.sleep(interval)


# ---------------------------------------------------------------- photos


def photo_search(stack: Stack) -> PhotoSearch:
    """The search the API runs, on this stack's table and collections."""
    # its cursors never leave this process: a key of its own signs them
    return PhotoSearch(
        stack.photo_table, stack.client("rekognition"), stack.collection_prefix, os.urandom(32)
    )


def photos(
    stack: Stack, org_id: str, event_id: str, bib: str | None = None, selfie: bytes | None = None
) -> list[dict]:
    """Indexed photos of an event (newest first), a runner's by bib (read, or their linked face
    seen), or by selfie — the same search code as the API."""
    validate_ids(org_id, event_id)
    finder = photo_search(stack)
    try:
        if selfie is not None:
            matches = finder.by_selfie(org_id, event_id, selfie)
        elif bib is not None:
            matches, _ = finder.by_bib(org_id, event_id, bib)
        else:
            matches, cursor = finder.gallery(org_id, event_id, MAX_PAGE)
            while cursor:
                page, cursor = finder.gallery(org_id, event_id, MAX_PAGE, cursor)
                matches += page
    except (BadRequest, FaceSearchOff) as exc:
        raise StackError(str(exc)) from None
    s3 = stack.client("s3")
    return [
        {
            "photoId": match.item["photoId"],
            "rawKey": match.item["rawKey"],
            "bibs": list(match.item.get("bibs", [])),
            "faces": len(match.item.get("faceIds", [])),
            "matchedBy": match.matched_by,
            "similarity": None if match.similarity is None else round(match.similarity, 2),
            "secondsFromPassing": None if match.seconds is None else round(match.seconds, 1),
            "url": photo_urls(s3, stack.bucket, match.item)["photoUrl"],
        }
        for match in matches
    ]
