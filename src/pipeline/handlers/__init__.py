"""Lambda entry points, one module per function in template.yaml: parse the event, call one
domain function, shape the answer. Step handlers receive the execution state
(pipeline.processing.uploads).

Cold starts (bench/imports.py): only Preprocess and SecondLook import Pillow. Powertools Tracer
(the X-Ray SDK, ~150 ms and ~20 MB per cold start here) is kept where a trace explains latency:
the handlers that move image bytes or call Rekognition (preprocess, detect_text, index_faces,
second_look, api, organiser_api). The bookkeeping handlers (start_processing, save_results,
record_status, delete_photo, api_authorizer, retention_sweep, pages) go without; Lambda's active
tracing still records their invocations (tests/unit/test_cold_start.py checks the list)."""

from aws_lambda_powertools import Logger

from pipeline.common.keys import RawPhoto, parse_raw_key
from pipeline.common.models import StepState


def step_photo(event: StepState, logger: Logger) -> RawPhoto:
    """The photo a step works on, re-validated from the state; its ids go on every log line of
    this invocation. Powertools loggers of one service share their formatter, so keys appended
    the usual way are seen by every thread of a process; the thread-safe keys live in a ContextVar,
    one set per thread (the local stack runs concurrent invocations as threads), cleared here so
    an invocation never inherits the last one's photo."""
    photo = parse_raw_key(event["photo"]["rawKey"])
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(photoId=photo.photo_id, executionName=event.get("executionName"))
    return photo
