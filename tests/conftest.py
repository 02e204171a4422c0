"""Shared fixtures: a moto AWS with the stack's bucket and table (built from template.yaml's own
properties), fresh clients and configuration per test, a Lambda context, and the local stack
for the end-to-end tests."""

import os
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from local_stack import start_local_stack

ROOT = Path(__file__).resolve().parent.parent
STAGE = "test"
BUCKET = f"snaprace-images-{STAGE}"
TABLE = f"PhotoService-{STAGE}"
REGION = "ap-northeast-2"
SIGNING_KEY = "a-test-signing-key-" + "k" * 46  # the stack's secret SigningKeySecret, in moto

# Set before any handler module is imported: no real credentials, no X-Ray daemon.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "STAGE": STAGE,
        "BUCKET_NAME": BUCKET,
        "TABLE_NAME": TABLE,
        "COLLECTION_PREFIX": f"snaprace-{STAGE}",
        "POWERTOOLS_SERVICE_NAME": "image-rekognition",
        "POWERTOOLS_METRICS_NAMESPACE": "SnapRace",
        "POWERTOOLS_TRACE_DISABLED": "1",
        # no QUOTA_TABLE_NAME: calls are not governed, except in the tests of the governor and of
        # admission, which create the quota table (`quota_table`) and set it
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)


class _SearchPaths(list):
    """boto3 adds its data folder to a session's loader each time it makes a session: once here."""

    def append(self, path):
        if path not in self:
            super().append(path)


def share_botocore_models() -> None:
    """moto gives every test a new boto3 session (it resets boto3.DEFAULT_SESSION), and each would
    read botocore's service models from disk again: ~0.3 s a test. Every session here shares one
    loader, as the clients of one long-lived session do; credentials, config and clients stay the
    session's own. The loader is still made when botocore makes it, after reading the session's
    data_path: a missing profile fails where it fails without this (snaprace.stack catches it)."""
    import botocore.loaders
    import botocore.session

    shared = botocore.loaders.Loader(extra_search_paths=_SearchPaths())

    def register_data_loader(session) -> None:
        def data_loader():
            data_path = session.get_config_variable("data_path")
            return shared if data_path is None else botocore.loaders.create_loader(data_path)

        session._components.lazy_register_component("data_loader", data_loader)

    botocore.session.Session._register_data_loader = register_data_loader


share_botocore_models()


@pytest.fixture(autouse=True)
def fresh_configuration():
    """Configuration and clients are cached per container; each test gets its own."""
    from pipeline.common import clients, governor
    from pipeline.common.config import get_config
    from pipeline.processing import reading

    def clear():
        get_config.cache_clear()
        for factory in (
            clients.s3,
            clients.s3_presigner,
            clients.rekognition,
            clients.dynamodb_table,
            clients.stepfunctions,
            governor._table,
        ):
            factory.cache_clear()
        reading.event_settings.clear()

    clear()
    yield
    clear()


@pytest.fixture(autouse=True)
def rate_limit_clock(monkeypatch):
    """The rate limiter's windows do not turn during a test, whenever it runs: their clock stands
    20 s into a minute (53 min 20 s into an hour). A test that turns them passes its own `now`."""
    from pipeline.access import ratelimit

    monkeypatch.setattr(ratelimit, "clock", lambda: 1_796_000_000.0)


@pytest.fixture
def queues(aws, monkeypatch):
    """The upload and job queues; pages of 50 (500 deployed) so a few hundred uploads make pages."""
    from pipeline.common.config import get_config
    from pipeline.jobs import reprocess

    monkeypatch.setattr(reprocess, "PAGE_SIZE", 50)
    sqs = boto3.client("sqs", region_name=REGION)
    upload = sqs.create_queue(QueueName="image-upload-test")["QueueUrl"]
    jobs = sqs.create_queue(QueueName="snaprace-jobs-test")["QueueUrl"]
    monkeypatch.setenv("UPLOAD_QUEUE_URL", upload)
    monkeypatch.setenv("JOB_QUEUE_URL", jobs)
    get_config.cache_clear()
    return sqs, upload, jobs


@pytest.fixture
def template() -> dict:
    from snaprace.template import load_template

    return load_template()


@pytest.fixture
def aws(template):
    """moto with the stack's bucket and table; the table is created from the template's properties."""
    from moto import mock_aws

    from snaprace.template import create_table_kwargs

    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        boto3.client("dynamodb", region_name=REGION).create_table(**create_table_kwargs(template, STAGE))
        boto3.client("dynamodb", region_name=REGION).create_table(
            **create_table_kwargs(template, STAGE, "QuotaTable")
        )
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=f"{STAGE}/image-rekognition/signing-key", SecretString=SIGNING_KEY
        )
        yield


@dataclass
class LambdaContext:
    function_name: str = "TestFunction-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:TestFunction-test"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    remaining_ms: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


# ---------------------------------------------------------------- end-to-end (tests/e2e)
# Tests share one local stack, each in its own event; a second stack throttles Rekognition.


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    running = start_local_stack(tmp_path_factory.mktemp("local-stack"))
    yield running
    iam = running.health()["iam"]
    running.stop()
    # every flow the end-to-end tests ran passed under the template's own roles
    assert iam["denied"] == 0, f"the template's roles refused: {iam['denials']}"


@pytest.fixture(scope="session")
def throttled_stack(tmp_path_factory):
    running = start_local_stack(tmp_path_factory.mktemp("throttled-stack"), "--rekognition-tps", "2")
    yield running
    running.stop()


@pytest.fixture
def event_id(request) -> str:
    """One event per test: ids are lower-case letters, digits and hyphens."""
    return "e2e-" + "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:50].strip("-")


def pytest_collection_modifyitems(config, items):
    """The end-to-end tests (a local stack each session) and the real models are the slow ones."""
    for item in items:
        if "tests/e2e/" in item.nodeid or item.nodeid.startswith("tests/unit/test_vision_engine.py"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def emulated_rekognition(aws):
    """The handlers' Rekognition client answered by the local stack's emulator (the real API's
    validation, limits and error shapes) instead of moto, which has no SearchFacesByImage."""
    from pipeline.common import clients
    from snaprace.local.engines import ScriptedEngine
    from snaprace.local.rekognition import RekognitionEmulator, answer_in_process

    emulator = RekognitionEmulator(ScriptedEngine(), lambda *_: None, "ap-northeast-2", "123456789012")
    answer_in_process(clients.rekognition(), emulator)
    return emulator


@pytest.fixture
def published(aws):
    """The fixtures' event published, its selfie search verified (the default): the public routes
    reach the searches and the runner-link check."""
    from pipeline.common import clients
    from pipeline.store import Store

    table = Store(clients.dynamodb_table(TABLE))
    table.settings.put("acme", "seoul-marathon-2026", {"published": True})
