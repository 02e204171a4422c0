import json

from pipeline.common.errors import MAX_REASON_LENGTH, reason_from_state_error


def lambda_error(error_type, message):
    cause = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": "abc",
        "stackTrace": ['  File "/var/task/pipeline/processing/images.py", line 80, in normalise\n'],
    }
    return {"Error": error_type, "Cause": json.dumps(cause)}


def test_invalid_image_reason_is_the_message_alone():
    assert reason_from_state_error(
        lambda_error("InvalidImage", "JPEG image data is truncated or corrupt")
    ) == ("JPEG image data is truncated or corrupt")


def test_unexpected_errors_name_the_error_and_drop_the_stack_trace():
    reason = reason_from_state_error(lambda_error("KeyError", "'image'"))
    assert reason == "KeyError: 'image'"


def test_timeouts_and_plain_causes():
    assert reason_from_state_error({"Error": "States.Timeout", "Cause": ""}) == "States.Timeout"
    assert (
        reason_from_state_error({"Error": "States.Runtime", "Cause": "bad\n  path"})
        == "States.Runtime: bad path"
    )
    assert reason_from_state_error(None) == "unknown error"


def test_reasons_are_bounded():
    assert len(reason_from_state_error(lambda_error("RuntimeError", "x" * 5000))) == MAX_REASON_LENGTH
