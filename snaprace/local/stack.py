"""The embedded local stack (docs/local-stack.md): moto's server on 127.0.0.1 with Step Functions
execution on, the resources template.yaml declares for stage dev, and the template's functions run
in-process, each under its own IAM role. This module puts the parts together and runs them:

- snaprace.local.server: the one endpoint and its routes;
- snaprace.local.resources: the template's resources;
- snaprace.local.event_sources: the SQS event source mapping and the metrics AWS puts;
- snaprace.local.iam / authorization: the roles and the gate; snaprace.local.cloudformation: the
  stack's own outputs and resources; faults, meter, the Rekognition emulator and its engines.
"""

import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import boto3
from botocore.config import Config

from pipeline.common.governor import GOVERNED
from snaprace.local import event_sources, iam_requests, logs, moto_fixes
from snaprace.local.account import UNTHROTTLED_TPS
from snaprace.local.authorization import Authorizer
from snaprace.local.engine_choice import make_engine
from snaprace.local.faults import Faults
from snaprace.local.functions import FunctionRuntime, process_environment
from snaprace.local.http_api import HttpApiGateway
from snaprace.local.iam import install_thread_credentials, roles_from_template
from snaprace.local.meter import Meter
from snaprace.local.rekognition import RekognitionEmulator
from snaprace.local.resources import Resources
from snaprace.local.server import Endpoint
from snaprace.local.sqs_move import MessageMoveTasks
from snaprace.template import (
    LOCAL_ACCOUNT,
    ROOT,
    TEMPLATE,
    Resolver,
    function_specs,
    load_template,
    local_physical_id,
    resources_of_type,
)

log = logging.getLogger("snaprace.local")
DEFAULT_STACK = "ImageRekognitionStack-dev"
DEFAULT_REGION = "ap-northeast-2"
STAGE = "dev"
_EXECUTE_API = re.compile(r"https://([A-Za-z0-9]+)\.execute-api\.[a-z0-9.-]+")


class PortInUse(RuntimeError):
    pass


class TemplateRulesFailed(ValueError):
    """The parameters break the template's Rules: CloudFormation would refuse the deploy."""


