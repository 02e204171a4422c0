"""How far one Lambda event travels through src/pipeline: the files its calls enter, in order.

    .venv/bin/python tools/call_path.py save_results [--show]

Runs the handler on its events/ fixture against moto (the stack's table from template.yaml, the
raw upload in the bucket) and records every call into src/pipeline (sys.setprofile). A stop is a
call into another file than the previous call's; a return is a stop in a file the event had
already left. Counted twice: over every file, and over the domain files alone (the floor every
domain stands on left out: pipeline/common, the table's item kinds in pipeline/store, the
handlers' shared step_photo). Few domain returns mean the decision reads in one place (issue 29:
at most 3 for SaveResults).
"""

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
STAGE, REGION = "test", "ap-northeast-2"
BUCKET, TABLE = f"snaprace-images-{STAGE}", f"PhotoService-{STAGE}"


def environment() -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "STAGE": STAGE,
            "BUCKET_NAME": BUCKET,
            "TABLE_NAME": TABLE,
            "COLLECTION_PREFIX": f"snaprace-{STAGE}",
            "POWERTOOLS_SERVICE_NAME": "image-rekognition",
            "POWERTOOLS_METRICS_NAMESPACE": "SnapRace",
            "POWERTOOLS_TRACE_DISABLED": "1",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    sys.path[:0] = [str(SRC), str(ROOT)]


FLOOR = ("pipeline/common/", "pipeline/store/", "pipeline/handlers/__init__.py")


def stops(files: list[str]) -> list[str]:
    """Consecutive calls in one file are one stop."""
    return [name for i, name in enumerate(files) if i == 0 or files[i - 1] != name]


def returns(path: list[str]) -> int:
    return sum(1 for i, name in enumerate(path) if name in path[:i])


def trace(handler, event: dict) -> list[str]:
    entered: list[str] = []
    prefix = str(SRC / "pipeline") + os.sep

    def profile(frame, what, _arg):
        code = frame.f_code
        if what == "call" and code.co_filename.startswith(prefix) and not code.co_name.startswith("<"):
            entered.append(code.co_filename[len(str(SRC)) + 1 :])

    sys.setprofile(profile)
    try:
        handler(event, Context())
    finally:
        sys.setprofile(None)
    return entered


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "CallPath", 256, "call-path"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:CallPath"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("handler", choices=["save_results"])
    parser.add_argument("--show", action="store_true", help="print every stop")
    args = parser.parse_args()
    environment()
    import importlib

    import boto3
    from moto import mock_aws

    from snaprace.template import create_table_kwargs, load_template

    event = json.loads((ROOT / "events" / f"{args.handler}.json").read_text())
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        etag = s3.put_object(Bucket=BUCKET, Key=event["photo"]["rawKey"], Body=b"raw upload")["ETag"]
        event["photo"].update(bucket=BUCKET, etag=etag.strip('"'))
        boto3.client("dynamodb", region_name=REGION).create_table(
            **create_table_kwargs(load_template(), STAGE)
        )
        module = importlib.import_module(f"pipeline.handlers.{args.handler}")
        entered = trace(module.lambda_handler, event)
    path = stops(entered)
    domain = stops([name for name in entered if not name.startswith(FLOOR)])
    if args.show:
        print("\n".join(domain))
    counts = {
        "every file": {"stops": len(path), "files": len(set(path)), "returns": returns(path)},
        "domain files": {"stops": len(domain), "files": len(set(domain)), "returns": returns(domain)},
    }
    print(json.dumps({"handler": args.handler, **counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
