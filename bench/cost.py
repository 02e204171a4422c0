"""Cost per 1,000 photos: a batch through the local stack, counted as AWS bills it, priced for Seoul.

    python bench/cost.py [--photos 200] [--megapixels 24] [--json]

Starts its own local stack, uploads --photos camera-sized runner photos (1-3 runners each), waits
until every one is final, then counts what the pipeline really did: state transitions from every
execution's history (retries included), Lambda invocations and measured durations at each
function's configured memory, Rekognition calls by operation, DynamoDB write and read units, S3
requests by class, SQS requests and the bytes logged (snaprace/local/meter.py). Prices come from
PRICES below, the one table to update. Prints the breakdown per 1,000 photos, the pipeline's own
overhead as a share of the Rekognition spend, and the same workload priced as an Express workflow.
--json prints one object on the last line with usd_per_1000, rekognition_usd_per_1000 and
overhead_ratio.

Lambda is priced at the measured wall-clock durations, which on this machine are inflated: every
function and moto share one process and two cores (the counts also give each function's own CPU
time). That makes the Lambda line an upper bound; it is a small part of the bill either way.
"""

import argparse
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import local_json, wait_for_executions

from snaprace import operations
from snaprace.event_model import REKOGNITION_USD_PER_IMAGE
from snaprace.local.launch import launch
from snaprace.samples import race_photo, runner_groups
from snaprace.stack import Stack

ROOT = Path(__file__).resolve().parent.parent

# Seoul (ap-northeast-2) list prices in USD, first pricing tier, as published on the AWS pricing
# pages (checked 2026-11; this machine has no network to re-check them: verify before quoting).
PRICES = {
    "rekognition_group1_image": REKOGNITION_USD_PER_IMAGE,  # IndexFaces, SearchFaces(ByImage), first 1M/month
    "rekognition_group2_image": REKOGNITION_USD_PER_IMAGE,  # DetectText (first 1M/month)
    "rekognition_face_month": 0.000013,  # face metadata stored, per face-month
    "sfn_standard_transition": 0.025 / 1000,
    "sfn_express_request": 1.00 / 1_000_000,
    "sfn_express_gb_second": 0.00001667,  # billed per 100 ms at 64 MB minimum
    "lambda_arm_gb_second": 0.0000133334,
    "lambda_request": 0.20 / 1_000_000,
    "dynamodb_write_unit": 1.4125 / 1_000_000,  # on-demand write request unit
    "dynamodb_read_unit": 0.2825 / 1_000_000,  # on-demand read request unit
    "s3_put_copy_post_list": 0.0045 / 1000,
    "s3_get_and_other": 0.00035 / 1000,
    "sqs_request": 0.40 / 1_000_000,  # standard queue, per 64 KB chunk
    "logs_ingested_gb": 0.76,  # CloudWatch Logs, standard ingestion
    "xray_trace": 5.00 / 1_000_000,  # traces recorded (every execution sampled: an upper bound)
}
GROUP1 = {"IndexFaces", "SearchFaces", "SearchFacesByImage", "CompareFaces"}
GROUP2 = {"DetectText", "DetectFaces", "DetectLabels", "DetectModerationLabels"}
# Lambda's own START, END and REPORT lines (with the X-Ray trace line) per invocation
PLATFORM_LOG_BYTES = 420
EXPRESS_MIN_MB = 64


def upload_batch(stack: Stack, photos: int, megapixels: int, org: str, event: str, seed: int = 7) -> None:
    s3 = stack.client("s3")
    width = int(math.sqrt(megapixels * 1e6 * 3 / 2))
    height = width * 2 // 3
    groups = runner_groups(photos, seed)

    def put(index: int) -> None:
        data, _ = race_photo(seed * 10_000 + index, groups[index], width=width, height=height)
        s3.put_object(Bucket=stack.bucket, Key=f"{org}/{event}/raw/cam1/{index:05d}.jpg", Body=data)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(put, range(photos)))


def transitions(stack: Stack) -> tuple[int, list[float]]:
    """State transitions over every execution (a retried step is a transition again), and each
    execution's duration in seconds."""
    sfn = stack.client("stepfunctions")
    total, durations = 0, []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.state_machine_arn):
        for execution in page["executions"]:
            if "stopDate" in execution:
                durations.append((execution["stopDate"] - execution["startDate"]).total_seconds())
            events = []
            for history in sfn.get_paginator("get_execution_history").paginate(
                executionArn=execution["executionArn"]
            ):
                events += history["events"]
            entered = sum(1 for e in events if e["type"].endswith("StateEntered"))
            scheduled = sum(1 for e in events if e["type"] == "LambdaFunctionScheduled")
            tasks = sum(1 for e in events if e["type"] == "TaskStateEntered")
            total += entered + max(0, scheduled - tasks)
    return total, durations


