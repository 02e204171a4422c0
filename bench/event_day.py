"""Event day on the local stack: an arrival curve with a finish-line peak, each photo's time from
upload to searchable, beside the event-day model's prediction for the same curve.

    python bench/event_day.py [--tps 1.5] [--photos 300] [--peak 3] [--peak-seconds 60]
                              [--quiet 0.5] [--lead-in 60] [--starters 2] [--json]

Starts its own local stack with every Rekognition operation throttled at --tps calls a second (the
emulator's token bucket) and the stack's quota parameters at the same figure, with --starters
upload starters (StarterMaxConcurrency), then:

1. Calibrates the model's L (the pipeline's own time, no queue): --calibration photos uploaded one
   at a time, each after the previous is searchable. Their median is L.
2. Replays the curve (snaprace.event_model.Event, scaled to this machine): --quiet photos/s for
   --lead-in seconds, --peak photos/s for --peak-seconds, then --quiet photos/s until --photos are
   up. Each upload waits for its moment on the curve; its time is when S3 answered the PutObject.
3. Measures each photo's time from upload to searchable: searchable is when its item is INDEXED
   with its bibs, which is what the search API reads. SaveResults, the last state, writes it; the
   bracket around that write is the item's updatedAt (stamped when SaveResults starts, before its
   reads, in whole seconds) and the execution's stopDate (after the write and the bookkeeping that
   follows, in milliseconds). p50_s/p99_s use stopDate: exact, never early; item_p50_s/item_p99_s
   use updatedAt (the middle of its second), with its own L. A photo counts only if its item is
   INDEXED and its execution SUCCEEDED.
4. Predicts the curve with snaprace.event_model: μ from the quotas (the model's formula) with the
   second-look share these photos really had (the DetectText calls beyond one a photo, counted by
   the emulator: a property of the photos, not of their timing), L from step 1.

p50_s and p99_s are over the photos uploaded during the peak, as the model's peak_p50_s/peak_p99_s;
all_done_s runs from the first upload until the last photo is searchable. in_order_p99_s is the p99
had the same photos become searchable in upload order, as in the model's queue: p99_s minus it is
what the order of admission cost. lost counts photos not INDEXED at the end, failed executions and
DLQ messages. --json prints one object on the last line (photos.json in .snaprace/event_day/ keeps
each photo's times).

Why 2 starters, the template's minimum, and not its default 5: the model's queue is first in, first
out, but each starter holds a batch of up to 5 records (BatchSize) and admits them in order while the
starters race for turns, so a photo's admission strays from its place by up to a few times
starters x 5 turns. That is (starters x 5) / μ seconds: 0.8 s at the example event's 50 TPS
(μ = 31/s), nothing beside its 18-minute p99, but 17 s at 1.5 TPS (μ = 1.455/s) beside a 66 s one.
Scaling the starters down with the quota keeps the run a scale model of the event; --starters 5
measures the template's default here (docs/performance-and-cost.md has both).
"""

import argparse
import datetime
import json
import math
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from common import executions, local_json, wait_for_executions
from throughput import photos_for

from snaprace.event_model import Event, Prediction, predict, service_rate
from snaprace.local.launch import launch
from snaprace.runbook import queue_depth
from snaprace.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
ORG, EVENT, CALIBRATION_EVENT = "bench", "eventday", "calibration"
GOVERNED = ("DetectText", "IndexFaces")  # the calls that pace the pipeline (snaprace.event_model)


# ---------------------------------------------------------------- pure: the curve and the waits


def curve(photos: int, peak: float, peak_seconds: float, quiet: float, lead_in: float) -> Event:
    """The arrival curve as the model takes it: `quiet` photos/s around a peak of `peak` photos/s
    for `peak_seconds` starting `lead_in` seconds after the first upload, `photos` in all."""
    in_peak = peak * peak_seconds
    if in_peak >= photos or quiet <= 0:
        raise ValueError(f"the peak brings {in_peak:g} of {photos} photos: none left for a quiet rate")
    seconds = peak_seconds + (photos - in_peak) / quiet
    event = Event(
        photos=photos,
        peak_per_s=peak,
        hours=seconds / 3600,
        peak_minutes=peak_seconds / 60,
        peak_start_hours=lead_in / 3600,
    )
    event.check()
    return event


