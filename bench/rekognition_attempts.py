"""HTTP attempts one Rekognition call makes in a handler before the state machine sees the error,
for each failure kind, with the pipeline's own client (pipeline.common.clients) and edge
(pipeline.common.rekognition). Rekognition is answered by a botocore hook that counts the requests, so
every retry layer in the process runs for real; sleeps are skipped.

    python bench/rekognition_attempts.py [--json]
"""

import argparse
import json
import os
from unittest import mock

from botocore.awsrequest import AWSResponse

os.environ.setdefault("AWS_DEFAULT_REGION", "ap-northeast-2")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")

from pipeline.common import clients, rekognition

FAILURES = {
    "throttling": (400, "ProvisionedThroughputExceededException"),
    "server error": (500, "InternalServerError"),
}


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body


def attempts(status: int, code: str) -> tuple[int, str]:
    """(requests sent, the error the handler raised) for DetectText answered `code` every time."""
    clients.rekognition.cache_clear()
    client = clients.rekognition()
    sent = []

    def answer(request, **_):
        sent.append(request.url)
        body = json.dumps({"__type": code, "Message": "injected"}).encode()
        return AWSResponse(request.url, status, {"x-amzn-ErrorType": code}, _Raw(body))

    client.meta.events.register("before-send.rekognition", answer)
    with mock.patch("time.sleep"):
        try:
            rekognition.detect_text(client, rekognition.s3_image("bucket", "acme/e1/processed/p.jpg"))
        except Exception as exc:  # noqa: BLE001 - the error is what is reported
            return len(sent), type(exc).__name__
    return len(sent), "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = {kind: attempts(*failure) for kind, failure in FAILURES.items()}
    if args.json:
        print(json.dumps({kind: {"attempts": n, "raised": error} for kind, (n, error) in figures.items()}))
    else:
        for kind, (n, error) in figures.items():
            print(f"{kind:<14} {n:>3} HTTP attempts, then {error} to the state machine")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
