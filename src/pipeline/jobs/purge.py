"""An event deleted everywhere, as a background job: an organiser's erasure request
(`snaprace purge-event --yes`, snaprace/retention.py). The command deletes the event's face
collection first (one call: no face can be found from then on), then starts the job. Each page
deletes up to OBJECT_BATCHES x 1,000 of the event's object versions and delete markers (uploads
and derived, both layouts), and once none is left, up to ITEM_PAGES x 1,000 of its table items
(the jobs' items last). The page that finds nothing but jobs' items lists the objects once more
(a photo in flight may have written some meanwhile: the job goes back to them), deletes the
collection again (its IndexFaces may have made it again), the other jobs' items and the registry
item; its handler then deletes the job's own item, so a purged event leaves nothing behind.

A page lists and queries from the start: what earlier pages deleted is gone, so a page that failed
half-way or came twice finds what is left; a purge that stopped (its message in the job DLQ) is
finished by running the command again. Two purges of one event at once both work until the first
to find nothing left ends the other. An upload after the last page makes the event exist again
with that photo (nothing refuses uploads to a purged event).

Job message: {"jobId", "orgId", "eventId", "kind": "purge", "page": n, "objectsDeleted": n,
"itemsDeleted": n, "cursor": {"phase": "objects" | "items"}}.

Per page: up to 10 ListObjectVersions and 10 DeleteObjects (1,000 versions each), or 10 Query
pages of 1,000 keys and 400 BatchWriteItem deletes, 8 at once. At 150,000 photos (~450,000 object
versions, ~1.4 million items): ~45 pages of objects and ~140 of items, each a few seconds.
"""

from contextlib import suppress
from dataclasses import dataclass

from pipeline.common import keys
from pipeline.store import Store
from pipeline.store.jobs import JOB_PREFIX

KIND = "purge"
OBJECT_BATCHES = 10  # DeleteObjects calls per page, 1,000 versions each (its most)
ITEM_PAGES = 10  # Query pages of 1,000 keys per page
LISTED = 1_000  # ListObjectVersions' most keys, and a Query page's keys
ITEM_WRITERS = 8  # BatchWriteItem requests at once


@dataclass(frozen=True)
class Purged:
    objects: int  # object versions and delete markers deleted by this page
    items: int  # table items deleted by this page
    cursor: dict | None  # the next page's phase; None: the event is gone (but for the job's item)


def purge_page(store: Store, s3, rekognition, bucket: str, collection_prefix: str, job: dict) -> Purged:
    org_id, event_id = job["orgId"], job["eventId"]
    if (job.get("cursor") or {}).get("phase", "objects") == "objects":
        deleted = delete_versions(s3, bucket, org_id, event_id)
        if deleted:
            return Purged(deleted, 0, {"phase": "objects"})
    found = store.core.event_keys(org_id, event_id, ITEM_PAGES * LISTED)
    doomed = [key for key in found if not key["SK"].startswith(JOB_PREFIX)]  # jobs' items go last
    store.core.delete_items(doomed, writers=ITEM_WRITERS)
    if doomed or len(found) == ITEM_PAGES * LISTED:
        return Purged(0, len(doomed), {"phase": "items"})  # the next page looks again
    # nothing left but the jobs' items: what a photo in flight wrote meanwhile, then the jobs
    late = delete_versions(s3, bucket, org_id, event_id)
    if late:
        return Purged(late, 0, {"phase": "objects"})
    with suppress(rekognition.exceptions.ResourceNotFoundException):  # IndexFaces may have made it again
        rekognition.delete_collection(CollectionId=keys.collection_id(collection_prefix, org_id, event_id))
    own = f"{JOB_PREFIX}{job['jobId']}"
    others = [key for key in found if key["SK"] != own]  # another purge at the same time ends here
    store.core.delete_items(others)
    store.registry.forget(org_id, event_id)  # the daily sweep has nothing left to do for it
    return Purged(0, len(others), None)


def delete_versions(s3, bucket: str, org_id: str, event_id: str) -> int:
    """Up to OBJECT_BATCHES x 1,000 of the event's object versions and delete markers deleted,
    listed from the start of each of its prefixes; the number deleted (0: none is left)."""
    deleted = 0
    for prefix in keys.event_prefixes(org_id, event_id):
        for _ in range(OBJECT_BATCHES):
            listed = s3.list_object_versions(Bucket=bucket, Prefix=prefix, MaxKeys=LISTED)
            versions = [
                {"Key": version["Key"], "VersionId": version["VersionId"]}
                for version in listed.get("Versions", []) + listed.get("DeleteMarkers", [])
            ]
            if not versions:
                break
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": versions, "Quiet": True})
            if answer.get("Errors"):  # the page fails and comes back; nothing is skipped
                first = answer["Errors"][0]
                raise RuntimeError(
                    f"S3 kept {len(answer['Errors'])} of {len(versions)} versions: {first.get('Code')}"
                )
            deleted += len(versions)
            if deleted >= OBJECT_BATCHES * LISTED:
                return deleted
    return deleted


def is_purge(job: dict) -> bool:
    return job.get("kind") == KIND
