"""The template's functions, run in-process the way Lambda runs them: the handler named in
template.yaml, called with the event and a Lambda context; an exception becomes Lambda's error
payload (errorType = the exception's class, which the state machine's Retry and Catch match).

One process hosts every function, so the process environment is the union of the functions'
template environments; a variable two functions set differently is refused at start-up. Each
function is one container: its invocations run one at a time (handlers keep per-invocation state
in module globals, as Lambda allows), different functions run concurrently.
Each invocation puts AWS/Lambda Invocations, Errors and Duration metrics, as Lambda does.
"""

import importlib
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass

from snaprace.local.iam import THREAD_CREDENTIALS
from snaprace.local.rekognition import ENGINE_MS_HEADER
from snaprace.template import FunctionSpec

log = logging.getLogger("snaprace.local.functions")
current = threading.local()  # the function this thread is running (its logs go to its log group)


class EnvironmentConflict(RuntimeError):
    pass


def union_environment(specs: list[FunctionSpec]) -> dict[str, str]:
    merged: dict[str, tuple[str, str]] = {}
    for spec in specs:
        for name, value in spec.environment.items():
            if name in merged and merged[name][1] != value:
                raise EnvironmentConflict(
                    f"{merged[name][0]} and {spec.logical_id} set {name} differently; the local stack "
                    "runs every function in one process and needs one value"
                )
            merged[name] = (spec.logical_id, value)
    return {name: value for name, (_, value) in merged.items()}


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        """Until the timeout, the emulated Rekognition engine's time not counted (count_engine_time)."""
        credit = getattr(current, "engine_ms", 0.0) / 1000
        return max(0, int((self.deadline + credit - time.monotonic()) * 1000))


@dataclass
class Invocation:
    payload: object
    error: bool
    duration_ms: float  # wall time, less the emulated Rekognition engine's (see count_engine_time)
    cpu_ms: float = 0.0  # this thread's CPU time: what Duration would be without the other threads
    engine_ms: float = 0.0  # the emulated Rekognition engine's time in this invocation's calls


def count_engine_time(session) -> None:
    """Every Rekognition answer says how long the emulator's engine took for it, waiting for a free
    core included (snaprace.local.rekognition.ENGINE_MS_HEADER): that is this machine's compute
    standing in for AWS's, so it is added up per invocation and left out of the function's Duration
    and its timeout (a busy laptop is not a slow function). Clients made after this carry the hook."""

    def after_call(http_response=None, **_):
        spent = (getattr(http_response, "headers", None) or {}).get(ENGINE_MS_HEADER)
        if spent is not None and hasattr(current, "engine_ms"):
            current.engine_ms += float(spent)

    session.register("after-call.rekognition", after_call, unique_id="snaprace-engine-time")


CONTAINERS = 12  # per function: a call waiting for its Rekognition turn (or a throttled retry) holds one, as
# on Lambda, where concurrency is the account's (1,000), not 4: fewer made the waits queue here
_METRICS_LOCK = threading.RLock()