def schedule(event: Event) -> list[float]:
    """Each photo's upload time, seconds after the first: photo i goes up when the curve's
    cumulative arrivals reach i (so the first at 0, and exactly peak × peak_seconds in the peak)."""
    times: list[float] = []
    done = 0.0  # arrivals before the current piece
    for start, end, per_s in event.arrivals():
        arriving = per_s * (end - start)
        while len(times) < event.photos and len(times) < done + arriving - 1e-9:
            times.append(start + (len(times) - done) / per_s)
        done += arriving
    return times


def in_peak(event: Event, offset: float) -> bool:
    start, end = event.peak_window
    return start <= offset < end


def quantile(values: list[float], q: float) -> float:
    """The nearest-rank q-quantile: the smallest value with at least a share q of them at or under it
    (the model's quantiles are the same definition over a continuous distribution)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered) - 1e-9)) - 1]


@dataclass(frozen=True)
class Waits:
    p50_s: float
    p99_s: float
    all_done_s: float
    peak_photos: int


def waits(event: Event, scheduled: list[float], uploads: list[float], searchable: list[float]) -> Waits:
    """From each photo's time on the curve (s), upload and searchable times (epoch s): the p50 and
    p99 wait of the photos the curve puts in the peak, and the first upload to the last photo
    searchable."""
    peak = [
        ready - up for at, up, ready in zip(scheduled, uploads, searchable, strict=True) if in_peak(event, at)
    ]
    return Waits(quantile(peak, 0.5), quantile(peak, 0.99), max(searchable) - min(uploads), len(peak))


def in_upload_order(uploads: list[float], searchable: list[float]) -> list[float]:
    """The same searchable moments handed out in upload order: what the run would have measured had
    its photos finished first in, first out, as the model's queue does (the difference is order)."""
    order = sorted(range(len(uploads)), key=uploads.__getitem__)
    moments = [0.0] * len(uploads)
    for index, moment in zip(order, sorted(searchable), strict=True):
        moments[index] = moment
    return moments


def second_look_share(detect_text_calls: int, photos: int) -> float:
    """DetectText calls beyond one a photo (the second look's), per photo. The emulator counts
    answered calls (a throttled attempt is not one); IndexFaces' count is no guide, as each new
    collection adds a call that finds no collection."""
    return max(0.0, detect_text_calls / photos - 1) if photos else 0.0


# ---------------------------------------------------------------- the local stack


def upload(stack: Stack, s3, event_id: str, index: int, photo: bytes) -> tuple[str, float]:
    key = f"{ORG}/{event_id}/raw/cam1/{index:05d}.jpg"
    s3.put_object(Bucket=stack.bucket, Key=key, Body=photo)
    return key, time.time()


def execution_ends(stack: Stack) -> dict[str, dict]:
    return {e["name"]: e for e in executions(stack)}