def local_client(service: str, endpoint_url: str, region: str, access_key: str = "local"):
    """A client of the local stack: the administrator's key, or a role's (`access_key`)."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="local",  # noqa: S106 - moto accepts any credentials
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )


@dataclass
class LocalStack:
    port: int = 4566
    engine_name: str = "scripted"
    rekognition_tps: float | None = None
    region: str = DEFAULT_REGION
    stack_name: str = DEFAULT_STACK
    progress: Callable[[str], None] = print
    template_path: Path = TEMPLATE  # another template (a customised one, or a test's copy)
    pipeline: bool = True  # False: uploads stay queued; a caller invokes functions itself (benchmarks)
    parameter_overrides: dict = field(default_factory=dict)  # template parameters, as sam deploy takes them

    def __post_init__(self):
        self.template_path = Path(self.template_path).resolve()
        self.template = load_template(self.template_path)
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        parameters = {"Stage": STAGE}
        # the emulated account's quotas are the ones the stack is told about
        for api in GOVERNED:
            parameters[f"{api}Tps"] = f"{self.rekognition_tps or UNTHROTTLED_TPS:g}"
        parameters.update(self.parameter_overrides)  # unless the operator says otherwise
        self.resolver = Resolver(
            self.template, region=self.region, stack_name=self.stack_name, parameters=parameters
        )
        failed = self.resolver.failed_rules()
        if failed:
            raise TemplateRulesFailed("the template's rules refuse these parameters: " + "; ".join(failed))
        for logical_id, resource in self.template["Resources"].items():
            name = self.resolver.name_of(logical_id)
            if name is not None:
                self.resolver.physical_ids[logical_id] = local_physical_id(
                    resource["Type"], name, self.region, self.endpoint_url
                )
        for logical_id in resources_of_type(self.template, "AWS::Serverless::HttpApi"):
            self.resolver.physical_ids[logical_id] = logical_id  # served at {endpoint}/_api/{logical id}
        self.specs = function_specs(self.resolver)
        self.sqs_sources = event_sources.sqs_sources(self.specs, self.endpoint_url)
        self.meter = Meter()
        self._cloudwatch = cache(
            lambda: self.client("cloudwatch")
        )  # one client for every invocation's metrics
        self.functions = FunctionRuntime(
            self.specs,
            self.region,
            LOCAL_ACCOUNT,
            lambda spec, invocation: event_sources.put_lambda_metrics(
                self._cloudwatch(), self.meter, spec, invocation
            ),
            containers={spec.logical_id: source.concurrency for spec, source in self.sqs_sources},
        )
        self.engine = make_engine(self.engine_name, self._bucket_images)
        self.rekognition = RekognitionEmulator(
            self.engine, self._read_object, self.region, LOCAL_ACCOUNT, self.rekognition_tps
        )
        self.outputs = {
            name: _EXECUTE_API.sub(
                rf"{self.endpoint_url}/_api/\1", str(self.resolver.resolve(output["Value"]))
            )
            for name, output in self.template.get("Outputs", {}).items()
        }
        self.http_api = HttpApiGateway(self.resolver, self.specs, self.functions)
        self.move_tasks = MessageMoveTasks(lambda: self.client("sqs"), self.endpoint_url)
        self.faults = Faults()
        self.functions.faults = self.faults
        self.resources = Resources(
            self.template, self.resolver, self.template_path.parent, self.client, self.region
        )
        self.authorizer: Authorizer | None = None  # once the resources (and so every ARN) exist
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        from moto.core.config import default_user_config
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        with socket.socket() as probe:  # werkzeug would print its own advice and exit
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
            try:
                probe.bind(("127.0.0.1", self.port))
            except OSError as exc:
                raise PortInUse(
                    f"cannot listen on 127.0.0.1:{self.port}: {exc.strerror} — is another stack running? "
                    "Try --port"
                ) from None
        os.environ.update(process_environment(list(self.specs.values()), self.endpoint_url, self.region))
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        os.environ["MOTO_PORT"] = str(self.port)  # moto's Step Functions interpreter calls Lambda here
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        moto_fixes.install()
        endpoint = Endpoint(self, DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            "127.0.0.1", self.port, endpoint, threaded=True, request_handler=logs.PrivateRequestLog
        )
        self._spawn(self._server.serve_forever, "server")
        self.progress(self.resources.create())
        self._enforce_iam()
        self.functions.warm()
        if not self.pipeline:
            return
        for index, (spec, source) in enumerate(self.sqs_sources):
            # Lambda polls with the function's role
            sqs = self.client("sqs", access_key=self.functions.access_keys.get(spec.logical_id, "local"))
            for worker in range(source.concurrency):
                self._spawn(
                    lambda s=spec, q=source, c=sqs: event_sources.poll_queue(
                        c, s, q, self.functions, self.region, self._stop
                    ),
                    f"sqs-{index}-{worker}",
                )
        self._spawn(
            lambda: event_sources.watch_executions(
                self.client("stepfunctions"), self.client("cloudwatch"), self.progress, self._stop
            ),
            "executions",
        )

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.name != "server":
                thread.join(timeout=5)
        if self._server is not None:
            self._server.shutdown()
        if getattr(self, "rekognition", None) is not None and not self.rekognition.quiesce():
            log.warning("an engine call was still at work when the local stack stopped")

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def client(self, service: str, access_key: str = "local"):
        """A client of this stack: the administrator's key, or a role's (`access_key`)."""
        return local_client(service, self.endpoint_url, self.region, access_key)

    def _enforce_iam(self) -> None:
        """Each function and the state machine under its role from the SAM transform; every
        request signed with a role's key is authorised against it (snaprace.local.iam)."""
        roles = roles_from_template(self.template, self.resolver)
        self.authorizer = Authorizer(
            roles, iam_requests.Account(self.region, LOCAL_ACCOUNT, self._secret_arn)
        )
        self.functions.access_keys = {logical_id: role.access_key for logical_id, role in roles.items()}
        install_thread_credentials()

    def _secret_arn(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        return (
            self.resources.secret_arns.get(secret_id)
            or f"arn:aws:secretsmanager:{self.region}:{LOCAL_ACCOUNT}:secret:{secret_id}"
        )

    # ---------------------------------------------------------------- S3 objects for the emulator

    def _s3_backend(self):
        from moto.s3.models import s3_backends

        return s3_backends[LOCAL_ACCOUNT]["aws"]

    def _read_object(self, bucket: str, key: str, version: str | None) -> bytes | None:
        try:
            found = self._s3_backend().get_object(bucket, key, version_id=version)
        except Exception:  # noqa: BLE001 - missing bucket or key
            return None
        return None if found is None else bytes(found.value)

    def _bucket_images(self):
        backend = self._s3_backend()
        for bucket in list(backend.buckets.values()):
            for name, key in list(bucket.keys.items()):
                if name.lower().endswith((".jpg", ".jpeg", ".png")) and hasattr(
                    key, "etag"
                ):  # not a delete marker
                    yield f"{bucket.name}/{name}/{key.etag}", (lambda k=key: bytes(k.value))

    def caller_of(self, access_key: str) -> str | None:
        """The function whose role signs with this key (None: the operator, a test)."""
        for logical_id, key in self.functions.access_keys.items():
            if key == access_key:
                return logical_id
        return None

    def health(self) -> dict:
        """What /_snaprace/health answers: readiness, the emulator's calls and throttles, IAM refusals."""
        return {
            "status": "ready",
            "stack": self.stack_name,
            "engine": self.engine.name,
            "rekognition": {
                "tps": self.rekognition.throttle.tps,
                "calls": dict(self.rekognition.calls),
                "throttled": dict(self.rekognition.throttle.throttled),
                "spans": dict(self.rekognition.spans),
            },
            "iam": {  # requests refused to a function's role (snaprace.local.iam)
                "denied": len(self.authorizer.denials) if self.authorizer else 0,
                "denials": self.authorizer.denials[-20:] if self.authorizer else [],
            },
        }


def wait_until_ready(endpoint_url: str, timeout: float = 30.0) -> bool:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{endpoint_url}/_snaprace/health", timeout=2) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            time.sleep(0.2)
    return False


def health(endpoint_url: str) -> dict | None:
    """What a running local stack's /_snaprace/health answers; None when it does not answer."""
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(f"{endpoint_url}/_snaprace/health", timeout=2) as response:  # noqa: S310
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def default_log_file() -> Path:
    return ROOT / ".snaprace" / "local.log"
