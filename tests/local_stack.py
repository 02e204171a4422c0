"""The local stack as an operator runs it: `python -m snaprace local up` in its own process.
Tests talk to it only through its endpoint (boto3, the snaprace command)."""

import itertools
import json
import time
import urllib.request
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest

from pipeline.common import keys
from snaprace import operations
from snaprace.local.launch import DidNotStart, Launched, launch
from snaprace.stack import Stack

ROOT = Path(__file__).resolve().parents[1]
_seeds = itertools.count(50_000)


def next_seed() -> int:
    """Every test photo gets its own background, so the scripted engine never confuses two."""
    return next(_seeds)


@dataclass
class RunningStack(Launched):
    """A launched local stack, with what the tests ask of it."""

    @cached_property
    def stack(self) -> Stack:
        return Stack(endpoint_url=self.endpoint)

    def client(self, service: str):
        return self.stack.client(service)

    def health(self) -> dict:
        with urllib.request.urlopen(f"{self.endpoint}/_snaprace/health", timeout=5) as response:  # noqa: S310
            return json.loads(response.read())

    def faults(self, settings: dict | None = None) -> dict:
        """The stack's fault injection (snaprace.local.faults): set when `settings` is given, and read."""
        data = json.dumps(settings).encode() if settings is not None else None
        request = urllib.request.Request(f"{self.endpoint}/_snaprace/faults", data=data)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the local stack
            return json.loads(answer.read())

    def put(self, org: str, event: str, name: str, data: bytes) -> str:
        key = f"{org}/{event}/raw/{name}"
        self.client("s3").put_object(Bucket=self.stack.bucket, Key=key, Body=data)
        return key

    def wait(self, org: str, event: str, timeout: float = 90) -> operations.Audit:
        """Until every photo is final; `timeout` is a stall (no photo became final for so long), not
        a limit on the whole wait: a busy machine is slower, not wrong."""
        finished, audit = operations.wait(
            self.stack, org, event, timeout=timeout, interval=0.3, progressing=True
        )
        assert finished, f"no photo became final for {timeout} s: {audit.missing}; see {self.log_file}"
        return audit

    def settle(self, org: str, event: str, timeout: float = 60) -> None:
        """Until no execution of the event's photos is running (a reprocess's runs included: the
        photos' earlier results make `wait` return at once)."""
        photo_ids = {item["photoId"] for item in self.stack.photo_table.photos.of_event(org, event)}
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=self.stack.state_machine_arn, statusFilter="RUNNING"
            )
            if not any(e["name"].split("-", 1)[0] in photo_ids for page in pages for e in page["executions"]):
                return
            time.sleep(0.3)
        raise AssertionError(f"runs of {event} still running after {timeout} s")

    def item(self, org: str, event: str, raw_key: str) -> dict | None:
        table = self.stack.photo_table
        return table.photos.get(org, event, keys.photo_id_for(raw_key))


def start_local_stack(tmp_path: Path, *options: str) -> RunningStack:
    try:
        launched = launch(tmp_path / "local.log", *options, timeout=60)
    except DidNotStart as exc:
        pytest.fail(str(exc))
    return RunningStack(launched.process, launched.endpoint, launched.log_file, launched.output)
