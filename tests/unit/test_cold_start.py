"""What each handler loads on a cold start: Pillow and the X-Ray SDK only where they are used.

Times are measured by bench/imports.py; this checks the module sets, which do not vary."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
USES_PILLOW = {"preprocess", "second_look"}
TRACED = {"preprocess", "detect_text", "index_faces", "second_look", "api", "organiser_api"}
HANDLERS = sorted(p.stem for p in (SRC / "pipeline" / "handlers").glob("*.py") if p.stem != "__init__")


def loaded_after_import(handler: str) -> set[str]:
    code = (
        f"import json, sys; import pipeline.handlers.{handler}; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "AWS_DEFAULT_REGION": "ap-northeast-2"}
    child = subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return set(json.loads(child.stdout))


@pytest.mark.parametrize("handler", HANDLERS)
def test_handler_loads_pillow_and_xray_only_where_it_uses_them(handler):
    loaded = loaded_after_import(handler)
    assert ("PIL" in loaded) == (handler in USES_PILLOW)
    assert ("aws_xray_sdk" in loaded) == (handler in TRACED)


def test_the_classification_names_real_handlers():
    assert set(HANDLERS) >= USES_PILLOW | TRACED | {"start_processing", "save_results", "record_status"}


def test_shared_modules_set_up_no_log_output_of_their_own():
    """Only a handler's Logger may bind the service's log output (to stdout when it is created):
    `snaprace local up` imports the shared modules before it sends stdout to the log file, and a
    Logger made then kept writing to the terminal's pipe until it filled and every function hung."""
    shared = sorted(
        ".".join(p.relative_to(SRC / "pipeline").with_suffix("").parts)
        for p in (SRC / "pipeline").glob("*/*.py")
        if p.parent.name != "handlers" and p.stem != "__init__"
    )
    code = (
        "import importlib, json, logging, sys\n"
        f"for name in {shared!r}: importlib.import_module('pipeline.' + name)\n"
        "print(json.dumps(len(logging.getLogger('image-rekognition').handlers)))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "AWS_DEFAULT_REGION": "ap-northeast-2",
        "POWERTOOLS_SERVICE_NAME": "image-rekognition",
    }
    child = subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert json.loads(child.stdout) == 0
