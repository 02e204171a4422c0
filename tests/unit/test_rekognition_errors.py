"""How Rekognition's answers become the pipeline's errors, and throttling's own retries."""

import boto3
import pytest
from botocore.stub import Stubber

from pipeline.common import rekognition
from pipeline.common.errors import RekognitionThrottled, RekognitionUnavailable


@pytest.fixture
def client():
    client = boto3.client(
        "rekognition", region_name="ap-northeast-2", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def slept(monkeypatch):
    waits = []
    monkeypatch.setattr(rekognition.time, "sleep", waits.append)
    return waits


PROCESSED = {"S3Object": {"Bucket": "snaprace-images-dev", "Name": "acme/e1/processed/p.jpg"}}


def test_a_throttled_call_is_tried_again_about_a_second_later(client, slept):
    client, stubber = client
    stubber.add_client_error("detect_text", "ProvisionedThroughputExceededException", http_status_code=400)
    stubber.add_response("detect_text", {"TextDetections": [{"DetectedText": "1234", "Type": "WORD"}]})
    words = rekognition.detect_text(client, PROCESSED)
    assert [w["DetectedText"] for w in words] == ["1234"]
    assert len(slept) == 1 and 0.5 <= slept[0] <= 1.5


def test_throttling_that_outlasts_its_retries_goes_to_the_state_machine(client, slept):
    client, stubber = client
    for _ in range(rekognition.QUOTA_ATTEMPTS):
        stubber.add_client_error("detect_text", "ThrottlingException", http_status_code=400)
    with pytest.raises(RekognitionThrottled, match="DetectText throttled"):
        rekognition.detect_text(client, PROCESSED)
    assert len(slept) == rekognition.QUOTA_ATTEMPTS - 1


def test_a_server_error_is_tried_three_times_then_left_to_the_state_machine(client, slept):
    client, stubber = client
    for _ in range(rekognition.UNAVAILABLE_ATTEMPTS):
        stubber.add_client_error("detect_text", "InternalServerError", http_status_code=500)
    with pytest.raises(RekognitionUnavailable, match="DetectText unavailable"):
        rekognition.detect_text(client, PROCESSED)
    assert len(slept) == 2 and all(0 <= wait <= 0.8 for wait in slept)  # short, jittered: not a quota window


@pytest.mark.parametrize("code, status", [("BadGateway", 502), ("", 504)])
def test_any_5xx_is_retried_and_then_reaches_the_state_machine_as_unavailable(client, slept, code, status):
    """One classifier for the retries and the error mapping: a 5xx whose code Rekognition's model
    does not name (a load balancer's 502, a bare 504) is retried as unavailable and then raised as
    RekognitionUnavailable, the error the state machine retries, never a plain ClientError."""
    client, stubber = client
    for _ in range(rekognition.UNAVAILABLE_ATTEMPTS):
        stubber.add_client_error("detect_text", code, http_status_code=status)
    with pytest.raises(RekognitionUnavailable, match=code or str(status)):
        rekognition.detect_text(client, PROCESSED)
    assert len(slept) == rekognition.UNAVAILABLE_ATTEMPTS - 1


def test_the_search_api_asks_once():
    """A runner waits on the page: no in-process retry (the bib reads answer alone, or 503)."""
    client = boto3.client(
        "rekognition", region_name="ap-northeast-2", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "search_faces", "ProvisionedThroughputExceededException", http_status_code=400
        )
        with pytest.raises(RekognitionThrottled):
            rekognition.search_faces(client, "snaprace-dev.acme.e1", "f" * 8, 95.0, patient=False)


def test_one_retry_layer_per_failure_kind_with_the_pipelines_own_client(monkeypatch):
    """HTTP attempts one call makes before the state machine sees the error (the client itself
    must not retry too: its standard mode made it 16 for throttling)."""
    import importlib.util

    from snaprace.template import ROOT

    spec = importlib.util.spec_from_file_location(
        "rekognition_attempts", ROOT / "bench" / "rekognition_attempts.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert bench.attempts(400, "ProvisionedThroughputExceededException") == (4, "RekognitionThrottled")
    assert bench.attempts(500, "InternalServerError") == (3, "RekognitionUnavailable")
