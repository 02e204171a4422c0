"""An event's progress: its raw photos, and how many are indexed, rejected (and why), failed, or
still in flight (no final status for their current content yet). The organiser API's progress
route and `snaprace audit` count the same way.

Counting grows with the event (a listing of its uploads and a read of each photo item), so the
organiser API counts a small event at once (one page: PAGE_SIZE uploads, one ListObjectsV2 and at
most ten BatchGetItem calls) and a larger one page by page in a background job (pipeline.jobs,
kind COUNT), answering the last finished count with the time it was made (`asOf`) and starting a
new one when that is older than REFRESH_SECONDS."""

import datetime
from collections import Counter
from dataclasses import dataclass

from pipeline.common.errors import InvalidKey
from pipeline.common.keys import job_id, normalise_etag, parse_raw_key, raw_prefixes
from pipeline.common.models import FAILED, FINAL_STATUSES, INDEXED, REJECTED

PAGE_SIZE = 1_000  # uploads a page counts: ListObjectsV2's most, ten BatchGetItem calls
REFRESH_SECONDS = 60  # a count older than this is counted again while someone asks
COUNT = "count"  # the background job's kind
COUNTS = ("raw", "indexed", "rejected", "failed", "inFlight")
STOPPED_SECONDS = 600  # a count whose item has not moved for this long stopped (its page failed)
REASONS_KEPT = 20  # a count keeps its most frequent reasons (some name a photo's size: they vary)


def listing(s3, bucket: str, prefix: str) -> dict[str, str]:
    """Key -> ETag of every object under a prefix."""
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = normalise_etag(obj.get("ETag"))
    return found


def raw_objects(s3, bucket: str, org_id: str, event_id: str) -> dict[str, str]:
    return {
        key: etag
        for prefix in raw_prefixes(org_id, event_id)
        for key, etag in listing(s3, bucket, prefix).items()
    }


def summary(objects: dict[str, str], items: list[dict]) -> dict:
    """Counts over the raw objects (key -> ETag) and the event's photo items: a photo is done when
    its item has a final status for the object's current content."""
    by_id = {item["photoId"]: item for item in items}
    counts: Counter = Counter()
    reasons: Counter = Counter()
    for raw_key, etag in objects.items():
        try:
            photo = parse_raw_key(raw_key)
        except InvalidKey:
            continue
        counts["raw"] += 1
        item = by_id.get(photo.photo_id) or {}
        if item.get("status") in FINAL_STATUSES and item.get("etag") == etag:
            counts[item["status"]] += 1
            if item["status"] == REJECTED:
                reasons[item.get("reason") or "unknown"] += 1
        else:
            counts["inFlight"] += 1
    return {
        "raw": counts["raw"],
        "indexed": counts[INDEXED],
        "rejected": counts[REJECTED],
        "failed": counts[FAILED],
        "inFlight": counts["inFlight"],
        "rejectedReasons": dict(reasons.most_common()),
    }


@dataclass(frozen=True)
class Uploads:
    objects: dict[str, str]  # raw key -> ETag
    cursor: dict | None  # where the next page starts ({"prefix", "token"}); None: this was the last


def uploads_page(
    s3, bucket: str, org_id: str, event_id: str, cursor: dict | None, size: int = PAGE_SIZE
) -> Uploads:
    """One page of the event's uploads, both key layouts in turn (a whole-event re-run lists them
    the same way, pipeline.jobs.reprocess)."""
    cursor = cursor or {}
    prefixes = raw_prefixes(org_id, event_id)
    index = cursor.get("prefix", 0)
    request = {"Bucket": bucket, "Prefix": prefixes[index], "MaxKeys": size}
    if cursor.get("token"):
        request["ContinuationToken"] = cursor["token"]
    listed = s3.list_objects_v2(**request)
    objects = {o["Key"]: normalise_etag(o.get("ETag")) for o in listed.get("Contents", [])}
    if listed.get("IsTruncated"):
        return Uploads(objects, {"prefix": index, "token": listed["NextContinuationToken"]})
    return Uploads(objects, {"prefix": index + 1} if index + 1 < len(prefixes) else None)


