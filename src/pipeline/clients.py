"""boto3 clients, created once per container and handed to the code that uses them.

Rekognition uses botocore's adaptive retry mode (client-side rate limiting plus exponential
backoff) with 5 attempts; what is still throttled after that is retried by the state machine.
``AWS_ENDPOINT_URL`` (read by boto3 itself) points every client at the local stack.
"""

from functools import cache

import boto3
from botocore.config import Config

_STANDARD = Config(retries={"mode": "standard", "max_attempts": 5})
_ADAPTIVE = Config(retries={"mode": "adaptive", "max_attempts": 5})


@cache
def s3():
    return boto3.client("s3", config=_STANDARD)


@cache
def rekognition():
    return boto3.client("rekognition", config=_ADAPTIVE)


@cache
def dynamodb_table(table_name: str):
    return boto3.resource("dynamodb", config=_STANDARD).Table(table_name)


@cache
def stepfunctions():
    return boto3.client("stepfunctions", config=_STANDARD)
