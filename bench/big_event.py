"""A big event on the local stack: every per-event operation timed at N photos (issue 31, point 1).

    python bench/big_event.py --photos N --runners R [--json] [--sizes 1000,10000,100000]

1. Starts the local stack in this process (snaprace.local.stack, as bench/bib_accuracy.py does: its
   moto is this process's) and seeds ONE event of N photos in bulk, with no execution: the items are
   built by the store's own code (processing.replacement.plan_save, then Photos.replace,
   keep_text_read, Corrections.put, Settings.put and TimingItems.replace_results, writing into a
   stand-in table that keeps them) and put straight into moto's table; the objects go into moto's
   bucket (no notification, so no execution starts) and the faces into the Rekognition emulator's
   collection. Per photo: 2 bibs from R runners (one bib in ~300 photos, the rest drawn with a
   1/sqrt(rank) skew), ~1.5 faces (a bib's runner shows their face 60 % of the time, linked to the
   bib; a stranger's face on 30 % of photos), its camera (30, at 5 checkpoints) and camera time
   near its first runner's passing, DetectText's answer (TEXT#), the review reasons SaveResults
   would give it; 10 corrected photos; timing results for R runners (5 passings each, names);
   the raw, processed and thumbnail objects (small bodies). The event is published, with name
   search on, its participant list (R bibs) and each camera's clock offset set.
2. Times every per-event operation through the code users run: the HTTP API (bib search, gallery
   pages, name searches, review queue, progress, settings, a correction spread over the photos of
   a face, face search off), RetentionSweepFunction invoked once as its daily schedule invokes it
   (through the local stack's function runtime: `snaprace retention sweep` invokes it with boto3,
   whose 60 s read timeout invokes a longer sweep again), and the `snaprace` commands' functions
   (audit, status, runner links, timing import, delete-runner, purge-event), in an order that
   leaves each its data: the reads first, the retention sweep on an event due for it, the faces
   put back, face search off, the purge last.
3. Background work: after each operation, until every JOB# item of the event is "done"
   (Store.jobs.of_event; any state but "done" waits, up to --job-timeout) and no queue feeds a
   function any more. The invocations of the functions the template feeds from a queue
   (JobFunction; StartProcessingFunction, which a purge's deletion events reach) are the
   operation's background, and so is whatever is counted after the operation returned.

For each operation: wall seconds here; requests by service and caller (the stack's meter, before,
as the operation returns, and after its background; S3 by operation, counted here, as the meter
counts S3 by price class only; the SQS polling of Lambda's event source mappings and the AWS/Lambda
metrics the stack puts for Lambda left out: the functions make neither); DynamoDB read and write
units; invocations; `projected_s`, the seconds the operation's own requests would take on AWS one
after another (LATENCY_S, our assumptions: an upper bound where a function writes from several
threads); `limit_s` (API Gateway's 30 s for an HTTP request, the function's Timeout from
template.yaml, CLI_LIMIT_S for a command); and `within_limit`: that projection within its limit,
and background work finished with each invocation's mean projection within its function's
Timeout. moto's own time is reported, not judged: it is not AWS's (bench/moto_at_scale.py takes
out the worst of it, in this process only: Queries sorting the whole table, transactions copying
it, read answers serialised value by value, listings copying the bucket, a deep queue counted
again for every message).

`--json` prints one object on the last line: {"photos", "runners", "seed_s", "operations":
[{"name", "seconds", "projected_s", "limit_s", "within_limit", "requests", "invocations", ...}]}.
`--sizes a,b,c` runs each size in a fresh process (a fresh stack), with R x size / N runners,
and adds per operation the growth exponents: the slope over log(N) of log(requests made in the
request or invocation that must fit its limit), of log(projected_s), of log(a background
invocation's mean projection) and of log(every request). One size runs at a time; the
100,000-photo run holds ~6 GB and takes over two hours here. Each operation's report is written
as it is made (.snaprace/big_event/report-N.partial.json), and `--only key,...` runs just those
operations on the seeded event (report-N-key.json), so a run can be completed in parts.
"""

import argparse
import contextlib
import datetime
import hashlib
import itertools
import json
import logging
import math
import os
import random
import resource
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
ORG, EVENT = "bench", "big-event"
EVENT_DATE, TIME_ZONE, RACE_START_HOUR = "2026-04-12", "Asia/Seoul", 8
UPLOADS_FROM = datetime.datetime(2026, 4, 12, 0, 0, tzinfo=datetime.UTC)  # 09:00 in Seoul
UPLOAD_HOURS = 6
HOT_PHOTOS = 300  # "a bib read in 300 photos" (issue 31)
BIBS_PER_PHOTO = 2
RUNNER_FACE_SHARE = 0.6  # a read bib's runner shows their face, linked to the bib
STRANGER_FACE_SHARE = 0.3  # a face whose bib no one read
HOT_FACE_ONLY_SHARE = 0.2  # the hot runner's face on this many more photos, bib hidden
CAMERAS = 30  # DESIGN §9: 30 photographers
CHECKPOINTS = {"5K": 5.0, "10K": 10.0, "HALF": 21.1, "30K": 30.0, "FINISH": 42.195}
CORRECTED_PHOTOS = 10
RUNNERS_PER_PHOTO = 40_000 / 150_000  # DESIGN §9: 40,000 runners, 150,000 photos
API_LIMIT_S = 30.0  # API Gateway's integration timeout
CLI_LIMIT_S = 300.0  # our stated limit for an operator's command: longer work is a resumable job (§9)
JOB_POLL_S = 1.0
# not the functions' requests: Lambda's event source mappings' polling, and the AWS/Lambda metrics the
# local stack puts for Lambda (no code of ours puts metrics: Powertools writes them to the logs)
NOISE = {"SQS:ReceiveMessage", "SQS:DeleteMessageBatch", "CloudWatch:PutMetricData"}
SCHEDULED_EVENT = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
OPERATOR = "operator"  # requests signed with the operator's key (the commands, the benchmark)
UNNAMED = "a function's own threads"  # see Harness.report
SERVICES = {
    "DynamoDB_20120810": "DynamoDB",
    "RekognitionService": "Rekognition",
    "AmazonSQS": "SQS",
    "secretsmanager": "SecretsManager",
    "AWSStepFunctions": "StepFunctions",
    "GraniteServiceVersion20100801": "CloudWatch",
    "Logs_20140328": "Logs",
}