def count_page(
    s3, store, bucket: str, org_id: str, event_id: str, cursor: dict | None
) -> tuple[dict, dict | None]:
    """(the summary of one page of uploads, where the next starts): their photo items read by id."""
    page = uploads_page(s3, bucket, org_id, event_id, cursor, PAGE_SIZE)
    ids = set()
    for raw_key in page.objects:
        try:
            ids.add(parse_raw_key(raw_key).photo_id)
        except InvalidKey:
            continue
    return summary(page.objects, list(store.photos.get_many(org_id, event_id, ids).values())), page.cursor


def count_small(s3, store, bucket: str, org_id: str, event_id: str) -> dict | None:
    """The whole event counted, when it has at most PAGE_SIZE uploads (a page per key layout);
    None when it has more (it is counted in the background)."""
    total, cursor = count_page(s3, store, bucket, org_id, event_id, None)
    while cursor is not None and total["raw"] < PAGE_SIZE and not cursor.get("token"):
        more, cursor = count_page(s3, store, bucket, org_id, event_id, cursor)
        total = added(total, more)
    return total if cursor is None and total["raw"] <= PAGE_SIZE else None


def added(total: dict, more: dict) -> dict:
    """Two summaries as one."""
    reasons = Counter(total.get("rejectedReasons", {})) + Counter(more.get("rejectedReasons", {}))
    kept = dict(reasons.most_common(REASONS_KEPT))
    if len(reasons) > REASONS_KEPT:  # the job's message and item stay small whatever the event
        kept["other reasons"] = kept.get("other reasons", 0) + sum(reasons.values()) - sum(kept.values())
    return {**{name: total.get(name, 0) + more.get(name, 0) for name in COUNTS}, "rejectedReasons": kept}


def age(then: str, now: str) -> float:
    """Seconds from one ISO time to another."""
    return (datetime.datetime.fromisoformat(now) - datetime.datetime.fromisoformat(then)).total_seconds()


def count_jobs(jobs: list[dict], now: str) -> tuple[dict | None, dict | None]:
    """Of an event's jobs (oldest first): (its last finished count, a count at work)."""
    counts = [job for job in jobs if job.get("kind") == COUNT]
    finished = next((job for job in reversed(counts) if job.get("state") == "done"), None)
    counting = next(
        (
            job
            for job in reversed(counts)
            if job.get("state") == "running" and age(job["updatedAt"], now) < STOPPED_SECONDS
        ),
        None,
    )
    return finished, counting


def counted(job: dict | None) -> dict:
    """The organiser API's answer from a finished count (None: the first is under way)."""
    if job is None:
        return {name: 0 for name in COUNTS} | {"rejectedReasons": {}, "asOf": None, "complete": False}
    return {
        **{name: job.get(name, 0) for name in COUNTS},
        "rejectedReasons": job.get("rejectedReasons", {}),
        "asOf": job["updatedAt"],
        "complete": True,
    }


def report(store, s3, bucket: str, org_id: str, event_id: str, start_count, now: str) -> dict:
    """The organiser API's answer: a small event counted now; a large one's last finished count,
    with a new count started (`start_count(job_id)`) when that is older than REFRESH_SECONDS and
    none is at work. The job id is the minute's: two requests at once start one count."""
    finished, counting = count_jobs(store.jobs.of_event(org_id, event_id), now)
    if finished is None or finished.get("raw", 0) < PAGE_SIZE:
        counts = count_small(s3, store, bucket, org_id, event_id)
        if counts is not None:
            return counts | {"asOf": now, "complete": True}
    if counting is None and (finished is None or age(finished["updatedAt"], now) > REFRESH_SECONDS):
        minute = int(datetime.datetime.fromisoformat(now).timestamp()) // REFRESH_SECONDS * REFRESH_SECONDS
        start_count(job_id(minute * 1_000_000))
    return counted(finished)


def replaced(jobs: list[dict], finished_id: str) -> list[str]:
    """The counts a finished one replaces: every count before it."""
    return [job["jobId"] for job in jobs if job.get("kind") == COUNT and job["jobId"] < finished_id]
