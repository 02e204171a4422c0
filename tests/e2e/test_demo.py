"""`make demo` as a newcomer runs it: the vision engine reads every drawn bib, indexes the real
faces, finds the hidden-bib runner and each real face's photos by selfie, and the demo passes."""

import json
import re
import signal
import subprocess
import sys
import urllib.request

import pytest
from local_stack import ROOT

pytest.importorskip("snaprace.local.vision", reason="the vision extra is not installed (make venv)")


def test_demo_reads_every_bib_with_the_vision_engine():
    demo = subprocess.run(  # noqa: S603 - our own command, as `make demo` runs it
        [sys.executable, "-m", "snaprace", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,  # a hang's limit: the demo itself fails when no photo becomes final for 5 minutes
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Engine: vision" in demo.stdout
    read, shown = map(
        int, re.search(r"Bibs\s+(\d+) read on photos .*the photos show (\d+)", demo.stdout).groups()
    )
    assert read == shown > 0
    indexed, real = map(
        int, re.search(r"Faces\s+(\d+) indexed; the photos show (\d+) real faces", demo.stdout).groups()
    )
    assert indexed >= real >= 6  # both portraits' runners, every photo of theirs; no drawn head
    # the hidden-bib runner by bib (their face), and each real face by a selfie: theirs, all, only
    assert demo.stdout.count("--selfie selfie-") == 2
    assert demo.stdout.count("photos: all of the") == 3 and "NOT all" not in demo.stdout
    assert "Demo passed" in demo.stdout
    # not on a terminal: the stack stops, so no link is printed that would be dead
    assert "The runner page" not in demo.stdout and "--keep" in demo.stdout


def test_demo_keep_leaves_the_stack_up_with_its_pages_until_ctrl_c():
    demo = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "snaprace", "demo", "--engine", "scripted", "--keep"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in demo.stdout:
            lines.append(line)
            if "Ctrl-C stops it" in line:
                break
        page = re.search(r"The runner page:\s+(\S+)", "".join(lines)).group(1)
        with urllib.request.urlopen(page, timeout=10) as answer:  # noqa: S310 - the local stack
            assert answer.status == 200 and b"Your race photos" in answer.read()
        base, org, event = re.fullmatch(r"(.*)/e/([^/]+)/([^/]+)", page).groups()
        info_request = urllib.request.Request(  # noqa: S310 - the local stack
            f"{base}/public/orgs/{org}/events/{event}", headers={"x-snaprace-client": "test"}
        )
        with urllib.request.urlopen(info_request, timeout=10) as info:  # noqa: S310
            assert json.loads(info.read())["published"] is True  # the demo publishes its event
        key = re.search(r"its key \(paste it into the page\): (\S+)", "".join(lines)).group(1)
        settings_request = urllib.request.Request(  # noqa: S310 - the local stack
            f"{base}/orgs/{org}/events/{event}/settings", headers={"x-api-key": key}
        )
        with urllib.request.urlopen(settings_request, timeout=10) as settings:  # noqa: S310
            assert json.loads(settings.read())["published"] is True  # the key opens the organiser API
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=30) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
