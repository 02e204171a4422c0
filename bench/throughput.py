"""Throughput under a Rekognition quota: a burst of photos against an emulator that throttles.

    python bench/throughput.py [--tps 2] [--photos 200] [--json]

Starts its own local stack with the Rekognition emulator answering
ProvisionedThroughputExceededException beyond --tps calls per second per operation (an account
quota), uploads --photos runner photos at once, and waits until every execution has ended. Each
photo needs one DetectText and one IndexFaces call, so the quota's rate is --tps photos per second;
rate_ratio is the achieved rate (photos / seconds from the first upload to the last execution's
end) over it. A burst must end with zero failed executions and an empty DLQ: throttling is retried,
never lost. --tps 0 runs unthrottled, which measures what this machine's local stack can do (the
ceiling for any --tps here). --json prints one object on the last line with photos, tps,
rate_ratio, failed and dlq.
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
        health = local_json(local.endpoint, "/_snaprace/health")["rekognition"]
    finally:
        local.stop()
    failed = sum(1 for e in ended if e["status"] != "SUCCEEDED")
    starts = sorted(e["startDate"].timestamp() - started for e in ended)
    durations = sorted((e["stopDate"] - e["startDate"]).total_seconds() for e in ended)
    rate = args.photos / seconds
    report = {
        "photos": args.photos,
        "tps": args.tps,
        "seconds": round(seconds, 1),
        "upload_seconds": round(uploaded, 1),
        "photos_per_second": round(rate, 2),
        "rate_ratio": round(rate / args.tps, 3) if args.tps else None,
        "starts_span_seconds": round(starts[-1] - starts[0], 1),
        "execution_p50_seconds": round(durations[len(durations) // 2], 1),
        "execution_max_seconds": round(durations[-1], 1),
        "failed": failed,
        "dlq": dlq["visible"] + dlq["inFlight"],
        "rekognition_calls": health["calls"],
        "rekognition_throttled": health["throttled"],
    }
    if args.json:
        print(json.dumps(report))
    else:
        quota = f"quota {args.tps:g} photos/s" if args.tps else "unthrottled"
        print(f"{args.photos} photos in {report['seconds']} s: {rate:.2f} photos/s ({quota})")
        if args.tps:
            print(f"rate ratio {report['rate_ratio']} of the quota's rate")
        print(
            f"executions started over {report['starts_span_seconds']} s; each took "
            f"{report['execution_p50_seconds']} s (median), {report['execution_max_seconds']} s (max)"
        )
        print(f"failed executions {failed}, DLQ {report['dlq']}")
        print(f"Rekognition calls {health['calls']}, throttled {health['throttled']}")
    return 1 if failed or report["dlq"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
