"""The local stack as an operator runs it: `python -m snaprace local up` in its own process.
Tests talk to it only through its endpoint (boto3, the snaprace command)."""

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import keys
from snaprace import operations
from snaprace.stack import Stack

ROOT = Path(__file__).resolve().parents[1]
_seeds = itertools.count(50_000)


def next_seed() -> int:
    """Every test photo gets its own background, so the scripted engine never confuses two."""
    return next(_seeds)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningStack:
    process: subprocess.Popen
    endpoint: str
    log_file: Path
    output: list[str]

    @property
    def stack(self) -> Stack:
        return Stack(endpoint_url=self.endpoint)

    def client(self, service: str):
        return self.stack.client(service)

    def health(self) -> dict:
        with urllib.request.urlopen(f"{self.endpoint}/_snaprace/health", timeout=5) as response:  # noqa: S310
            return json.loads(response.read())

    def put(self, org: str, event: str, name: str, data: bytes) -> str:
        key = f"{org}/{event}/raw/{name}"
        self.client("s3").put_object(Bucket=self.stack.bucket, Key=key, Body=data)
        return key

    def wait(self, org: str, event: str, timeout: float = 90) -> operations.Audit:
        finished, audit = operations.wait(self.stack, org, event, timeout=timeout, interval=0.3)
        assert finished, f"still missing after {timeout} s: {audit.missing}; see {self.log_file}"
        return audit

    def item(self, org: str, event: str, raw_key: str) -> dict | None:
        table = operations.photo_table(self.stack)
        return table.get_photo(org, event, keys.photo_id_for(raw_key))

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        remaining, _ = self.process.communicate(timeout=30)
        return "".join(self.output) + remaining


def start_local_stack(tmp_path: Path, *options: str) -> RunningStack:
    port = free_port()
    log_file = tmp_path / "local.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    process = subprocess.Popen(  # noqa: S603 - our own command
        [
            sys.executable,
            "-m",
            "snaprace",
            "local",
            "up",
            "--port",
            str(port),
            "--log-file",
            str(log_file),
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=env,
    )
    output, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if "ready" in line:
            return RunningStack(process, f"http://127.0.0.1:{port}", log_file, output)
    process.kill()
    log = log_file.read_text() if log_file.exists() else ""
    pytest.fail(f"local stack did not start:\n{''.join(output)}\n{log[-3000:]}")
