"""Starting `snaprace local up` in its own process and waiting for its `ready:` line (the demo and
the end-to-end tests run the local stack the way an operator does)."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from snaprace.template import ROOT


class DidNotStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Launched:
    process: subprocess.Popen
    endpoint: str
    log_file: Path
    output: list[str] = field(default_factory=list)

    def stop(self, timeout: float = 30) -> str:
        """SIGTERM, as an operator's Ctrl-C or a service manager would; returns all its output."""
        self.process.send_signal(signal.SIGTERM)
        try:
            remaining, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            remaining, _ = self.process.communicate()
        return "".join(self.output) + (remaining or "")


def launch(
    log_file: Path,
    *options: str,
    port: int | None = None,
    echo: Callable[[str], None] = lambda line: None,
    timeout: float = 90,
) -> Launched:
    port = port or free_port()
    command = [sys.executable, "-m", "snaprace", "local", "up", "--port", str(port)]
    command += ["--log-file", str(log_file), *options]
    process = subprocess.Popen(  # noqa: S603 - our own command
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")},
    )
    launched = Launched(process, f"http://127.0.0.1:{port}", log_file)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        launched.output.append(line)
        echo(line.rstrip())
        if line.startswith("ready:"):
            return launched
    process.kill()
    process.wait()
    raise DidNotStart(f"the local stack did not start:\n{''.join(launched.output)}(log: {log_file})")
