"""`make demo` as a newcomer runs it: the vision engine reads every drawn bib and the demo passes."""

import re
import subprocess
import sys

import pytest
from local_stack import ROOT

pytest.importorskip("snaprace.local.vision", reason="the vision extra is not installed (make venv)")


def test_demo_reads_every_bib_with_the_vision_engine():
    demo = subprocess.run(  # noqa: S603 - our own command, as `make demo` runs it
        [sys.executable, "-m", "snaprace", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Engine: vision" in demo.stdout
    read, shown = map(
        int, re.search(r"Bibs\s+(\d+) read on photos .*the photos show (\d+)", demo.stdout).groups()
    )
    assert read == shown > 0
    assert "Demo passed" in demo.stdout
