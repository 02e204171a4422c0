"""What the local-stack benchmarks share: the stack's own endpoints, and waiting on executions."""

import json
import time
import urllib.request

from snaprace.stack import Stack


def local_json(endpoint: str, path: str, body: dict | None = None) -> dict:
    """GET (or POST `body` to) one of the local stack's /_snaprace endpoints."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{endpoint}{path}", data=data)  # noqa: S310 - the local stack
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.loads(answer.read())


def executions(stack: Stack) -> list[dict]:
    sfn = stack.client("stepfunctions")
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.state_machine_arn)
    return [execution for page in pages for execution in page["executions"]]


def wait_for_executions(stack: Stack, count: int, timeout: float) -> list[dict]:
    """Until `count` executions exist and none is running, asking Step Functions only (an audit
    would read S3 and DynamoDB, load the stack and put its own requests on the meter)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = executions(stack)
        if len(current) >= count and all(e["status"] != "RUNNING" for e in current):
            return current
        time.sleep(5)  # listing every execution is work for moto too
    raise SystemExit(f"the batch did not finish in {timeout:.0f} s")