def calibrate(stack: Stack, photos: list[bytes], timeout: float = 120) -> list[tuple[float, float]]:
    """Upload to searchable of each photo alone, by the execution's stopDate and by the item's
    updatedAt: the next goes up once the previous one's execution has ended (the model's L,
    measured with no queue)."""
    s3, latencies = stack.client("s3"), []
    for index, photo in enumerate(photos):
        key, uploaded = upload(stack, s3, CALIBRATION_EVENT, index, photo)
        deadline = time.monotonic() + timeout
        while True:
            item = next(
                (i for i in stack.photo_table.photos.of_event(ORG, CALIBRATION_EVENT) if i["rawKey"] == key),
                None,
            )
            ended = execution_ends(stack).get(item["executionName"]) if item else None
            if ended and ended["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"calibration photo {key} not searchable in {timeout:.0f} s")
            time.sleep(0.5)
        if item["status"] != "INDEXED" or ended["status"] != "SUCCEEDED":
            raise SystemExit(f"calibration photo {key} ended {ended['status']}, item {item['status']}")
        latencies.append((ended["stopDate"].timestamp() - uploaded, item_time(item) - uploaded))
    return latencies


def replay(stack: Stack, photos: list[bytes], times: list[float]) -> tuple[list[str], list[float], float]:
    """Each photo uploaded at its time on the curve (a pool, so a slow PutObject delays no other):
    the keys, the upload times, and the latest start behind schedule."""
    s3 = stack.client("s3")
    keys, uploaded, late = [""] * len(photos), [0.0] * len(photos), [0.0] * len(photos)
    with ThreadPoolExecutor(max_workers=8) as pool:
        origin = time.time()

        def put(index: int) -> None:
            late[index] = time.time() - origin - times[index]
            keys[index], uploaded[index] = upload(stack, s3, EVENT, index, photos[index])

        futures = []
        for index, at in enumerate(times):
            time.sleep(max(0.0, origin + at - time.time()))
            futures.append(pool.submit(put, index))
        for future in futures:
            future.result()
    return keys, uploaded, max(late)


def item_time(item: dict) -> float:
    """When SaveResults stamped the item (updatedAt has whole seconds: the middle of its second)."""
    return datetime.datetime.fromisoformat(item["updatedAt"]).timestamp() + 0.5


def searchable_times(stack: Stack, keys: list[str]) -> list[dict]:
    """For each key: its execution's start, and when it became searchable (None unless its item is
    INDEXED and its execution SUCCEEDED): by the execution's stopDate, and by the item's updatedAt."""
    items = {item["rawKey"]: item for item in stack.photo_table.photos.of_event(ORG, EVENT)}
    ended = execution_ends(stack)
    rows = []
    for key in keys:
        item = items.get(key) or {}
        execution = ended.get(item.get("executionName", ""), {})
        indexed = item.get("status") == "INDEXED" and execution.get("status") == "SUCCEEDED"
        rows.append(
            {
                "key": key,
                "status": item.get("status"),
                "started": execution["startDate"].timestamp() if execution else None,
                "searchable": execution["stopDate"].timestamp() if indexed else None,
                "stamped": item_time(item) if indexed else None,
            }
        )
    return rows


# ---------------------------------------------------------------- the run


def run(args) -> dict:
    event = curve(args.photos, args.peak, args.peak_seconds, args.quiet, args.lead_in)
    times = schedule(event)
    photos = photos_for(args.photos + args.calibration)  # made before any clock starts
    calibration, replayed = photos[: args.calibration], photos[args.calibration :]
    work = ROOT / ".snaprace" / "event_day"
    work.mkdir(parents=True, exist_ok=True)
    (work / "local.log").unlink(missing_ok=True)  # this run's log only
    local = launch(
        work / "local.log",
        *("--rekognition-tps", f"{args.tps:g}", "--parameter", f"StarterMaxConcurrency={args.starters}"),
    )
    try:
        stack = Stack(endpoint_url=local.endpoint)
        latencies = calibrate(stack, calibration)
        before = local_json(local.endpoint, "/_snaprace/health")["rekognition"]
        keys, uploaded, late = replay(stack, replayed, times)
        ended = wait_for_executions(
            stack, args.photos + args.calibration, max(900.0, args.photos * 4 / args.tps)
        )
        health = local_json(local.endpoint, "/_snaprace/health")["rekognition"]
        rows = searchable_times(stack, keys)
        load = os.getloadavg()  # other work on the machine slows the run: how much there was
        dlq = queue_depth(stack, stack.output("DlqUrl"))
    finally:
        local.stop()
    failed = sum(1 for e in ended if e["status"] != "SUCCEEDED")
    dlq_messages = dlq["visible"] + dlq["inFlight"]
    latency = statistics.median(stopped for stopped, _ in latencies)
    item_latency = statistics.median(stamped for _, stamped in latencies)
    detect_text = health["calls"].get("DetectText", 0) - before["calls"].get("DetectText", 0)
    share = second_look_share(detect_text, args.photos)
    rate = service_rate({api: args.tps for api in GOVERNED}, second_look_share=share)
    model: Prediction = predict(event, rate, latency)
    for row, at, up in zip(rows, times, uploaded, strict=True):
        row.update(scheduled=at, uploaded=up)
    (work / "photos.json").write_text(json.dumps(rows))  # each photo's times, to look into a run
    not_indexed = sum(row["searchable"] is None for row in rows)
    done = [row for row in rows if row["searchable"]]
    scheduled, up = [row["scheduled"] for row in done], [row["uploaded"] for row in done]
    measured = waits(event, scheduled, up, [row["searchable"] for row in done])
    by_item = waits(event, scheduled, up, [row["stamped"] for row in done])
    in_order = waits(event, scheduled, up, in_upload_order(up, [row["searchable"] for row in done]))
    calls, throttled = health["calls"], health["throttled"]
    return {
        "photos": args.photos,
        "tps": args.tps,
        "starters": args.starters,
        "peak": args.peak,
        "peak_seconds": args.peak_seconds,
        "quiet": round(event.quiet_per_s, 4),
        "lead_in": args.lead_in,
        "curve_seconds": round(event.duration_s, 1),
        "p50_s": round(measured.p50_s, 1),
        "p99_s": round(measured.p99_s, 1),
        "model_p50_s": round(model.peak_p50_s, 1),
        "model_p99_s": round(model.peak_p99_s, 1),
        "p99_ratio": round(measured.p99_s / model.peak_p99_s, 3),
        "in_order_p99_s": round(in_order.p99_s, 1),
        "all_done_s": round(measured.all_done_s, 1),
        "model_all_done_s": round(model.all_done_s, 1),
        "lost": not_indexed + failed + dlq_messages,
        "not_indexed": not_indexed,
        "failed": failed,
        "dlq": dlq_messages,
        "peak_photos": measured.peak_photos,
        "latency_s": round(latency, 2),
        "calibration_s": [round(stopped, 2) for stopped, _ in latencies],
        "item_p50_s": round(by_item.p50_s, 1),
        "item_p99_s": round(by_item.p99_s, 1),
        "item_latency_s": round(item_latency, 2),
        "mu": round(rate.photos_per_s, 4),
        "binding": rate.binding,
        "second_look_share": round(share, 4),
        "upload_late_max_s": round(late, 2),
        "load_1_5_15_min": [round(value, 2) for value in load],
        "rekognition_calls": {op: calls.get(op, 0) - before["calls"].get(op, 0) for op in calls},
        "rekognition_throttled": {
            op: throttled.get(op, 0) - before["throttled"].get(op, 0) for op in throttled
        },
    }


def describe(report: dict) -> str:
    r = report
    rows = [("peak photo p50 s", "p50_s"), ("peak photo p99 s", "p99_s"), ("all done s", "all_done_s")]
    return "\n".join(
        [
            f"{r['photos']} photos over {r['curve_seconds']} s at --tps {r['tps']:g}: {r['quiet']}/s, "
            f"{r['peak']:g}/s for {r['peak_seconds']:g} s from {r['lead_in']:g} s",
            f"model: μ {r['mu']} photos/s ({r['binding']}, second look {r['second_look_share']}), "
            f"L {r['latency_s']} s (calibration {r['calibration_s']})",
            f"{'':20}{'measured':>10}{'model':>10}",
            *(f"{label:20}{r[key]:>10}{r['model_' + key]:>10}" for label, key in rows),
            f"p99 / model p99 {r['p99_ratio']}; "
            f"had they become searchable in upload order: p99 {r['in_order_p99_s']} s",
            f"by the items' updatedAt: p50 {r['item_p50_s']} s, p99 {r['item_p99_s']} s "
            f"(L {r['item_latency_s']} s)",
            f"lost {r['lost']} (not indexed {r['not_indexed']}, failed {r['failed']}, DLQ {r['dlq']}); "
            f"uploads at most {r['upload_late_max_s']} s late; load average {r['load_1_5_15_min']}",
            f"Rekognition calls {r['rekognition_calls']}, throttled {r['rekognition_throttled']}",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tps", type=float, default=1.5, help="emulated quota per Rekognition operation")
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--peak", type=float, default=3.0, help="photos/s at the finish line")
    parser.add_argument("--peak-seconds", type=float, default=60.0)
    parser.add_argument("--quiet", type=float, default=0.5, help="photos/s outside the peak")
    parser.add_argument("--lead-in", type=float, default=60.0, help="quiet seconds before the peak")
    parser.add_argument("--calibration", type=int, default=5, help="photos uploaded one at a time for L")
    parser.add_argument(
        "--starters", type=int, default=2, help="the stack's StarterMaxConcurrency (see above)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run(args)
    if args.json:
        print(json.dumps(report))
    else:
        print(describe(report))
    return 1 if report["lost"] or abs(report["p99_ratio"] - 1) > 0.2 else 0


if __name__ == "__main__":
    raise SystemExit(main())
