"""An event's progress: its raw photos, and how many are indexed, rejected (and why), failed, or
still in flight (no final status for their current content yet). The organiser API's progress
route and `snaprace audit` count the same way."""

from collections import Counter

from pipeline.common.errors import InvalidKey
from pipeline.common.keys import normalise_etag, parse_raw_key, raw_prefixes
from pipeline.common.models import FAILED, FINAL_STATUSES, INDEXED, REJECTED


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
