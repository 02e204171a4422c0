"""Error types with a reason a person can read, and how the state machine sees them.

A Lambda error reaches Step Functions with the exception's class name as its error name, so the
class names below are the names the ASL file's Retry and Catch clauses use:

    InvalidImage        the upload can never become an indexed photo   -> RecordRejection (REJECTED)
    PhotoSuperseded     the raw object was deleted or replaced since    -> Superseded (ends quietly;
                        the event; a newer event owns the photo            the newer event's run wins)
    RekognitionThrottled  retried by the state machine with backoff and full jitter
    anything else       unexpected                                      -> RecordFailure (FAILED) -> Fail
"""

import json

MAX_REASON_LENGTH = 300


class PipelineError(Exception):
    """Base class: `reason` is safe to store and show to an organiser (no personal data)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class InvalidKey(PipelineError):
    """An object key outside both upload layouts, or with ids that break the id rules."""


class InvalidImage(PipelineError):
    """The upload is not a photo we can index: wrong type, corrupt, too large, too small."""


class PhotoSuperseded(PipelineError):
    """The raw object this run was started for no longer exists in that version."""


class RekognitionThrottled(PipelineError):
    """Rekognition kept throttling after the client's own retries; the state machine retries."""


class RekognitionUnavailable(PipelineError):
    """Rekognition kept answering 5xx after the client's own retries; the state machine retries."""


def cause_message(cause: str | None) -> str:
    """The readable part of a Step Functions error's Cause: a Lambda error's Cause is JSON with
    errorMessage/errorType/stackTrace (only the message is kept: stack traces are for logs);
    other causes (States.Timeout, ...) are plain text."""
    message = cause or ""
    try:
        parsed = json.loads(message)
        if isinstance(parsed, dict):
            message = parsed.get("errorMessage") or ""
    except (TypeError, ValueError):
        pass
    return " ".join(str(message).split())[:MAX_REASON_LENGTH]


def reason_from_state_error(error: dict | None) -> str:
    """Turn a Step Functions Catch result ({"Error", "Cause"}) into a one-line reason.

    A Lambda error's Cause is JSON with errorMessage/errorType/stackTrace; only the message is
    kept (stack traces are for logs). Other causes (States.Timeout, ...) are plain text.
    """
    if not error:
        return "unknown error"
    name = str(error.get("Error") or "Error")
    message = cause_message(error.get("Cause"))
    if name == "InvalidImage":
        reason = message or "invalid image"
    else:
        reason = f"{name}: {message}" if message else name
    return reason[:MAX_REASON_LENGTH]


class BadRequest(ValueError):
    """A caller's mistake (an API request, an operator's command), with a message they can act on."""