# One AWS request's latency as a function in the same region sees it: our assumptions, the one table
# the projection uses. Queries and listings are pages (a Query page holds up to 1 MB; a listing
# 1,000 keys); a batch is one request.
LATENCY_S = {
    "DynamoDB:GetItem": 0.005,
    "DynamoDB:PutItem": 0.008,
    "DynamoDB:UpdateItem": 0.008,
    "DynamoDB:DeleteItem": 0.008,
    "DynamoDB:Query": 0.030,
    "DynamoDB:Scan": 0.030,
    "DynamoDB:BatchGetItem": 0.015,
    "DynamoDB:BatchWriteItem": 0.025,
    "DynamoDB:TransactWriteItems": 0.025,
    "S3:GetObject": 0.020,
    "S3:HeadObject": 0.015,
    "S3:PutObject": 0.030,
    "S3:DeleteObject": 0.020,
    "S3:DeleteObjects": 0.150,
    "S3:ListObjectsV2": 0.060,
    "S3:ListObjectVersions": 0.080,
    "Rekognition:SearchFaces": 0.150,
    "Rekognition:SearchFacesByImage": 0.400,
    "Rekognition:ListFaces": 0.100,
    "Rekognition:DeleteFaces": 0.100,
    "Rekognition:DescribeCollection": 0.050,
    "Rekognition:DeleteCollection": 0.200,
    "Rekognition:ListCollections": 0.050,
    "Rekognition:IndexFaces": 0.800,
    "Rekognition:DetectText": 0.600,
    "SQS:SendMessage": 0.010,
    "SQS:SendMessageBatch": 0.015,
    "SQS:GetQueueAttributes": 0.010,
    "SecretsManager:GetSecretValue": 0.020,
    "StepFunctions:ListExecutions": 0.050,
    "StepFunctions:StartExecution": 0.030,
    "CloudWatch:DescribeAlarms": 0.050,
}
DEFAULT_LATENCY_S = 0.030  # a request the table does not name


# ---------------------------------------------------------------- pure: names, projection, growth


def request_name(service: str, operation: str) -> str:
    """`Service:Operation` from the meter's `target-prefix:Operation` (DynamoDB_20120810 -> DynamoDB)."""
    return f"{SERVICES.get(service, service)}:{operation}"


def projected_seconds(requests: Mapping[str, int]) -> float:
    """The requests' time on AWS made one after another: each request's LATENCY_S (or the default)."""
    return sum(count * LATENCY_S.get(name, DEFAULT_LATENCY_S) for name, count in requests.items())


def by_service(requests: Mapping[str, int]) -> dict[str, int]:
    totals: Counter = Counter()
    for name, count in requests.items():
        totals[name.split(":", 1)[0]] += count
    return dict(sorted(totals.items()))


def growth_exponent(sizes: Iterable[float], values: Iterable[float]) -> float | None:
    """k in value ~ size^k: the least-squares slope of log(value) over log(size), over the sizes
    with a positive value; None with fewer than two (0: constant, 1: linear in the event)."""
    points = [(math.log(s), math.log(v)) for s, v in zip(sizes, values, strict=True) if s > 0 and v > 0]
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def within_limit(projected_s: float, limit_s: float, background: dict | None) -> bool:
    """The foreground within its limit, and any background work finished with each invocation's
    mean projection within its function's Timeout."""
    if projected_s > limit_s:
        return False
    if not background:
        return True
    return bool(background["finished"]) and background["projected_s_per_invocation"] <= background["limit_s"]


def s3_operation(method: str, key: str, query: str) -> str:
    """The S3 API operation of a REST request (what the meter's price classes do not say)."""
    if not key:
        if method == "GET" and "versions" in query:
            return "ListObjectVersions"
        if method == "GET":
            return "ListObjectsV2" if "list-type=2" in query else "ListObjects"
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        return f"Bucket{method.title()}"
    return {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject"}.get(
        method, f"Object{method.title()}"
    )


# ---------------------------------------------------------------- the event, planned (no I/O)


@dataclass(frozen=True)
class Face:
    face_id: str
    identity: str  # whose face: "runner-{bib}" or "stranger-{n}" (the scripted engine's identity)
    box: dict


@dataclass(frozen=True)
class Photo:
    index: int
    raw_key: str
    photo_id: str
    camera: str
    created_at: str
    taken_at: str
    bibs: tuple[str, ...]
    faces: tuple[Face, ...]
    links: dict  # bib -> the face id linked to it

    @property
    def body(self) -> bytes:
        return f"bench photo {self.photo_id}".encode()

    @property
    def etag(self) -> str:
        return hashlib.md5(self.body).hexdigest()  # noqa: S324 - S3's ETag of a single-part upload


@dataclass
class Runner:
    bib: str
    name: str
    seconds_per_km: float


@dataclass
class EventPlan:
    photos: list[Photo]
    runners: list[Runner]
    hot_bib: str
    camera_offsets: dict[str, int]  # seconds to add to the camera's clock
    checkpoint_of: dict[str, str]  # camera -> checkpoint
    face_only: dict[str, int] = field(default_factory=dict)  # photo id -> 1-based face of the hot runner

    def bib_counts(self) -> Counter:
        return Counter(bib for photo in self.photos for bib in photo.bibs)

    def typical_bib(self) -> str:
        """A runner with the mean number of photos and a linked face: one erasure request."""
        counts = self.bib_counts()
        mean = sum(counts.values()) / max(1, len(counts))
        linked = {bib for photo in self.photos for bib in photo.links}
        return min(sorted(linked - {self.hot_bib}), key=lambda bib: (abs(counts[bib] - mean), int(bib)))

    def unique_name(self) -> tuple[str, str]:
        """(family, given name) of a runner whose full name no other runner has, its given name the
        longer word (the public name search reads the longest word's items: 300 at most)."""
        names = Counter(runner.name for runner in self.runners)
        family, given = next(
            runner.name.split(" ")
            for runner in self.runners
            if names[runner.name] == 1 and len(runner.name.split(" ")[1]) > len(runner.name.split(" ")[0])
        )
        return family, given


FAMILY = ["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Oh", "Seo",
          "Shin", "Kwon", "Hwang", "Ahn", "Song", "Ryu", "Hong", "Smith", "Garcia", "Muller", "Rossi",
          "Tanaka", "Nguyen", "Silva", "Novak", "Jensen", "Dubois"]  # fmt: skip
SYLLABLES = ["min", "ji", "seo", "hyun", "jun", "woo", "yeon", "su", "eun", "ho", "jin", "young",
             "hee", "sung", "kyung", "hye", "dong", "tae", "na", "ra", "bin", "won", "ha", "yu"]  # fmt: skip


