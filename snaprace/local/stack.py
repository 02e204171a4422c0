"""The embedded local stack (docs/local-stack.md): moto's server on 127.0.0.1 with Step Functions
execution on, the resources template.yaml declares for stage dev, and the template's functions
run in-process.

One endpoint serves everything. In front of moto sit:
- Rekognition (X-Amz-Target RekognitionService.*) -> the emulator;
- Lambda Invoke of a template function -> the in-process runtime (moto's Step Functions
  interpreter invokes Task resources through this API);
- CloudFormation DescribeStacks / DescribeStackResources for the stack name -> the local stack's
  outputs and physical ids, so the CLI finds resources the same way on AWS and here.
Background threads do what AWS does around the functions: the SQS event source mapping of the
starter, and the AWS/States execution metrics the alarms watch.
"""

import base64
import io
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

import boto3
from botocore.config import Config

from snaprace.local import account, iam_requests, moto_fixes
from snaprace.local.authorization import Authorizer
from snaprace.local.engines import make_engine
from snaprace.local.faults import Faults
from snaprace.local.functions import FunctionRuntime, process_environment
from snaprace.local.http_api import HttpApiGateway
from snaprace.local.iam import install_thread_credentials, roles_from_template
from snaprace.local.meter import Meter
from snaprace.local.rekognition import RekognitionEmulator, RekognitionError
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
    table_request,
)

log = logging.getLogger("snaprace.local")
DEFAULT_STACK = "ImageRekognitionStack-dev"
WATCH_SECONDS = 3.0  # listing every execution costs CPU that the functions need
DEFAULT_REGION = "ap-northeast-2"
STAGE = "dev"
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
_EXECUTE_API = re.compile(r"https://([A-Za-z0-9]+)\.execute-api\.[a-z0-9.-]+")
_S3_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/s3/aws4_request|X-Amz-Credential=[^&]+%2Fs3%2F")
_CFN_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/cloudformation/aws4_request")
# Created by the local stack; everything else in the template is listed as not emulated.
EMULATED_TYPES = (
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::DynamoDB::Table",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",  # e-mail subscriptions are confirmed at once: there is no mailbox
    "AWS::Serverless::Function",
    "AWS::Serverless::StateMachine",
    "AWS::Events::Rule",
    "AWS::CloudWatch::Alarm",
    "AWS::SecretsManager::Secret",
    "AWS::Serverless::HttpApi",
)


class PortInUse(RuntimeError):
    pass