def price(meter: dict, rekognition_calls: dict, faces: int, state_transitions: int, executions: list) -> dict:
    """USD for the whole batch, by line."""
    p = PRICES
    lam = meter["lambda"]
    gb_seconds = sum(f["durationMs"] / 1000 * f["memoryMb"] / 1024 for f in lam.values())
    invocations = sum(f["invocations"] for f in lam.values())
    requests = meter["requests"]
    sqs = sum(count for name, count in requests.items() if name.startswith("AmazonSQS:"))
    log_bytes = meter["logBytes"] + invocations * PLATFORM_LOG_BYTES
    # Rekognition reads the processed photo from the bucket: a GET billed to the bucket's owner
    rekognition_reads = sum(rekognition_calls.get(op, 0) for op in ("DetectText", "IndexFaces"))
    lines = {
        "Rekognition DetectText": sum(rekognition_calls.get(op, 0) for op in GROUP2)
        * p["rekognition_group2_image"],
        "Rekognition IndexFaces/search": sum(rekognition_calls.get(op, 0) for op in GROUP1)
        * p["rekognition_group1_image"],
        "Rekognition face storage (1 month)": faces * p["rekognition_face_month"],
        "Step Functions Standard": state_transitions * p["sfn_standard_transition"],
        "Lambda compute": gb_seconds * p["lambda_arm_gb_second"],
        "Lambda requests": invocations * p["lambda_request"],
        "DynamoDB": meter["dynamodb"]["writeUnits"] * p["dynamodb_write_unit"]
        + meter["dynamodb"]["readUnits"] * p["dynamodb_read_unit"],
        "S3 requests": meter["s3"].get("put_copy_post_list", 0) * p["s3_put_copy_post_list"]
        + (meter["s3"].get("get_and_other", 0) + rekognition_reads) * p["s3_get_and_other"],
        "SQS": sqs * p["sqs_request"],
        "CloudWatch Logs": log_bytes / 1e9 * p["logs_ingested_gb"],
        "X-Ray": len(executions) * p["xray_trace"],
    }
    express = len(executions) * p["sfn_express_request"] + sum(
        math.ceil(seconds * 10) / 10 * EXPRESS_MIN_MB / 1024 * p["sfn_express_gb_second"]
        for seconds in executions
    )
    return {
        "lines": lines,
        "express": express,
        "counts": {
            "stateTransitions": state_transitions,
            "executions": len(executions),
            "lambdaInvocations": invocations,
            "lambdaGbSeconds": round(gb_seconds, 2),
            # the same invocations' own CPU time: on one busy process here, wall time is shared
            "lambdaSecondsByFunction": {
                name: {"wall": round(f["durationMs"] / 1000, 1), "cpu": round(f["cpuMs"] / 1000, 1)}
                for name, f in lam.items()
            },
            "rekognition": rekognition_calls,
            "faces": faces,
            "dynamodb": meter["dynamodb"],
            "s3": {**meter["s3"], "rekognitionReads": rekognition_reads},
            "sqsRequests": sqs,
            "logBytes": log_bytes,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--megapixels", type=int, default=24)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = ROOT / ".snaprace" / "cost"
    work.mkdir(parents=True, exist_ok=True)
    local = launch(work / "local.log")
    org, event = "bench", "cost"
    try:
        stack = Stack(endpoint_url=local.endpoint)
        before = local_json(local.endpoint, "/_snaprace/health")["rekognition"]["calls"]
        local_json(local.endpoint, "/_snaprace/meter", {})  # zero: setting the stack up is not the batch
        upload_batch(stack, args.photos, args.megapixels, org, event)
        wait_for_executions(stack, args.photos, max(600.0, args.photos * 6.0))
        time.sleep(2)  # the last invocations' metrics and logs
        meter = local_json(local.endpoint, "/_snaprace/meter")  # before anything below reads the stack
        audit = operations.audit(stack, org, event)
        if not audit.complete or audit.failed:
            raise SystemExit(f"not every photo ended indexed or rejected: {audit.as_dict()}")
        after = local_json(local.endpoint, "/_snaprace/health")["rekognition"]["calls"]
        calls = {op: after[op] - before.get(op, 0) for op in after if after[op] - before.get(op, 0)}
        faces = len(operations.collection_faces(stack, org, event))
        state_transitions, durations = transitions(stack)
    finally:
        local.stop()
    batch = price(meter, calls, faces, state_transitions, durations)
    per_1000 = {name: usd * 1000 / args.photos for name, usd in batch["lines"].items()}
    rekognition = sum(usd for name, usd in per_1000.items() if name.startswith("Rekognition"))
    total = sum(per_1000.values())
    standard = per_1000["Step Functions Standard"]
    express = batch["express"] * 1000 / args.photos
    summary = {
        "photos": args.photos,
        "megapixels": args.megapixels,
        "usd_per_1000": round(total, 4),
        "rekognition_usd_per_1000": round(rekognition, 4),
        "overhead_ratio": round((total - rekognition) / rekognition, 4),
        "breakdown_per_1000": {name: round(usd, 5) for name, usd in per_1000.items()},
        "standard_usd_per_1000": round(standard, 5),
        "express_usd_per_1000": round(express, 5),
        "counts": batch["counts"],
        "prices": PRICES,
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"{args.photos} photos of {args.megapixels} MP; USD per 1,000 photos (ap-northeast-2 list prices)")
    for name, usd in sorted(per_1000.items(), key=lambda item: -item[1]):
        print(f"  {name:<36} {usd:>9.4f}")
    print(f"  {'total':<36} {total:>9.4f}")
    print(f"pipeline overhead: {summary['overhead_ratio']:.1%} of the Rekognition spend")
    print(f"orchestration: Standard {standard:.4f} vs Express {express:.4f} per 1,000 photos")
    print(f"counts: {json.dumps(batch['counts'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
