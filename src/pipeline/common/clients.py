"""boto3 clients, created once per container and handed to the code that uses them.

The Rekognition client does not retry: pipeline.common.rekognition is the one retry layer for its calls
(a second one here multiplied the attempts: 16 HTTP requests for one throttled DetectText, measured
by bench/rekognition_attempts.py). Not adaptive mode either: its client-side rate limit is per
container and starts low after one throttle; the stack's governors pace every caller together.
``AWS_ENDPOINT_URL`` (read by boto3 itself) points every client at the local stack.
"""

import os
from functools import cache

import boto3
from botocore.config import Config

from pipeline.common import governor

_STANDARD = Config(retries={"mode": "standard", "max_attempts": 5})
_REKOGNITION = Config(retries={"mode": "standard", "total_max_attempts": 1})


@cache
def s3():
    return boto3.client("s3", config=_STANDARD)


@cache
def s3_presigner():
    """S3 for presigned URLs: SigV4 on the bucket's regional host (us-east-1: the global one, which
    is that region's; pipeline.api.web allows both in the pages' CSP). botocore presigns on the global
    host (bucket.s3.amazonaws.com) by default, which a new bucket answers with a 307 to its region:
    the redirect breaks the signature and browsers' CORS fetches. Against a local endpoint (an IP
    address) only path-style addressing works."""
    local = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    addressing = "path" if local else "virtual"
    return boto3.client(
        "s3", config=_STANDARD.merge(Config(signature_version="s3v4", s3={"addressing_style": addressing}))
    )


@cache
def rekognition():
    """Every call of a governed API waits for its turn first (pipeline.common.governor)."""
    client = boto3.client("rekognition", config=_REKOGNITION)
    client.meta.events.register("before-call.rekognition", _take_turn)
    return client


def _take_turn(model, **_) -> None:
    governor.turn_for(model.name)


@cache
def dynamodb_table(table_name: str):
    return boto3.resource("dynamodb", config=_STANDARD).Table(table_name)


@cache
def sqs():
    return boto3.client("sqs", config=_STANDARD)


@cache
def stepfunctions():
    return boto3.client("stepfunctions", config=_STANDARD)
