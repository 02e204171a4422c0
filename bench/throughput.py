"""Throughput under a Rekognition quota: a burst of photos against an emulator that throttles.

    python bench/throughput.py [--tps 2] [--photos 200] [--json]

Starts its own local stack with the Rekognition emulator answering
ProvisionedThroughputExceededException beyond an account quota of --tps calls a second per
operation (a token bucket), with the stack's quota parameters set to the same quota, uploads
--photos runner photos at once, and waits until every execution has ended.

The binding API is the one with the most calls (DetectText: every photo calls it once, plus once
more for a second look; IndexFaces once). rate_ratio is its achieved rate (calls between its first
and last call) over the quota: how much of the binding quota the governors use while photos wait.
throttled_per_call is the throttled attempts (every operation) per answered call. A burst must end
with zero failed executions and an empty DLQ: throttling is retried, never lost. --tps 0 runs
unthrottled, which measures what this machine's local stack can do (the ceiling for any --tps
here). --json prints one object on the last line with photos, tps, rate_ratio,
throttled_per_call, failed and dlq.
"""

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import local_json, wait_for_executions

from snaprace.local.launch import launch
from snaprace.runbook import queue_depth
from snaprace.samples import race_photo, runner_groups
from snaprace.stack import Stack

ROOT = Path(__file__).resolve().parent.parent


def photos_for(count: int, seed: int = 11) -> list[bytes]:
    groups = runner_groups(count, seed, sizes=(1, 2, 3))
    return [race_photo(seed * 10_000 + index, group)[0] for index, group in enumerate(groups)]


def first_look_lateness(stack: Stack, sample: list[dict]) -> list[float]:
    """For a sample of executions: seconds from the booked DetectText turn to the DetectText step's
    entry (negative: early, it waits in the function; positive: late, Preprocess took longer than
    the starter's lead)."""
    sfn, late = stack.client("stepfunctions"), []
    for execution in sample:
        arn = execution["executionArn"]
        state = json.loads(sfn.describe_execution(executionArn=arn)["input"])
        turn = state.get("turns", {}).get("DetectText")
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        entered = [
            e["timestamp"].timestamp()
            for e in events
            if e["type"] == "TaskStateEntered" and e["stateEnteredEventDetails"]["name"] == "DetectText"
        ]
        if turn and entered:
            late.append(round(entered[0] - float(turn), 2))
    return sorted(late)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tps", type=float, default=2.0)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = ROOT / ".snaprace" / "throughput"
    work.mkdir(parents=True, exist_ok=True)
    photos = photos_for(args.photos)  # made before the clock starts
    options = ("--rekognition-tps", f"{args.tps:g}") if args.tps else ()
    local = launch(work / "local.log", *options)
    try:
        stack = Stack(endpoint_url=local.endpoint)
        s3 = stack.client("s3")
        started = time.time()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(
                pool.map(
                    lambda item: s3.put_object(
                        Bucket=stack.bucket, Key=f"bench/burst/raw/cam1/{item[0]:05d}.jpg", Body=item[1]
                    ),
                    enumerate(photos),
                )
            )
        uploaded = time.time() - started
        ended = wait_for_executions(stack, args.photos, max(600.0, args.photos * 10.0 / max(args.tps, 0.5)))
        last_end = max(e["stopDate"].timestamp() for e in ended)
        seconds = last_end - started
        dlq = queue_depth(stack, stack.output("DlqUrl"))
        lateness = first_look_lateness(stack, ended[:: max(1, len(ended) // 40)])
        health = local_json(local.endpoint, "/_snaprace/health")["rekognition"]
    finally:
        local.stop()
    failed = sum(1 for e in ended if e["status"] != "SUCCEEDED")
    calls, throttled = health["calls"], health["throttled"]
    binding = max(("DetectText", "IndexFaces"), key=lambda op: calls.get(op, 0))
    first, last = health["spans"][binding]
    binding_rate = (calls[binding] - 1) / (last - first)
    starts = sorted(e["startDate"].timestamp() - started for e in ended)
    durations = sorted((e["stopDate"] - e["startDate"]).total_seconds() for e in ended)
    rate = args.photos / seconds
    report = {
        "photos": args.photos,
        "tps": args.tps,
        "seconds": round(seconds, 1),
        "upload_seconds": round(uploaded, 1),
        "photos_per_second": round(rate, 2),
        "binding_api": binding,
        "binding_calls_per_second": round(binding_rate, 3),
        "rate_ratio": round(binding_rate / args.tps, 3) if args.tps else None,
        "throttled_per_call": round(sum(throttled.values()) / sum(calls.values()), 4),
        "starts_span_seconds": round(starts[-1] - starts[0], 1),
        "execution_p50_seconds": round(durations[len(durations) // 2], 1),
        "execution_max_seconds": round(durations[-1], 1),
        "failed": failed,
        "dlq": dlq["visible"] + dlq["inFlight"],
        "first_look_late_p50_seconds": lateness[len(lateness) // 2] if lateness else None,
        "first_look_late_p90_seconds": lateness[len(lateness) * 9 // 10] if lateness else None,
        "rekognition_calls": calls,
        "rekognition_throttled": throttled,
    }
    if args.json:
        print(json.dumps(report))
    else:
        quota = f"quota {args.tps:g} photos/s" if args.tps else "unthrottled"
        print(f"{args.photos} photos in {report['seconds']} s: {rate:.2f} photos/s ({quota})")
        if args.tps:
            print(
                f"{binding} (binding): {binding_rate:.2f} calls/s, rate ratio {report['rate_ratio']} of the "
                f"quota; {report['throttled_per_call']} throttled attempts per call"
            )
        print(
            f"executions started over {report['starts_span_seconds']} s; each took "
            f"{report['execution_p50_seconds']} s (median), {report['execution_max_seconds']} s (max)"
        )
        print(f"failed executions {failed}, DLQ {report['dlq']}")
        print(f"Rekognition calls {calls}, throttled {throttled}")
    return 1 if failed or report["dlq"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