def uuid_of(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def passing_seconds(runner: Runner, checkpoint: str) -> float:
    """Seconds after midnight (local) the runner crossed the checkpoint's mat."""
    return RACE_START_HOUR * 3600 + CHECKPOINTS[checkpoint] * runner.seconds_per_km


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def plan_event(photos: int, runners: int, seed: int = 31) -> EventPlan:
    """Deterministic: the same sizes give the same event."""
    from pipeline.common import keys

    rng = random.Random(seed)
    crowd = [
        Runner(str(bib), f"{rng.choice(FAMILY)} {(rng.choice(SYLLABLES) + rng.choice(SYLLABLES)).title()}",
               rng.uniform(240, 480))
        for bib in range(1, runners + 1)
    ]  # fmt: skip
    by_bib = {runner.bib: runner for runner in crowd}
    hot = crowd[len(crowd) // 3].bib
    others = [runner.bib for runner in crowd if runner.bib != hot]
    rng.shuffle(others)
    weights = list(itertools.accumulate(1 / math.sqrt(rank + 1) for rank in range(len(others))))
    hot_count = min(HOT_PHOTOS, photos // 3)
    hot_photos = set(rng.sample(range(photos), hot_count))
    rest = [index for index in range(photos) if index not in hot_photos]
    face_only = set(rng.sample(rest, min(len(rest), int(hot_count * HOT_FACE_ONLY_SHARE))))
    cameras = [f"cam{number:02d}" for number in range(1, CAMERAS + 1)]
    checkpoint_of = {camera: list(CHECKPOINTS)[n % len(CHECKPOINTS)] for n, camera in enumerate(cameras)}
    offsets = {camera: rng.randint(-90, 90) for camera in cameras}
    planned, hot_faces = [], {}
    for index in range(photos):
        camera = cameras[index % CAMERAS]
        chosen = [hot] if index in hot_photos else []
        while len(chosen) < BIBS_PER_PHOTO:
            bib = rng.choices(others, cum_weights=weights)[0]
            if bib not in chosen:
                chosen.append(bib)
        people = [(f"runner-{bib}", bib) for bib in chosen if rng.random() < RUNNER_FACE_SHARE]
        if index in face_only:
            people.append((f"runner-{hot}", None))
        if rng.random() < STRANGER_FACE_SHARE:
            people.append((f"stranger-{index}", None))
        faces, links = [], {}
        for slot, (identity, bib) in enumerate(people):
            box = {"left": round(0.08 + 0.22 * slot, 4), "top": 0.18, "width": 0.07, "height": 0.1}
            faces.append(Face(uuid_of(rng), identity, box))
            if bib:
                links[bib] = faces[-1].face_id
            elif identity == f"runner-{hot}":
                hot_faces[index] = slot + 1  # faces are left to right
        raw_key = keys.raw_key(ORG, EVENT, f"{camera}/IMG_{index:06d}.jpg")
        taken = passing_seconds(by_bib[chosen[0]], checkpoint_of[camera]) - offsets[camera]
        taken += rng.uniform(-0.8, 0.8)
        created = UPLOADS_FROM + datetime.timedelta(seconds=index * UPLOAD_HOURS * 3600 / photos)
        planned.append(
            Photo(
                index,
                raw_key,
                keys.photo_id_for(raw_key),
                camera,
                created.isoformat(timespec="seconds"),
                f"{EVENT_DATE}T{clock(taken)}",
                tuple(chosen),
                tuple(faces),
                links,
            )
        )
    face_only_ids = {planned[index].photo_id: face for index, face in hot_faces.items()}
    return EventPlan(planned, crowd, hot, offsets, checkpoint_of, face_only_ids)


def results_csv(plan: EventPlan) -> str:
    """The timing export: a row per runner and checkpoint (bib, checkpoint, time of day, name)."""
    lines = ["bib,checkpoint,time,name"]
    for runner in plan.runners:
        for checkpoint in CHECKPOINTS:
            lines.append(
                f"{runner.bib},{checkpoint},{clock(passing_seconds(runner, checkpoint))},{runner.name}"
            )
    return "\n".join(lines) + "\n"


def detections_of(photo: Photo) -> list[dict]:
    """DetectText's TextDetections for the photo: each bib's line and word, and the words printed on
    every bib (the event's name, a sponsor), as Rekognition shapes them."""
    found, ident = [], 0
    texts = [(bib, 0.1 + 0.22 * n, 0.5) for n, bib in enumerate(photo.bibs)]
    texts += [("SEOUL", 0.1, 0.45), ("MARATHON", 0.3, 0.45), ("2026", 0.55, 0.45), ("RUN", 0.7, 0.55)]
    for text, left, top in texts:
        box = {"Width": 0.1, "Height": 0.05, "Left": left, "Top": top}
        geometry = {"BoundingBox": box, "Polygon": [{"X": left, "Y": top}, {"X": left + 0.1, "Y": top},
                    {"X": left + 0.1, "Y": top + 0.05}, {"X": left, "Y": top + 0.05}]}  # fmt: skip
        line = {"DetectedText": text, "Type": "LINE", "Id": ident, "Confidence": 98.7, "Geometry": geometry}
        word = {**line, "Type": "WORD", "Id": ident + 1, "ParentId": ident}
        found += [line, word]
        ident += 2
    return found


# ---------------------------------------------------------------- seeding


class KeptItems:
    """A stand-in for the boto3 Table the store's item modules write through: it keeps the items
    as the store built them instead of sending them (an empty table to any read), so a bulk load
    has the store's own shapes."""

    def __init__(self, name: str):
        self.name = name
        self.items: list[dict] = []
        self.meta = SimpleNamespace(client=self)

    def put_item(self, Item: dict, **_) -> dict:  # noqa: N803 - boto3's argument names
        self.items.append(Item)
        return {}

    def get_item(self, **_) -> dict:
        return {}

    def query(self, **_) -> dict:
        return {"Items": []}

    def batch_write_item(self, RequestItems: dict) -> dict:  # noqa: N803
        self.items += [w["PutRequest"]["Item"] for w in RequestItems[self.name] if "PutRequest" in w]
        return {}

    def delete_item(self, **_) -> dict:  # nothing there yet
        return {}

    def take(self) -> list[dict]:
        items, self.items = self.items, []
        return items


class EventItems:
    """The event's table items, built by the store's own code (processing.replacement.plan_save,
    Photos.replace and keep_text_read, Corrections.put, Settings.put, TimingItems.replace_results)
    writing into KeptItems: the shapes SaveResults and `snaprace timing import` write."""

    def __init__(self, plan: EventPlan, table_name: str, bucket: str):
        from pipeline.store import Store

        self.plan, self.bucket = plan, bucket
        self.kept = KeptItems(table_name)
        self.store = Store(self.kept)

    def settings(self):
        from pipeline.events.settings import EventSettings

        return EventSettings(
            participants=frozenset(runner.bib for runner in self.plan.runners),
            published=True,
            date=EVENT_DATE,
            timezone=TIME_ZONE,
            name_search=True,
        )

    def photos(self, chunk: int = 2000) -> Iterator[list[dict]]:
        """Photo and bib items as SaveResults writes them, the text reads, and a few photos a person
        corrected (their correction records), in chunks of about `chunk` items."""
        from pipeline.common import keys
        from pipeline.common.models import INDEXED
        from pipeline.corrections import records, review
        from pipeline.events.settings import result_fingerprint
        from pipeline.processing.replacement import Outcome, plan_save
        from pipeline.store.corrections import review_key

        fingerprint = result_fingerprint(self.settings().reads_fingerprint(), True)
        step = max(1, len(self.plan.photos) // CORRECTED_PHOTOS)
        corrected = {photo.photo_id for photo in self.plan.photos[step // 2 :: step]}
        for photo in self.plan.photos:
            raw = keys.parse_raw_key(photo.raw_key)
            faces = [{"faceId": f.face_id, "confidence": 99.9, "box": f.box} for f in photo.faces]
            bibs = []
            for slot, bib in enumerate(photo.bibs):
                box = {"left": round(0.07 + 0.22 * slot, 4), "top": 0.5, "width": 0.1, "height": 0.05}
                read = {"bib": bib, "confidence": 98.7, "box": box}
                if bib in photo.links:
                    read["faceId"] = photo.links[bib]
                bibs.append(read)
            attributes = {
                "processedKey": raw.processed_key,
                "thumbnailKey": raw.thumbnail_key,
                "width": 2048,
                "height": 1365,
                "bytes": 4_800_000,
                "takenAt": photo.taken_at,
                "facesIndexed": True,
                "otherFaceBoxes": [],
                "settingsFingerprint": fingerprint,
            }
            if photo.photo_id in corrected:  # a person added a bib: out of the review queue
                extra = self.plan.runners[photo.index % len(self.plan.runners)].bib
                record, _ = records.updated(
                    None, photo.etag, add=[extra], who="key:bench", at=photo.created_at
                )
                self.store.corrections.put(ORG, EVENT, photo.photo_id, record)
                bibs = records.apply(bibs, faces, record)
                attributes["reviewed"] = record["reviewed"]
            else:
                found = review.reasons(bibs, [], faces)
                if found:
                    attributes["review"] = found
                    attributes["reviewKey"] = review_key(review.rank(found), photo.created_at, photo.photo_id)
            execution = keys.execution_name(photo.photo_id, photo.etag, f"{photo.index + 1:018X}")
            source = {
                "bucket": self.bucket,
                "rawKey": photo.raw_key,
                "etag": photo.etag,
                "orgId": ORG,
                "eventId": EVENT,
                "photoId": photo.photo_id,
            }
            saved = plan_save(
                raw,
                source,
                execution,
                Outcome(INDEXED, attributes, bibs, faces),
                previous={},
                notes={},
                current=True,
                now=photo.created_at,
            )
            self.store.photos.replace(saved.item, saved.bibs, None)
            self.store.photos.keep_text_read(ORG, EVENT, photo.photo_id, photo.etag, detections_of(photo))
            if len(self.kept.items) >= chunk:
                yield self.kept.take()
        yield self.kept.take()

    def event(self, csv_text: str) -> list[dict]:
        """The settings (participants, published, name search) and the timing import of the
        runners, from the results file as `snaprace timing import` reads it."""
        from pipeline.timing import results_file
        from pipeline.timing.rules import event_zone

        self.store.settings.put(ORG, EVENT, self.settings().to_item())
        day, zone = datetime.date.fromisoformat(EVENT_DATE), event_zone(TIME_ZONE)
        results = results_file.parse_results(csv_text, results_file.Columns(), day, zone)
        self.store.timing.replace_results(ORG, EVENT, results, "results.csv")
        return self.kept.take()


class Seeder:
    """Writes a planned event straight into the local stack's moto (its table and bucket, this
    process's) and Rekognition emulator: no request, no notification, no execution."""

    def __init__(self, stack, plan: EventPlan):
        from boto3.dynamodb.types import TypeSerializer
        from moto.dynamodb.models import dynamodb_backends
        from moto.s3.models import s3_backends

        from snaprace.template import LOCAL_ACCOUNT

        self.stack, self.plan = stack, plan
        table_name = stack.resolver.physical_ids["PhotoTable"]
        self.bucket = stack.resolver.physical_ids["ImageBucket"]
        self.table = dynamodb_backends[LOCAL_ACCOUNT][stack.region].get_table(table_name)
        self.s3 = s3_backends[LOCAL_ACCOUNT]["aws"]
        self.built = EventItems(plan, table_name, self.bucket)
        self.serializer = TypeSerializer()
        self.collection_prefix = stack.specs["SearchApiFunction"].environment["COLLECTION_PREFIX"]
        self.items = 0

    def put(self, items: list[dict]) -> None:
        serialize = self.serializer.serialize
        for item in items:
            self.table.put_item({name: serialize(value) for name, value in item.items()})
        self.items += len(items)

    def photos(self) -> None:
        for chunk in self.built.photos():
            self.put(chunk)

    def event_items(self, csv_text: str) -> None:
        self.put(self.built.event(csv_text))

    def faces(self) -> None:
        """The event's collection with every face, as IndexFaces leaves it."""
        from pipeline.common import keys
        from snaprace.local.engines import SeenFace
        from snaprace.local.rekognition import StoredFace

        emulator = self.stack.rekognition
        collection_id = keys.collection_id(self.collection_prefix, ORG, EVENT)
        if collection_id not in emulator.collections:
            emulator.handle("CreateCollection", {"CollectionId": collection_id})
        faces = emulator.collections[collection_id].faces
        for photo in self.plan.photos:
            image_id = str(uuid.UUID(int=int(photo.photo_id, 16), version=4))
            for face in photo.faces:
                box = (face.box["left"], face.box["top"], face.box["width"], face.box["height"])
                faces[face.face_id] = StoredFace(
                    face.face_id, image_id, photo.photo_id, SeenFace(box, face.identity)
                )

    def objects(self) -> None:
        from pipeline.common import keys

        for photo in self.plan.photos:
            raw = keys.parse_raw_key(photo.raw_key)
            for key, body in ((photo.raw_key, photo.body), (raw.processed_key, b"processed"),
                              (raw.thumbnail_key, b"thumbnail")):  # fmt: skip
                self.s3.put_object(self.bucket, key, body, disable_notification=True)

    def through_the_api(self, store) -> None:
        """The few items written by requests, with the real store: the registry (the retention
        sweep walks it) and the cameras at their checkpoints with their clock offsets."""
        store.registry.note_upload(ORG, EVENT, self.plan.photos[-1].created_at)
        for camera, checkpoint in self.plan.checkpoint_of.items():
            store.timing.put_camera(ORG, EVENT, camera, checkpoint, float(self.plan.camera_offsets[camera]))


# ---------------------------------------------------------------- what the stack counted


class Counts:
    """The stack's meter, read in this process, with S3 requests named by operation and caller
    (the meter counts S3 by price class only): `snapshot()` before and after an operation."""

    def __init__(self, stack):
        from snaprace.local import iam_requests

        self.stack, self.s3, self.lock = stack, Counter(), threading.Lock()
        endpoint = stack._server.app  # the local stack's one WSGI endpoint (snaprace.local.server)
        counted = endpoint._count

        def count(environ, target: str) -> None:
            counted(environ, target)
            signed = iam_requests.signing(environ)
            if not target and signed and signed[1] == "s3":
                _, key = iam_requests.bucket_and_key(environ)
                name = s3_operation(environ["REQUEST_METHOD"], key, environ.get("QUERY_STRING", ""))
                with self.lock:
                    self.s3[(stack.caller_of(signed[0]) or OPERATOR, f"S3:{name}")] += 1

        endpoint._count = count

    def snapshot(self) -> dict:
        meter = self.stack.meter.describe()
        calls: Counter = Counter()
        for key, count in meter["requestsByCaller"].items():
            caller, service, operation = key.split(":", 2)
            calls[(caller, request_name(service, operation))] += count
        by_functions: Counter = Counter()
        for (_, name), count in calls.items():
            by_functions[name] += count
        for key, count in meter["requests"].items():
            name = request_name(*key.split(":", 1))
            calls[(OPERATOR, name)] += count - by_functions[name]
        with self.lock:
            calls.update(self.s3)
            s3_total = sum(self.s3.values())
        return {
            "calls": calls,
            "read_units": meter["dynamodb"]["readUnits"],
            "write_units": meter["dynamodb"]["writeUnits"],
            "invocations": Counter({name: f["invocations"] for name, f in meter["lambda"].items()}),
            "total": sum(meter["requests"].values()) + s3_total,
        }


def difference(after: dict, before: dict) -> dict:
    calls = Counter(after["calls"])
    calls.subtract(before["calls"])
    invocations = Counter(after["invocations"])
    invocations.subtract(before["invocations"])
    return {
        "calls": Counter({key: n for key, n in calls.items() if n > 0 and key[1] not in NOISE}),
        "read_units": after["read_units"] - before["read_units"],
        "write_units": after["write_units"] - before["write_units"],
        "invocations": {name: n for name, n in sorted(invocations.items()) if n > 0},
    }


# ---------------------------------------------------------------- the harness


@dataclass
class Operation:
    key: str  # the same at every size (the growth table's row)
    name: str
    kind: str  # "api", "cli", "scheduled"
    run: Callable[[], object]  # returns what it answered, briefly
    limit_s: float


class Harness:
    def __init__(self, stack, plan: EventPlan, csv_path: Path, job_timeout: float, say=print):
        from snaprace.stack import Stack

        self.stack, self.plan, self.csv_path = stack, plan, csv_path
        self.job_timeout, self.say = job_timeout, say
        self.counts = Counts(stack)
        self.cli = Stack(endpoint_url=stack.endpoint_url)  # the operator's commands' view of the stack
        self.store = self.cli.photo_table
        self.api_url = stack.outputs["ApiUrl"]
        secrets = self.cli.client("secretsmanager")
        self.api_key = secrets.get_secret_value(SecretId=self.cli.output("ApiKeySecretName"))["SecretString"]
        self.signing_key = secrets.get_secret_value(SecretId=self.cli.output("SigningKeySecretName"))[
            "SecretString"
        ].encode()
        _ = (self.cli.physical_ids, self.cli.collection_prefix)  # the commands' start-up, once
        self.background = {spec.logical_id for spec, _ in stack.sqs_sources}  # fed from a queue
        self.polls = 0

    # ------------------------------------------------------------ measuring

    def measure(self, operation: Operation) -> dict:
        """Counts before, as the operation returns (its foreground), and once its background work
        is done and the stack quiet."""
        self.say(f"  {operation.name} ...")
        self.quiet()
        before = self.counts.snapshot()
        started = time.monotonic()
        try:
            outcome = operation.run()
        except Exception as exc:  # noqa: BLE001 - an operation that fails is a result too
            outcome = f"failed: {type(exc).__name__}: {str(exc)[:200]}"
        seconds = time.monotonic() - started
        returned, polls = self.counts.snapshot(), self.polls
        finished, waited = self.wait_for_jobs()
        self.quiet(most=self.job_timeout)  # invocations a queue still feeds (a purge's deletion events)
        after = difference(self.counts.snapshot(), returned)
        after["calls"][(OPERATOR, "DynamoDB:Query")] -= self.polls - polls  # our own polls of the jobs
        after["read_units"] -= self.polls - polls  # one unit each: a consistent read of small items
        return self.report(operation, outcome, seconds, finished, waited, difference(returned, before), after)

    def report(self, operation, outcome, seconds, finished, waited, until, after) -> dict:
        """`until`: what was counted until the operation returned; `after`: until its background work
        was done. A queue-fed function's requests are background whenever they came; the rest are
        the operation's own until it returned, background after. A request the operator's key signed
        during an API or scheduled operation came from a thread no function started (the local stack
        signs a function's own threads with its role, snaprace/local/iam.py): shown unnamed."""
        foreground: Counter = Counter()
        background: Counter = Counter()
        by_caller: dict[str, Counter] = {}
        for part, change in (("until", until), ("after", after)):
            for (caller, name), count in change["calls"].items():
                if count <= 0:
                    continue
                behind = caller in self.background or part == "after"
                (background if behind else foreground)[name] += count
                if caller == OPERATOR and operation.kind != "cli":
                    caller = UNNAMED
                by_caller.setdefault(caller, Counter())[name] += count
        change = {
            "invocations": dict(Counter(until["invocations"]) + Counter(after["invocations"])),
            "read_units": until["read_units"] + after["read_units"],
            "write_units": until["write_units"] + after["write_units"],
        }
        requests = dict(sorted((foreground + background).items()))
        names = {spec.name: spec for spec in self.stack.specs.values()}
        behind = {
            name: n for name, n in change["invocations"].items() if names[name].logical_id in self.background
        }
        jobs = None
        if behind or background:
            runs = sum(behind.values())
            projected = projected_seconds(background)
            # each queue-fed function's mean invocation against its own timeout (a purge's JobFunction
            # pages, not averaged with the starter's quick answers to the deletion events); judged by
            # the one nearest its limit
            functions = {
                name: {
                    "invocations": n,
                    "projected_s_per_invocation": round(
                        projected_seconds(by_caller.get(names[name].logical_id, {})) / n, 2
                    ),
                    "limit_s": names[name].timeout,
                }
                for name, n in sorted(behind.items())
            }
            worst = max(
                functions.values(),
                key=lambda f: f["projected_s_per_invocation"] / f["limit_s"],
                default={"projected_s_per_invocation": projected, "limit_s": 0.0},
            )
            jobs = {
                "finished": finished,
                "seconds": round(waited, 2),
                "invocations": runs,
                "projected_s": round(projected, 2),
                "projected_s_per_invocation": worst["projected_s_per_invocation"],
                "limit_s": worst["limit_s"],
                "functions": functions,
                "requests": dict(sorted(background.items())),
            }
        projected = projected_seconds(foreground)
        report = {
            "key": operation.key,
            "name": operation.name,
            "kind": operation.kind,
            "seconds": round(seconds, 2),
            "projected_s": round(projected, 3),
            "limit_s": operation.limit_s,
            "within_limit": within_limit(projected, operation.limit_s, jobs),
            "requests": requests,
            "requests_total": sum(requests.values()),
            "foreground_requests": sum(foreground.values()),
            "by_service": by_service(requests),
            "by_caller": {caller: dict(sorted(c.items())) for caller, c in sorted(by_caller.items())},
            "dynamodb_units": {
                "read": round(change["read_units"], 1),
                "write": round(change["write_units"], 1),
            },
            "invocations": change["invocations"],
            "background": jobs,
            "outcome": outcome,
            "rss_mb": resident_mb(),
        }
        self.say(
            f"    {report['seconds']} s here, projected {report['projected_s']} s of {operation.limit_s:g}, "
            f"{report['requests_total']} requests {report['by_service']}, {outcome}"
        )
        return report

    def wait_for_jobs(self) -> tuple[bool, float]:
        """Until every JOB# item of the event is "done" (the background jobs the operations start);
        (finished, seconds waited)."""
        started = time.monotonic()
        while True:
            self.polls += 1
            waiting = [job for job in self.store.jobs.of_event(ORG, EVENT) if job.get("state") != "done"]
            waited = time.monotonic() - started
            if not waiting:
                return True, waited
            if waited > self.job_timeout:
                self.say(f"    jobs not done after {waited:.0f} s: {[j.get('jobId') for j in waiting]}")
                return False, waited
            time.sleep(JOB_POLL_S)

    def quiet(self, settle: float = 1.5, most: float = 60.0) -> None:
        """Until the stack has made no request for `settle` seconds (the last background invocation
        counted), the event source mappings' polling aside."""
        deadline, last, still = time.monotonic() + most, None, time.monotonic()
        while time.monotonic() < deadline:
            snapshot = self.counts.snapshot()
            current = sum(n for (_, name), n in snapshot["calls"].items() if name not in NOISE)
            current += sum(snapshot["invocations"].values())
            if current != last:
                last, still = current, time.monotonic()
            elif time.monotonic() - still >= settle:
                return
            time.sleep(0.25)

    # ------------------------------------------------------------ the HTTP API

    def api(self, method: str, path: str, body: dict | None = None, keyed: bool = True) -> str:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.api_url}{path}", data=data, method=method)  # noqa: S310
        if keyed:
            request.add_header("x-api-key", self.api_key)
        else:
            request.add_header("x-snaprace-client", "bench")  # what the runner page sends
        if data is not None:
            request.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=24 * 3600) as answer:  # noqa: S310 - the local stack
                status, payload = answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            status, payload = error.code, json.loads(error.read() or b"{}")
        return f"HTTP {status} {summary_of(payload)}"

    def deep_cursor(self, share: float) -> str:
        """A gallery cursor `share` of the way into the event (newest first), signed as the API signs
        them: one request reaches the page a runner would reach by following cursors that far."""
        from pipeline.search.cursor import encode_cursor
        from pipeline.store.core import event_pk
        from pipeline.store.photos import gallery_key, photo_sk

        newest_first = sorted(
            self.plan.photos, key=lambda p: gallery_key(p.created_at, p.photo_id), reverse=True
        )
        before = newest_first[max(0, int(len(newest_first) * share) - 1)]
        position = {
            "PK": event_pk(ORG, EVENT),
            "SK": photo_sk(before.photo_id),
            "galleryKey": gallery_key(before.created_at, before.photo_id),
        }
        return encode_cursor(position, ORG, EVENT, self.signing_key)

    # ------------------------------------------------------------ the operations

    def operations(self) -> list[Operation]:
        from urllib.parse import quote

        from pipeline.timing.results_file import Columns
        from snaprace import access, operations, retention, runbook, timing

        plan, event = self.plan, f"/orgs/{ORG}/events/{EVENT}"
        public = f"/public{event}"
        functions = {spec.logical_id: spec for spec in self.stack.specs.values()}
        sweep_limit = functions["RetentionSweepFunction"].timeout
        typical = plan.typical_bib()
        spread_photo, face = next(iter(sorted(plan.face_only.items())), (plan.photos[0].photo_id, 1))
        family, given = plan.unique_name()

        def delete_runner() -> str:
            found = retention.runner_plan(self.cli, ORG, EVENT, typical, None)
            retention.delete_runner(self.cli, ORG, EVENT, found)
            return f"bib {typical}: {len(found.face_ids)} faces on {len(found.photo_ids)} photos"

        def purge() -> str:  # `purge-event --yes --wait 0`: the preview's counts, the collection, the job
            found = retention.purge_plan(self.cli, ORG, EVENT)
            job_id = retention.start_purge(self.cli, found)
            return f"{found.summary()}, job {job_id}"

        def audit() -> str:
            found = operations.audit(self.cli, ORG, EVENT).as_dict()
            return f"raw {found['raw']}, indexed {found['indexed']}, problems {len(found['problems'])}"

        def status() -> str:
            found = runbook.status(self.cli)
            return (
                f"{len(found['collections'])} collections, faces {[c['faces'] for c in found['collections']]}"
            )

        def links() -> str:
            made, _ = access.make_runner_links(self.cli, ORG, EVENT)
            return f"{len(made)} links"

        def timing_import() -> str:
            found = timing.import_results(self.cli, ORG, EVENT, self.csv_path, Columns())
            return (
                f"{found['runners']} runners, {found['passings']} passings, {len(found['cameras'])} cameras"
            )

        def sweep() -> str:
            """As its schedule invokes it: once, waiting as long as it runs. (`snaprace retention
            sweep` invokes it through boto3, whose 60 s read timeout invokes it again, and again.)"""
            spec = functions["RetentionSweepFunction"]
            invocation = self.stack.functions.invoke(spec, SCHEDULED_EVENT)
            return str(invocation.payload)[:300]

        def api(method: str, path: str, body: dict | None = None, keyed: bool = True):
            return lambda: self.api(method, path, body, keyed)

        counts = plan.bib_counts()
        hot, gallery = f"{public}/bibs/{plan.hot_bib}/photos", f"{event}/photos?limit=100"
        correction = {"add": [plan.hot_bib], "face": face, "spread": True}
        return [
            Operation(
                "bib_search_hot",
                f"bib search, bib in {counts[plan.hot_bib]} photos (public)",
                "api",
                api("GET", hot, keyed=False),
                API_LIMIT_S,
            ),
            Operation(
                "bib_search_again",
                "bib search, the same again (face matches kept)",
                "api",
                api("GET", hot, keyed=False),
                API_LIMIT_S,
            ),
            Operation(
                "bib_search_typical",
                f"bib search, bib in {counts[typical]} photos (public)",
                "api",
                api("GET", f"{public}/bibs/{typical}/photos", keyed=False),
                API_LIMIT_S,
            ),
            Operation("gallery_first", "gallery, first page of 100", "api", api("GET", gallery), API_LIMIT_S),
            Operation(
                "gallery_deep",
                "gallery, page of 100 at 90% depth",
                "api",
                lambda: self.api("GET", f"{gallery}&cursor={self.deep_cursor(0.9)}"),
                API_LIMIT_S,
            ),
            Operation(
                "name_search_public",
                "name search, full name (public)",
                "api",
                api("GET", f"{public}/runners?name={quote(family + ' ' + given)}", keyed=False),
                API_LIMIT_S,
            ),
            Operation(
                "name_search_prefix",
                "name search, prefix (organiser)",
                "api",
                api("GET", f"{event}/runners?name={quote(family + ' ' + given[:2])}"),
                API_LIMIT_S,
            ),
            Operation(
                "review_queue",
                "review queue, 100",
                "api",
                api("GET", f"{event}/review?limit=100"),
                API_LIMIT_S,
            ),
            Operation("progress", "progress", "api", api("GET", f"{event}/progress"), API_LIMIT_S),
            Operation(
                "progress_again",
                "progress again (a count job's answer, if one ran)",
                "api",
                api("GET", f"{event}/progress"),
                API_LIMIT_S,
            ),
            Operation("settings_get", "settings GET", "api", api("GET", f"{event}/settings"), API_LIMIT_S),
            Operation(
                "settings_put",
                "settings PUT selfieSearch open",
                "api",
                api("PUT", f"{event}/settings", {"selfieSearch": "open"}),
                API_LIMIT_S,
            ),
            Operation(
                "correction_spread",
                f"correction with spread (bib {plan.hot_bib}'s face)",
                "api",
                api("POST", f"{event}/photos/{spread_photo}/corrections", correction),
                API_LIMIT_S,
            ),
            Operation("audit", "snaprace audit", "cli", audit, CLI_LIMIT_S),
            Operation("status", "snaprace status", "cli", status, CLI_LIMIT_S),
            Operation("runner_links", "snaprace runner-links", "cli", links, CLI_LIMIT_S),
            Operation(
                "timing_import",
                f"snaprace timing import ({len(plan.runners)} runners)",
                "cli",
                timing_import,
                CLI_LIMIT_S,
            ),
            Operation(
                "delete_runner",
                f"snaprace delete-runner (bib in {counts[typical]} photos)",
                "cli",
                delete_runner,
                CLI_LIMIT_S,
            ),
            Operation(
                "retention_sweep", "retention sweep (RetentionSweepFunction)", "scheduled", sweep, sweep_limit
            ),
            Operation(
                "faces_off",
                "settings PUT faces off",
                "api",
                api("PUT", f"{event}/settings", {"faces": False}),
                API_LIMIT_S,
            ),
            Operation("purge_event", "snaprace purge-event", "cli", purge, CLI_LIMIT_S),
        ]


def resident_mb() -> int:
    """This process's resident set now (the local stack's moto is in it)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) // 1024


def summary_of(payload) -> str:
    """A short account of an API answer (counts, not contents)."""
    if not isinstance(payload, dict):
        return ""
    parts = []
    for name in ("count", "facesDeleted", "message", "raw", "indexed", "faces", "published"):
        if name in payload:
            parts.append(f"{name}={str(payload[name])[:80]}")
    if "photos" in payload and isinstance(payload["photos"], list):
        matched = Counter(p.get("matchedBy") for p in payload["photos"] if isinstance(p, dict))
        if any(matched):
            parts.append(f"matchedBy={dict(matched)}")
    if payload.get("nextCursor"):
        parts.append("nextCursor")
    if "spread" in payload:
        parts.append(f"spread={len(payload['spread'])}")
    for name in ("facesDeletion", "job", "jobId"):
        if name in payload:
            parts.append(f"{name}={str(payload[name])[:120]}")
    return " ".join(parts)


# ---------------------------------------------------------------- one size


def run(photos: int, runners: int, job_timeout: float, say=print, only: set[str] | None = None) -> dict:
    from moto_at_scale import install as moto_at_scale

    from snaprace.local import event_sources
    from snaprace.local.launch import free_port
    from snaprace.local.logs import FunctionLogs
    from snaprace.local.stack import LocalStack
    from snaprace.template import LOCAL_ACCOUNT

    work = ROOT / ".snaprace" / "big_event"
    work.mkdir(parents=True, exist_ok=True)
    log_file = work / f"local-{photos}.log"
    log_stream = log_file.open("w", buffering=1)
    logging.basicConfig(stream=log_stream, level=logging.WARNING, force=True)
    moto_at_scale()  # Queries from sorted keys, transactions undone item by item: AWS's costs, not moto's
    # the stack's execution watcher lists executions every 3 s for its progress line: this event
    # starts none, and its requests would be counted with `snaprace status`'s
    event_sources.watch_executions = lambda *args, **kwargs: None
    stack = LocalStack(port=free_port(), progress=lambda _line: None)
    timings: dict[str, float] = {}
    with contextlib.redirect_stdout(FunctionLogs(log_stream, LOCAL_ACCOUNT, stack.region, stack.meter)):
        stack.start()
        try:
            started = time.monotonic()
            plan = plan_event(photos, runners)
            timings["plan"] = time.monotonic() - started
            csv_path = work / f"results-{photos}.csv"
            csv_path.write_text(results_csv(plan))
            seeder = Seeder(stack, plan)
            for part, step in (
                ("photos", seeder.photos),
                ("faces", seeder.faces),
                ("objects", seeder.objects),
                ("event", lambda: seeder.event_items(csv_path.read_text())),
            ):
                started = time.monotonic()
                step()
                timings[part] = time.monotonic() - started
                say(f"seeded {part} in {timings[part]:.1f} s ({seeder.items} items so far)")
            harness = Harness(stack, plan, csv_path, job_timeout, say=say)
            started = time.monotonic()
            seeder.through_the_api(harness.store)
            timings["registry_and_cameras"] = time.monotonic() - started
            seed_s = sum(timings.values())
            say(f"seeded {photos} photos, {runners} runners, {seeder.items} items in {seed_s:.1f} s")
            reports = []
            partial = work / f"report-{photos}.partial.json"  # each operation's report as it is made
            for operation in harness.operations():
                if only and operation.key not in only:
                    continue
                if operation.key == "retention_sweep":
                    # due: its face retention counted from a date long past (the command's code)
                    from snaprace import operations

                    operations.event_settings(harness.cli, ORG, EVENT, retention_from="2020-01-01")
                if operation.key == "faces_off":
                    started = time.monotonic()
                    seeder.photos()  # the faces the sweep took, back on the items and in the collection
                    seeder.faces()
                    say(f"  faces put back in {time.monotonic() - started:.1f} s")
                reports.append(harness.measure(operation))
                partial.write_text(json.dumps({"photos": photos, "runners": runners, "operations": reports}))
        finally:
            stack.stop()
    return {
        "photos": photos,
        "runners": runners,
        "items": seeder.items,
        "hot_bib_photos": plan.bib_counts()[plan.hot_bib],
        "faces": sum(len(p.faces) for p in plan.photos),
        "seed_s": round(seed_s, 1),
        "seed_parts_s": {part: round(s, 1) for part, s in timings.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_1_5_15_min": [round(value, 2) for value in os.getloadavg()],
        "latency_s": LATENCY_S,
        "operations": reports,
        "log": str(log_file),
    }


# ---------------------------------------------------------------- several sizes


def runners_for(size: int, photos: int | None, runners: int | None) -> int:
    """R x size / N (the same runners per photo); DESIGN §9's ratio when no R is given."""
    if runners is None:
        return max(10, round(size * RUNNERS_PER_PHOTO))
    return max(10, round(runners * size / (photos or size)))


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def growth(runs: list[dict]) -> list[dict]:
    """Per operation, its figures at each size and their growth exponents: of the requests made in
    the request or invocation that must fit its limit (the defect when it grows with the event), of
    their projection, of a background invocation's mean projection, and of every request made."""
    sizes = [run["photos"] for run in runs]
    table = []
    for first in runs[0]["operations"]:
        rows = [next(op for op in run["operations"] if op["key"] == first["key"]) for run in runs]
        inside = [row["foreground_requests"] for row in rows]
        projected = [row["projected_s"] for row in rows]
        each = [(row["background"] or {}).get("projected_s_per_invocation", 0.0) for row in rows]
        every = [row["requests_total"] for row in rows]
        table.append(
            {
                "key": first["key"],
                "name": first["name"],
                "requests": inside,
                "projected_s": projected,
                "background_s_per_invocation": each if any(each) else None,
                "all_requests": every,
                "within_limit": [row["within_limit"] for row in rows],
                "growth_requests": rounded(growth_exponent(sizes, inside)),
                "growth_projected_s": rounded(growth_exponent(sizes, projected)),
                "growth_background_per_invocation": rounded(growth_exponent(sizes, each)),
                "growth_all_requests": rounded(growth_exponent(sizes, every)),
            }
        )
    return table


def run_sizes(sizes: list[int], photos: int | None, runners: int | None, job_timeout: float) -> dict:
    runs = []
    for size in sizes:
        command = [
            sys.executable,
            __file__,
            "--photos",
            str(size),
            "--json",
            "--job-timeout",
            f"{job_timeout:g}",
        ]
        command += ["--runners", str(runners_for(size, photos, runners))]
        print(f"== {size} photos: {' '.join(command[1:])}", file=sys.stderr, flush=True)
        child = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)  # noqa: S603 - ourselves
        if child.returncode not in (0, 1) or not child.stdout.strip():
            raise SystemExit(f"the {size}-photo run failed (exit {child.returncode})")
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
    return combined(runs)


def combined(runs: list[dict]) -> dict:
    runs = sorted(runs, key=lambda run: run["photos"])
    return {"sizes": [run["photos"] for run in runs], "runs": runs, "operations": growth(runs)}


# ---------------------------------------------------------------- output


def describe(report: dict) -> str:
    lines = [
        f"{report['photos']} photos, {report['runners']} runners, {report['items']} items, "
        f"bib {report['hot_bib_photos']} photos at most; seeded in {report['seed_s']} s "
        f"{report['seed_parts_s']}; peak RSS {report['peak_rss_mb']} MB",
        f"{'operation':<46} {'here s':>8} {'proj. s':>8} {'limit':>6} {'ok':>3}  "
        "requests by service; invocations",
    ]
    for op in report["operations"]:
        services = ", ".join(f"{name} {n}" for name, n in op["by_service"].items())
        background = op["background"]
        behind = ""
        if background:
            behind = (
                f"; background {background['invocations']} invocations, {background['projected_s']} s "
                f"({background['projected_s_per_invocation']} s each), "
                + ("done" if background["finished"] else "NOT DONE")
            )
        lines.append(
            f"{op['name'][:46]:<46} {op['seconds']:>8} {op['projected_s']:>8} {op['limit_s']:>6g} "
            f"{'yes' if op['within_limit'] else 'NO':>3}  {services}; {op['invocations']}{behind}"
        )
    return "\n".join(lines)


def describe_growth(found: dict) -> str:
    """Requests in the request (or invocation) that must fit, projected seconds (! beyond the
    limit, or background not finished within its functions' limit), and the growth exponents."""
    sizes = found["sizes"]
    head = " ".join(f"{f'req@{s}':>10}" for s in sizes) + " " + " ".join(f"{f'proj@{s}':>11}" for s in sizes)
    lines = [f"{'operation':<44} {head} {'k req':>6} {'k proj':>6} {'k bg':>6}"]
    for op in found["operations"]:
        cells = " ".join(f"{n:>10}" for n in op["requests"]) + " "
        cells += " ".join(
            f"{p:>10}{' ' if ok else '!'}"
            for p, ok in zip(op["projected_s"], op["within_limit"], strict=True)
        )
        exponents = (op["growth_requests"], op["growth_projected_s"], op["growth_background_per_invocation"])
        lines.append(f"{op['name'][:44]:<44} {cells} " + " ".join(f"{k!s:>6}" for k in exponents))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--photos", type=int, help="photos in the event (default 1,000; --sizes: the largest)"
    )
    parser.add_argument(
        "--runners", type=int, help="runners (default: DESIGN §9's 40,000 per 150,000 photos)"
    )
    parser.add_argument("--sizes", help="comma-separated photo counts: each in a fresh process, with growth")
    parser.add_argument(
        "--job-timeout", type=float, help="seconds to wait for background jobs (default: generous)"
    )
    parser.add_argument(
        "--combine", nargs="+", type=Path, help="the growth table of runs already made (their report files)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--only", help="comma-separated operation keys (e.g. purge_event): the others are not run"
    )
    args = parser.parse_args()
    if args.combine:
        found = combined([json.loads(path.read_text()) for path in args.combine])
        print(json.dumps(found) if args.json else describe_growth(found))
        return 0
    if args.sizes:
        sizes = sorted(int(size) for size in args.sizes.split(","))
        job_timeout = args.job_timeout or max(900.0, max(sizes) / 20)
        found = run_sizes(sizes, args.photos or max(sizes), args.runners, job_timeout)
        print(json.dumps(found) if args.json else describe_growth(found))
        return 0 if all(all(op["within_limit"]) for op in found["operations"]) else 1
    photos = args.photos or 1000
    runners = args.runners or runners_for(photos, None, None)
    job_timeout = args.job_timeout or max(900.0, photos / 20)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    only = set(args.only.split(",")) if args.only else None
    report = run(photos, runners, job_timeout, say=say, only=only)
    suffix = "".join(f"-{key}" for key in sorted(only or ()))  # a partial run does not replace a whole one
    saved = ROOT / ".snaprace" / "big_event" / f"report-{photos}{suffix}.json"
    saved.write_text(json.dumps(report))  # kept whatever becomes of this process's reader (--combine)
    say(f"report: {saved}")
    print(json.dumps(report) if args.json else describe(report))
    return 0 if all(op["within_limit"] for op in report["operations"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