def share_powertools_metrics_safely() -> None:
    """Powertools keeps a function's metrics in one class-level set per process. Lambda containers
    are processes; the containers here are threads, so adding to the set and flushing it (which
    iterates it) are serialised, as they are in a container."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    if getattr(AmazonCloudWatchEMFProvider, "_snaprace_locked", False):
        return
    for name in ("add_metric", "flush_metrics", "serialize_metric_set", "clear_metrics"):
        original = getattr(AmazonCloudWatchEMFProvider, name)

        def locked(*args, _original=original, **kwargs):
            with _METRICS_LOCK:
                return _original(*args, **kwargs)

        setattr(AmazonCloudWatchEMFProvider, name, locked)
    AmazonCloudWatchEMFProvider._snaprace_locked = True


class FunctionRuntime:
    def __init__(
        self,
        specs: dict[str, FunctionSpec],
        region: str,
        account: str,
        put_metrics=None,
        containers: dict[str, int] | None = None,
    ):
        self.specs = specs
        self.region, self.account = region, account
        self.put_metrics = put_metrics or (lambda spec, invocation: None)
        self._by_name = {spec.name: spec for spec in specs.values()}
        # Lambda runs one invocation at a time per container and adds containers as invocations
        # arrive. Here a function has CONTAINERS (or `containers` says how many: the upload starter
        # gets its queue's MaximumConcurrency, which its pacing counts on); they are threads
        # sharing the handler module.
        self._containers = {
            logical_id: threading.BoundedSemaphore((containers or {}).get(logical_id, CONTAINERS))
            for logical_id in specs
        }
        share_powertools_metrics_safely()
        self.access_keys: dict[str, str] = {}  # logical id -> its role's key (snaprace.local.iam)
        self.faults = None  # the local stack's fault injection (snaprace.local.faults)

    def arn(self, spec: FunctionSpec) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{spec.name}"

    def find(self, name_or_arn: str) -> FunctionSpec | None:
        """Lambda accepts a name, a full ARN or a partial ARN, optionally with a qualifier."""
        name = name_or_arn
        if name.startswith("arn:"):
            name = name.split(":function:", 1)[-1]
        name = name.split(":", 1)[0]
        return self._by_name.get(name) or self.specs.get(name)

    def handler(self, spec: FunctionSpec):
        module_name, _, attribute = spec.handler.rpartition(".")
        return getattr(importlib.import_module(module_name), attribute)

    def warm(self) -> None:
        """Import every handler (their cold start) and set up boto3's default session once, before
        invocations run concurrently: botocore's lazy credential set-up is not thread safe."""
        import boto3

        boto3.client("sts")
        count_engine_time(boto3.DEFAULT_SESSION._session)  # noqa: SLF001 - botocore's event system
        for spec in self.specs.values():
            self.handler(spec)

    def invoke(self, spec: FunctionSpec, event) -> Invocation:
        with self._containers[spec.logical_id]:  # waiting for the container is not Duration
            started, cpu_started = time.monotonic(), time.thread_time()
            current.engine_ms = 0.0
            invocation = self._run(spec, event, started)
            invocation.engine_ms = current.engine_ms
            invocation.duration_ms = max(0.0, (time.monotonic() - started) * 1000 - invocation.engine_ms)
            invocation.cpu_ms = (time.thread_time() - cpu_started) * 1000
        if self.faults is not None and self.faults.roll(
            f"timeout:{spec.name}", self.faults.function_timeouts.get(spec.name, 0.0)
        ):  # the handler ran (its side effects stay) but its answer is lost, as in a real timeout
            message = f"Task timed out after {spec.timeout:.2f} seconds"
            invocation = Invocation(
                {"errorMessage": message, "errorType": "Sandbox.Timedout"}, True, spec.timeout * 1000
            )
        if invocation.duration_ms > spec.timeout * 1000:
            log.warning(
                "%s ran %.0f ms, over its %s s timeout", spec.name, invocation.duration_ms, spec.timeout
            )
        self.put_metrics(spec, invocation)
        return invocation

    def _run(self, spec: FunctionSpec, event, started: float) -> Invocation:
        context = LambdaContext(
            function_name=spec.name,
            memory_limit_in_mb=spec.memory,
            invoked_function_arn=self.arn(spec),
            aws_request_id=str(uuid.uuid4()),
            deadline=started + spec.timeout,
        )
        current.function_name = spec.name
        THREAD_CREDENTIALS.use(self.access_keys.get(spec.logical_id))
        try:
            result = self.handler(spec)(event, context)
            json.dumps(result)  # Lambda must serialise the result; fail here as it would there
            return Invocation(result, False, 0.0)
        except Exception as exc:  # noqa: BLE001 - every handler failure becomes Lambda's error payload
            log.error("%s failed: %s", spec.name, exc.__class__.__name__, exc_info=True)
            # the runtime's own record in the function's log, as Lambda's Python runtime writes it
            trace = "".join(traceback.format_exception(exc))
            sys.stdout.write(f"[ERROR] {exc.__class__.__name__}: {exc}\n{trace}")
            sys.stdout.flush()
            payload = {
                "errorMessage": str(exc),
                "errorType": exc.__class__.__name__,
                "requestId": context.aws_request_id,
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }
            return Invocation(payload, True, 0.0)
        finally:
            current.function_name = None
            THREAD_CREDENTIALS.use(None)


def process_environment(specs: list[FunctionSpec], endpoint_url: str, region: str) -> dict[str, str]:
    """What the local stack sets in its process: the functions' variables, and the Lambda runtime's
    own (region, credentials) pointed at the local endpoint. X-Ray has no daemon here."""
    return {
        **union_environment(specs),
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "local",  # never a developer's real key, even signed
        "AWS_SECRET_ACCESS_KEY": "local",  # noqa: S105 - moto accepts any
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
