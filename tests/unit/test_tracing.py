"""X-Ray never receives what a handler answers: face ids, boxes and presigned URLs are personal
data, and Powertools' Tracer records every traced handler's response unless told not to."""

import inspect
import os
import re

import pytest
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

from snaprace.local.stack import LocalStack


@pytest.fixture(scope="module")
def specs():
    return LocalStack(port=4996).specs


def traced_handlers(specs):
    import importlib

    for spec in specs.values():
        module = importlib.import_module(spec.handler.rpartition(".")[0])
        if "capture_lambda_handler" in inspect.getsource(module):
            yield spec, inspect.getsource(module)


def test_every_traced_function_leaves_its_response_out_of_xray(specs, monkeypatch):
    traced = list(traced_handlers(specs))
    assert len(traced) >= 4  # preprocess, detect text, index faces, search API
    for spec, source in traced:
        monkeypatch.setattr(os, "environ", {**os.environ, **spec.environment})
        # the choice Tracer.capture_lambda_handler makes when the decorator does not name one
        capture = resolve_truthy_env_var_choice(env=os.getenv(constants.TRACER_CAPTURE_RESPONSE_ENV, "true"))
        assert capture is False, spec.logical_id
        assert not re.search(r"capture_response\s*=\s*True", source), spec.logical_id