class TemplateRulesFailed(ValueError):
    """The parameters break the template's Rules: CloudFormation would refuse the deploy."""


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
        if self.rekognition_tps:  # the emulated account's quota is the one the stack is told about
            parameters["RekognitionTps"] = f"{self.rekognition_tps:g}"
        parameters.update(self.parameter_overrides)  # unless the operator says otherwise
        self.resolver = Resolver(
            self.template, region=self.region, stack_name=self.stack_name, parameters=parameters
        )
        failed = self.resolver.failed_rules()
        if failed:
            raise TemplateRulesFailed("the template's rules refuse these parameters: " + "; ".join(failed))
        for logical_id in self.template["Resources"]:
            name = self.resolver.name_of(logical_id)
            if name is not None:
                resource_type = self.template["Resources"][logical_id]["Type"]
                self.resolver.physical_ids[logical_id] = local_physical_id(
                    resource_type, name, self.region, self.endpoint_url
                )
        for logical_id in resources_of_type(self.template, "AWS::Serverless::HttpApi"):
            self.resolver.physical_ids[logical_id] = logical_id  # served at {endpoint}/_api/{logical id}
        self.specs = function_specs(self.resolver)
        self.functions = FunctionRuntime(
            self.specs,
            self.region,
            LOCAL_ACCOUNT,
            self._put_lambda_metrics,
            containers={spec.logical_id: source["concurrency"] for spec, source in self._sqs_event_sources()},
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
        self.meter = Meter()
        self.authorizer: Authorizer | None = None  # once the resources (and so every ARN) exist
        self._secret_arns: dict[str, str] = {}
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
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", self.port, self._app, threaded=True)
        self._spawn(self._server.serve_forever, "server")
        self._create_resources()
        self._enforce_iam()
        self.functions.warm()
        if not self.pipeline:
            return
        starter = self._sqs_event_sources()
        for index, (spec, source) in enumerate(starter):
            for worker in range(source["concurrency"]):
                self._spawn(lambda s=spec, q=source: self._poll_queue(s, q), f"sqs-{index}-{worker}")
        self._spawn(self._watch_executions, "executions")

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.name != "server":
                thread.join(timeout=5)
        if self._server is not None:
            self._server.shutdown()

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def client(self, service: str, access_key: str = "local"):
        """A client with the administrator's key, or a role's (`access_key`)."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=access_key,
            aws_secret_access_key="local",  # noqa: S106 - moto accepts any credentials
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )

    def _enforce_iam(self) -> None:
        """Each function and the state machine under its role from the SAM transform; every
        request signed with a role's key is authorised against it (snaprace.local.iam)."""
        roles = roles_from_template(self.template, self.resolver)
        account = iam_requests.Account(self.region, LOCAL_ACCOUNT, self._secret_arn)
        self.authorizer = Authorizer(roles, account)
        self.functions.access_keys = {logical_id: role.access_key for logical_id, role in roles.items()}
        install_thread_credentials()

    def _secret_arn(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        return (
            self._secret_arns.get(secret_id)
            or f"arn:aws:secretsmanager:{self.region}:{LOCAL_ACCOUNT}:secret:{secret_id}"
        )

    # ---------------------------------------------------------------- resources

    def _create_resources(self) -> None:
        resources = self.template["Resources"]
        by_type = {t: resources_of_type(self.template, t) for t in EMULATED_TYPES}
        for logical_id in by_type["AWS::S3::Bucket"]:
            self._create_bucket(logical_id)
        queues = sorted(
            by_type["AWS::SQS::Queue"], key=lambda q: "RedrivePolicy" in resources[q]["Properties"]
        )
        for logical_id in queues:
            self._create_queue(logical_id)
        for logical_id in by_type["AWS::DynamoDB::Table"]:
            self.client("dynamodb").create_table(
                **table_request(self.resolver.resource_properties(logical_id))
            )
        for logical_id in by_type["AWS::SNS::Topic"]:
            self.client("sns").create_topic(Name=self.resolver.name_of(logical_id))
        for logical_id in by_type["AWS::SNS::Subscription"]:
            condition = resources[logical_id].get("Condition")
            if condition and not self.resolver.conditions[condition]:
                continue
            properties = self.resolver.resource_properties(logical_id)
            self.client("sns").subscribe(
                TopicArn=properties["TopicArn"],
                Protocol=properties["Protocol"],
                Endpoint=properties["Endpoint"],
            )
        for logical_id in by_type["AWS::Serverless::StateMachine"]:
            self._create_state_machine(logical_id)
        for logical_id in by_type["AWS::Events::Rule"]:
            properties = self.resolver.resource_properties(logical_id)
            events = self.client("events")
            events.put_rule(
                Name=properties["Name"],
                EventPattern=json.dumps(properties["EventPattern"]),
                State=properties.get("State", "ENABLED"),
            )
            events.put_targets(
                Rule=properties["Name"],
                Targets=[{"Id": t["Id"], "Arn": t["Arn"]} for t in properties.get("Targets", [])],
            )
        for logical_id in by_type["AWS::SecretsManager::Secret"]:
            properties = self.resolver.resource_properties(logical_id)
            generated = secrets.token_hex(20)  # GenerateSecretString: letters and digits
            created = self.client("secretsmanager").create_secret(
                Name=properties["Name"], SecretString=properties.get("SecretString", generated)
            )
            self._secret_arns[properties["Name"]] = created["ARN"]
            self.resolver.physical_ids[logical_id] = created["ARN"]  # Ref of a secret is its ARN
        for logical_id in by_type["AWS::CloudWatch::Alarm"]:
            properties = self.resolver.resource_properties(logical_id)
            properties.pop("AlarmActions", None)
            properties.pop("OKActions", None)
            self.client("cloudwatch").put_metric_alarm(**properties)
        skipped = sorted({r["Type"] for r in resources.values()} - set(EMULATED_TYPES))
        created = sum(len(v) for v in by_type.values())
        self.progress(f"created {created} resources from template.yaml; not emulated: {', '.join(skipped)}")

    def _create_bucket(self, logical_id: str) -> None:
        properties = self.resolver.resource_properties(logical_id)
        s3 = self.client("s3")
        name = properties["BucketName"]
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        if properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if properties.get("BucketEncryption"):
            rules = [  # CloudFormation and the S3 API name the default rule differently
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        notification = properties.get("NotificationConfiguration", {})
        if notification.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )

    def _create_queue(self, logical_id: str) -> None:
        properties = self.resolver.resource_properties(logical_id)
        attributes = {
            name: json.dumps(value) if isinstance(value, dict) else str(value)
            for name, value in properties.items()
            if name
            in (
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "RedrivePolicy",
                "ReceiveMessageWaitTimeSeconds",
            )
        }
        self.client("sqs").create_queue(QueueName=properties["QueueName"], Attributes=attributes)

    def _create_state_machine(self, logical_id: str) -> None:
        properties = self.resolver.resource_properties(logical_id)
        definition = (self.template_path.parent / properties["DefinitionUri"]).read_text()
        for name, value in properties.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + name + "}", str(value))
        self.client("stepfunctions").create_state_machine(
            name=properties["Name"],
            definition=definition,
            roleArn=f"arn:aws:iam::{LOCAL_ACCOUNT}:role/{logical_id}Role",
            type=properties.get("Type", "STANDARD"),
        )

    # ---------------------------------------------------------------- around the functions

    def _sqs_event_sources(self) -> list[tuple]:
        sources = []
        for spec in self.specs.values():
            for event in spec.events.values():
                if event.get("Type") != "SQS":
                    continue
                properties = event["Properties"]
                queue_name = properties["Queue"].rsplit(":", 1)[-1]
                concurrency = int(properties.get("ScalingConfig", {}).get("MaximumConcurrency", 2))
                sources.append(
                    (
                        spec,
                        {
                            "url": f"{self.endpoint_url}/{LOCAL_ACCOUNT}/{queue_name}",
                            "arn": properties["Queue"],
                            "batch": int(properties.get("BatchSize", 10)),
                            "partial": "ReportBatchItemFailures"
                            in properties.get("FunctionResponseTypes", []),
                            # Lambda's pollers scale to the maximum; the starter's pacing counts on it
                            "concurrency": max(1, concurrency),
                        },
                    )
                )
        return sources

    def _poll_queue(self, spec, source: dict) -> None:
        """Lambda's SQS event source mapping: batches in, successful records deleted, failed ones
        left to reappear after the visibility timeout (and reach the DLQ after maxReceiveCount)."""
        role_key = self.functions.access_keys.get(spec.logical_id, "local")
        sqs = self.client("sqs", access_key=role_key)  # Lambda polls with the function's role
        while not self._stop.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=source["url"],
                    MaxNumberOfMessages=source["batch"],
                    WaitTimeSeconds=1,
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception:  # noqa: BLE001 - keep polling, as the event source mapping does
                log.exception("receive from %s failed", source["url"])
                time.sleep(1)
                continue
            if not messages:
                continue
            event = {"Records": [_sqs_record(m, source["arn"], self.region) for m in messages]}
            invocation = self.functions.invoke(spec, event)
            if invocation.error:
                failed = {m["MessageId"] for m in messages}
            elif source["partial"] and isinstance(invocation.payload, dict):
                failed = {f["itemIdentifier"] for f in invocation.payload.get("batchItemFailures") or []}
            else:
                failed = set()
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                sqs.delete_message_batch(
                    QueueUrl=source["url"],
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )

    def _put_lambda_metrics(self, spec, invocation) -> None:
        self.meter.invocation(spec.name, spec.memory, invocation.duration_ms, invocation.cpu_ms)
        dimensions = [{"Name": "FunctionName", "Value": spec.name}]
        data = [
            {"MetricName": "Invocations", "Value": 1, "Unit": "Count", "Dimensions": dimensions},
            {
                "MetricName": "Errors",
                "Value": int(invocation.error),
                "Unit": "Count",
                "Dimensions": dimensions,
            },
            {
                "MetricName": "Duration",
                "Value": invocation.duration_ms,
                "Unit": "Milliseconds",
                "Dimensions": dimensions,
            },
        ]
        try:
            self.client("cloudwatch").put_metric_data(Namespace="AWS/Lambda", MetricData=data)
        except Exception:  # noqa: BLE001 - metrics never fail an invocation
            log.exception("could not put Lambda metrics")

    def _watch_executions(self) -> None:
        """AWS/States ExecutionsSucceeded/Failed per state machine, and progress on the terminal."""
        sfn, cloudwatch = self.client("stepfunctions"), self.client("cloudwatch")
        seen: set[str] = set()
        counts = {"SUCCEEDED": 0, "FAILED": 0}
        last_line = ""
        while not self._stop.wait(WATCH_SECONDS):
            try:
                for machine in sfn.list_state_machines()["stateMachines"]:
                    arn = machine["stateMachineArn"]
                    running = 0
                    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
                        for execution in page["executions"]:
                            status = execution["status"]
                            running += status == "RUNNING"
                            if status in counts and execution["executionArn"] not in seen:
                                seen.add(execution["executionArn"])
                                counts[status] += 1
                                metric = (
                                    "ExecutionsSucceeded" if status == "SUCCEEDED" else "ExecutionsFailed"
                                )
                                cloudwatch.put_metric_data(
                                    Namespace="AWS/States",
                                    MetricData=[
                                        {
                                            "MetricName": metric,
                                            "Value": 1,
                                            "Unit": "Count",
                                            "Dimensions": [{"Name": "StateMachineArn", "Value": arn}],
                                        }
                                    ],
                                )
                    line = (
                        f"executions: {running} running, {counts['SUCCEEDED']} succeeded, "
                        f"{counts['FAILED']} failed"
                    )
                    if line != last_line:
                        self.progress(line)
                        last_line = line
            except Exception:  # noqa: BLE001 - the watcher outlives a bad poll
                log.exception("execution watcher")

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

    def health(self) -> dict:
        """What /_snaprace/health answers: readiness, and the emulator's call and throttle counts."""
        return {
            "status": "ready",
            "stack": self.stack_name,
            "engine": self.engine.name,
            "rekognition": {
                "tps": self.rekognition.throttle.tps,
                "calls": dict(self.rekognition.calls),
                "throttled": dict(self.rekognition.throttle.throttled),
            },
            "iam": {  # requests refused to a function's role (snaprace.local.iam)
                "denied": len(self.authorizer.denials) if self.authorizer else 0,
                "denials": self.authorizer.denials[-20:] if self.authorizer else [],
            },
        }

    # ---------------------------------------------------------------- the endpoint

    def _app(self, environ, start_response):
        try:
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if environ.get("PATH_INFO") == "/_snaprace/faults":
                if environ["REQUEST_METHOD"] == "POST":
                    try:
                        self.faults.configure(json.loads(_read_body(environ) or b"{}"))
                    except (ValueError, TypeError) as exc:
                        return _respond(start_response, 400, {"message": str(exc)})
                return _respond(start_response, 200, self.faults.describe())
            if environ.get("PATH_INFO") == "/_snaprace/meter":
                if environ["REQUEST_METHOD"] == "POST":
                    self.meter.reset()
                return _respond(start_response, 200, self.meter.describe())
            self._count(environ, target)
            if self.authorizer is not None:
                denied = self.authorizer.check(environ, start_response, self._moto)
                if denied is not None:
                    return denied
            if target.startswith("DynamoDB_20120810."):
                return self._dynamodb_call(environ, start_response, target.split(".", 1)[1])
            if target == "AWSStepFunctions.StartExecution" and self.faults.roll(
                "start_execution_errors", self.faults.start_execution_errors
            ):
                return _respond(
                    start_response, 500, {"__type": "ServiceUnavailable", "message": "injected fault"}
                )
            if target in ("AmazonSQS.StartMessageMoveTask", "AmazonSQS.ListMessageMoveTasks"):
                request = json.loads(_read_body(environ) or b"{}")
                return _respond(start_response, 200, self.move_tasks.handle(target.split(".", 1)[1], request))
            if target.startswith("RekognitionService."):
                return self._rekognition_call(environ, start_response, target.split(".", 1)[1])
            if target.startswith("ServiceQuotasV20190624.List"):
                body = _read_body(environ)
                environ["wsgi.input"] = io.BytesIO(body)
                if json.loads(body or b"{}").get("ServiceCode") == "rekognition":
                    quotas = account.rekognition_quotas(self.rekognition_tps, self.region, LOCAL_ACCOUNT)
                    return _respond(start_response, 200, quotas)
            if environ.get("PATH_INFO", "").rstrip("/") == account.ACCOUNT_SETTINGS_PATH:
                data = account.lambda_account_settings()
                start_response(
                    "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
                )
                return [data]
            invoke = _INVOKE_PATH.match(environ.get("PATH_INFO", ""))
            if invoke and environ["REQUEST_METHOD"] == "POST":
                spec = self.functions.find(unquote(invoke.group("name")))
                if spec is not None:
                    return self._lambda_invoke(environ, start_response, spec)
            if environ.get("PATH_INFO", "").startswith("/_api/"):
                return self.http_api.handle(environ, start_response)
            if environ.get("PATH_INFO") == "/_snaprace/health":
                return _respond(start_response, 200, self.health())
            if _CFN_SCOPE.search(environ.get("HTTP_AUTHORIZATION", "")):
                body = _read_body(environ)
                answered = self._cloudformation(parse_qs(body.decode()), start_response)
                if answered is not None:
                    return answered
                environ["wsgi.input"] = io.BytesIO(body)
        except Exception:
            log.exception("local stack endpoint")
            raise
        return self._moto(environ, start_response)

    def _count(self, environ, target: str) -> None:
        """The meter's request counts (DynamoDB units are counted where the answer is known)."""
        if target:
            service, _, operation = target.partition(".")
            self.meter.request(service, operation)
        elif _S3_SCOPE.search(environ.get("HTTP_AUTHORIZATION", "") + environ.get("QUERY_STRING", "")):
            self.meter.s3_request(
                environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
            )

    def _dynamodb_call(self, environ, start_response, operation: str):
        """moto's DynamoDB, with injected throttling and partly processed batch writes."""
        if self.faults.roll("dynamodb_throttles", self.faults.dynamodb_throttles):
            error = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
            return _respond(start_response, 400, {"__type": error, "message": "injected fault"})
        body = _read_body(environ)
        request = json.loads(body or b"{}")
        if operation != "BatchWriteItem" or self.faults.dynamodb_unprocessed <= 0:
            environ["wsgi.input"] = io.BytesIO(body)  # the request as sent, read once for the meter
            answer = list(self._moto(environ, start_response))
            self.meter.dynamodb(operation, request, sum(len(part) for part in answer))
            return answer
        kept, left = {}, {}
        for table, writes in request["RequestItems"].items():
            kept[table], left[table] = self.faults.split(writes)
        kept = {table: writes for table, writes in kept.items() if writes}
        left = {table: writes for table, writes in left.items() if writes}
        answer = {"UnprocessedItems": {}}
        if kept:
            body = json.dumps({**request, "RequestItems": kept}).encode()
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
            answer = json.loads(b"".join(self._moto(environ, lambda status, headers, exc_info=None: None)))
        self.meter.dynamodb(operation, {"RequestItems": kept}, 0)
        for table, writes in left.items():
            answer.setdefault("UnprocessedItems", {}).setdefault(table, []).extend(writes)
        data = json.dumps(answer).encode()
        start_response(  # DynamoDB answers carry a CRC32 of the body; botocore checks it
            "200 OK",
            [
                ("Content-Type", "application/x-amz-json-1.0"),
                ("Content-Length", str(len(data))),
                ("x-amz-crc32", str(zlib.crc32(data))),
            ],
        )
        return [data]

    def _rekognition_call(self, environ, start_response, operation: str):
        if self.faults.roll("rekognition_errors", self.faults.rekognition_errors):
            return _respond(
                start_response, 500, {"__type": "InternalServerError", "Message": "injected fault"}
            )
        if self.faults.roll("rekognition_throttles", self.faults.rekognition_throttles):
            error = {"__type": "ProvisionedThroughputExceededException", "Message": "injected fault"}
            return _respond(start_response, 400, error)
        try:
            request = json.loads(_read_body(environ) or b"{}")
            return _respond(start_response, 200, self.rekognition.handle(operation, request))
        except RekognitionError as exc:
            return _respond(start_response, exc.status, {"__type": exc.code, "Message": exc.message})
        except Exception:  # an emulator bug answers as Rekognition's own failure would
            log.exception("Rekognition emulator: %s", operation)
            return _respond(
                start_response, 500, {"__type": "InternalServerError", "Message": "emulator error"}
            )

    def _lambda_invoke(self, environ, start_response, spec):
        body = _read_body(environ)
        event = json.loads(body) if body else {}
        if environ.get("HTTP_X_AMZ_INVOCATION_TYPE") == "Event":
            self._spawn(lambda: self.functions.invoke(spec, event), f"async-{spec.name}")
            return _respond(start_response, 202, None)
        invocation = self.functions.invoke(spec, event)
        headers = [("X-Amz-Executed-Version", "$LATEST")]
        if invocation.error:
            headers.append(("X-Amz-Function-Error", "Unhandled"))
        if environ.get("HTTP_X_AMZ_LOG_TYPE") == "Tail":
            headers.append(("X-Amz-Log-Result", base64.b64encode(b"").decode()))
        return _respond(start_response, 200, invocation.payload, headers)

    def _cloudformation(self, form: dict, start_response):
        action = form.get("Action", [""])[0]
        if form.get("StackName", [""])[0] != self.stack_name or action not in (
            "DescribeStacks",
            "DescribeStackResources",
        ):
            return None
        stack_id = f"arn:aws:cloudformation:{self.region}:{LOCAL_ACCOUNT}:stack/{self.stack_name}/local"
        if action == "DescribeStacks":
            outputs = "".join(
                f"<member><OutputKey>{escape(k)}</OutputKey><OutputValue>{escape(v)}</OutputValue></member>"
                for k, v in self.outputs.items()
            )
            parameters = "".join(
                f"<member><ParameterKey>{escape(k)}</ParameterKey><ParameterValue>{escape(v)}</ParameterValue>"
                "</member>"
                for k, v in self.resolver.parameters.items()
            )
            inner = (
                f"<Stacks><member><StackName>{self.stack_name}</StackName><StackId>{stack_id}</StackId>"
                f"<Parameters>{parameters}</Parameters>"
                "<CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus>"
                f"<Outputs>{outputs}</Outputs></member></Stacks>"
            )
        else:
            members = "".join(
                f"<member><StackName>{self.stack_name}</StackName><StackId>{stack_id}</StackId>"
                f"<LogicalResourceId>{escape(logical)}</LogicalResourceId>"
                f"<PhysicalResourceId>{escape(str(physical))}</PhysicalResourceId>"
                f"<ResourceType>{escape(self.template['Resources'][logical]['Type'])}</ResourceType>"
                "<Timestamp>2026-01-01T00:00:00Z</Timestamp><ResourceStatus>CREATE_COMPLETE</ResourceStatus>"
                "</member>"
                for logical, physical in self.resolver.physical_ids.items()
            )
            inner = f"<StackResources>{members}</StackResources>"
        xml = (
            f'<{action}Response xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
            f"<{action}Result>{inner}</{action}Result>"
            "<ResponseMetadata><RequestId>local</RequestId></ResponseMetadata>"
            f"</{action}Response>"
        ).encode()
        start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(xml)))])
        return [xml]


def _read_body(environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def _respond(start_response, status: int, body, headers=()):
    data = b"" if body is None else json.dumps(body, default=str).encode()
    reasons = {200: "OK", 202: "Accepted", 400: "Bad Request", 500: "Internal Server Error"}
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data))), *headers],
    )
    return [data]


def _sqs_record(message: dict, queue_arn: str, region: str) -> dict:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
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


def default_log_file() -> Path:
    return ROOT / ".snaprace" / "local.log"
