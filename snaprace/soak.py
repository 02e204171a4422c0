"""The soak run: a mixed batch through a stack, faults optional, then the promise checked — every
photo uploaded ends indexed, rejected with a reason, or failed visibly; never silently gone.

Used by `bench/soak.py` (1,000 photos, faults on) and by the end-to-end fault test (a small batch).
"""

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from pipeline.common import keys
from pipeline.common.models import INDEXED
from pipeline.store.photos import is_bib, is_photo
from snaprace import operations
from snaprace.corpus import corpus
from snaprace.runbook import failure_of, queue_depth, recent_executions
from snaprace.samples import Runner, race_photo
from snaprace.stack import Stack

FAULTS = {  # what `--faults` switches on: every kind, at rates a bad day in production could show
    "rekognition_errors": 0.05,
    "rekognition_throttles": 0.05,
    "dynamodb_throttles": 0.03,
    "dynamodb_unprocessed": 0.2,
    "start_execution_errors": 0.05,
    "function_timeouts": {
        "PreprocessFunction-dev": 0.02,
        "DetectTextFunction-dev": 0.02,
        "IndexFacesFunction-dev": 0.02,
        "SaveResultsFunction-dev": 0.02,
        "RecordStatusFunction-dev": 0.02,
    },
}


@dataclass
class Batch:
    """What was uploaded: the keys that must end final, and the keys deleted again."""

    present: dict[str, str] = field(default_factory=dict)  # raw key -> kind
    deleted: set[str] = field(default_factory=set)


def make_batch(stack: Stack, org: str, event: str, photos: int, seed: int, concurrency: int = 8) -> Batch:
    """~70% photos of runners, 10% duplicate uploads, 10% re-uploads, 5% deletions, 5% bad input."""
    rng, s3, bucket = random.Random(seed), stack.client("s3"), stack.bucket
    bad = [upload for upload in corpus(seed) if upload.data]  # ids and sizes vary; content is what matters
    bibs = [str(n) for n in rng.sample(range(100, 9999), max(10, photos // 5))]
    batch, jobs = Batch(), []

    def key(index: int, name: str = "jpg") -> str:
        return keys.raw_key(org, event, f"soak/{index:05d}.{name}")

    for index in range(photos):
        roll = rng.random()
        data, _ = race_photo(
            seed * 100_000 + index, [Runner(b) for b in rng.sample(bibs, rng.choice((1, 1, 2, 3)))]
        )
        if roll < 0.70:
            jobs.append(("put", key(index), data))
            batch.present[key(index)] = "photo"
        elif roll < 0.80:
            jobs += [("put", key(index), data), ("put", key(index), data)]  # the same event twice
            batch.present[key(index)] = "duplicate"
        elif roll < 0.90:
            other, _ = race_photo(seed * 100_000 + index + 50_000, [Runner(rng.choice(bibs))])
            jobs += [("put", key(index), data), ("put", key(index), other)]
            batch.present[key(index)] = "re-upload"
        elif roll < 0.95:
            jobs += [("put", key(index), data), ("delete", key(index), b"")]
            batch.deleted.add(key(index))
        else:
            upload = bad[index % len(bad)]
            name = key(index, upload.name.rsplit(".", 1)[-1])
            jobs.append(("put", name, upload.data))
            batch.present[name] = f"bad:{upload.status}"

    def run(job):
        action, raw_key, data = job
        if action == "put":
            s3.put_object(Bucket=bucket, Key=raw_key, Body=data)
        else:
            s3.delete_object(Bucket=bucket, Key=raw_key)

    ordered: dict[str, list] = {}  # one key's jobs in order; different keys in parallel
    for job in jobs:
        ordered.setdefault(job[1], []).append(job)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda key_jobs: [run(j) for j in key_jobs], ordered.values()))
    return batch


def check(stack: Stack, org: str, event: str, batch: Batch, started: float) -> dict:
    """The invariants, counted. Every violation is listed by name."""
    audit = operations.audit(stack, org, event)
    table = stack.photo_table
    items = table.core.event_items(org, event)
    photos = {i["photoId"]: i for i in items if is_photo(i)}
    violations = [f"missing: {k}" for k in audit.missing] + [f"problem: {p}" for p in audit.problems]
    violations += [f"result of a deleted photo: {k}" for k in audit.orphaned]
    for item in items:
        if is_bib(item):
            photo = photos.get(item["photoId"])
            if not photo or photo.get("status") != INDEXED or item["bib"] not in photo.get("bibs", []):
                violations.append(f"bib item {item['SK']} points at no indexed photo with that bib")
    for raw_key in batch.present:
        if raw_key not in audit.missing and keys.photo_id_for(raw_key) not in photos:
            violations.append(f"no photo item: {raw_key}")
    processed, thumbnails = keys.derived_prefixes(org, event)
    derived = operations.listing(stack, processed) | operations.listing(stack, thumbnails)
    for raw_key in batch.deleted:
        photo_id = keys.photo_id_for(raw_key)
        if photo_id in photos or any(photo_id in k for k in derived):
            violations.append(f"deleted photo still has results: {raw_key}")
    dlq = queue_depth(stack, stack.output("DlqUrl"))
    if dlq["visible"] + dlq["inFlight"]:
        violations.append(f"{dlq['visible'] + dlq['inFlight']} messages in the DLQ")
    ids = {keys.photo_id_for(k) for k in (*batch.present, *batch.deleted)}
    since = timedelta(seconds=time.time() - started + 60)
    failed_runs = [
        e for e in recent_executions(stack, since, "FAILED") if keys.photo_id_of_execution(e["name"]) in ids
    ]
    counts = audit.as_dict()
    causes = Counter(
        f"{failure['step']}: {failure['error']}"
        for failure in (failure_of(stack, e["executionArn"]) for e in failed_runs)
    )
    return {
        "photos": audit.raw,
        "indexed": counts["indexed"],
        "rejected": counts["rejected"],
        "failed": counts["failed"],
        "missing": counts["missing"],
        "deleted": len(batch.deleted),
        "failedExecutions": len(failed_runs),  # each one's photo is accounted for by the audit
        "failureCauses": dict(causes),
        "dlq": dlq["visible"] + dlq["inFlight"],
        "violations": violations,
    }


def soak(
    stack: Stack, photos: int, seed: int = 1, org: str = "soak", event: str = "run", timeout: float = 0
) -> dict:
    started = time.time()
    batch = make_batch(stack, org, event, photos, seed)
    uploaded = time.time()
    finished, _ = operations.wait(stack, org, event, timeout or 300.0, interval=1.0, progressing=True)
    settled = time.time()
    time.sleep(2)  # executions that lost their race (superseded, deleted) end just after
    report = check(stack, org, event, batch, started)
    report.update(
        uploadSeconds=round(uploaded - started, 1),
        settleSeconds=round(settled - uploaded, 1),
        finished=finished,
    )
    return report
