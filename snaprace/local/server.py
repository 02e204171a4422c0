"""The local stack's one endpoint. In front of moto sit, by route:

- operator paths: /_snaprace/health, /_snaprace/faults, /_snaprace/meter (never signed);
- every signed request: the meter, then the IAM gate (snaprace.local.authorization);
- by X-Amz-Target: DynamoDB (with injected faults), Rekognition (the emulator), Step Functions'
  StartExecution (injected faults), SQS message move tasks (moto lacks them), Service Quotas for
  Rekognition (snaprace.local.account);
- by path: Lambda Invoke of a template function (moto's Step Functions interpreter invokes Task
  resources through it), Lambda's account settings, the HTTP API at /_api/{ApiId};
- CloudFormation DescribeStacks/DescribeStackResources for the stack's own name.
Anything else, or a handler that declines (None), goes on to moto.
"""

import base64
import io
import json
import logging
import re
import threading
import zlib
from urllib.parse import parse_qs, unquote

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from pipeline.search.selfie import LAMBDA_PAYLOAD_BYTES
from snaprace.local import account, cloudformation, iam_requests
from snaprace.local.rekognition import ENGINE_MS_HEADER, RekognitionError
from snaprace.local.wsgi import read_body, respond, respond_bytes, s3_error
from snaprace.template import LOCAL_ACCOUNT

log = logging.getLogger("snaprace.local")
_S3_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/s3/aws4_request|X-Amz-Credential=[^&]+%2Fs3%2F")
_CFN_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/cloudformation/aws4_request")
_OPERATOR_PATHS = ("health", "faults", "meter")
MAX_S3_KEY_BYTES = 1024  # S3: "The key name can be up to 1,024 bytes long" (UTF-8)


class Endpoint:
    def __init__(self, stack, moto_app):
        self.stack, self.moto = stack, moto_app
        self.paths = Map(
            [
                Rule("/_snaprace/health", endpoint="health"),
                Rule("/_snaprace/faults", endpoint="faults"),
                Rule("/_snaprace/meter", endpoint="meter"),
                Rule("/2015-03-31/functions/<name>/invocations", methods=["POST"], endpoint="invoke"),
                Rule(account.ACCOUNT_SETTINGS_PATH, endpoint="account_settings", strict_slashes=False),
                Rule("/_api/<path:rest>", endpoint="http_api"),
            ]
        )
        self.targets = {
            "DynamoDB_20120810": self._dynamodb,
            "RekognitionService": self._rekognition,
            "AWSStepFunctions": self._step_functions,
            "AmazonSQS": self._sqs,
            "ServiceQuotasV20190624": self._service_quotas,
        }

    def __call__(self, environ, start_response):
        try:
            route, arguments = self._route(environ)
            if route in _OPERATOR_PATHS:
                return getattr(self, f"_{route}")(environ, start_response)
            refused = self._over_limits(environ, start_response)
            if refused is not None:
                return refused
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            self._count(environ, target)
            if self.stack.authorizer is not None:
                denied = self.stack.authorizer.check(environ, start_response, self.moto)
                if denied is not None:
                    return denied
            service, _, operation = target.partition(".")
            if service in self.targets:
                answer = self.targets[service](environ, start_response, operation)
                if answer is not None:
                    return answer
            if route is not None:
                answer = getattr(self, f"_{route}")(environ, start_response, **arguments)
                if answer is not None:
                    return answer
            if _CFN_SCOPE.search(environ.get("HTTP_AUTHORIZATION", "")):
                body = read_body(environ)
                environ["wsgi.input"] = io.BytesIO(body)
                xml = cloudformation.answer(parse_qs(body.decode()), self.stack)
                if xml is not None:
                    return respond_bytes(start_response, xml, "text/xml")
        except Exception:
            log.exception("local stack endpoint")
            raise
        return self.moto(environ, start_response)

    def _over_limits(self, environ, start_response):
        """What AWS refuses before any service sees it: an S3 key over 1,024 bytes, a Lambda
        invocation over 6 MB."""
        signed = iam_requests.signing(environ)
        if (
            signed
            and signed[1] == "s3"
            and len(iam_requests.bucket_and_key(environ)[1].encode()) > MAX_S3_KEY_BYTES
        ):
            return s3_error(
                start_response, "400 Bad Request", "KeyTooLongError", "Your key is too long", environ
            )
        if (
            environ.get("PATH_INFO", "").startswith("/2015-03-31/functions/")
            and int(environ.get("CONTENT_LENGTH") or 0) > LAMBDA_PAYLOAD_BYTES
        ):
            message = (
                f"Request must be smaller than {LAMBDA_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
            )
            return respond(
                start_response,
                413,
                {"Type": "User", "message": message},
                [("x-amzn-ErrorType", "RequestTooLargeException")],
            )
        return None

    def _route(self, environ) -> tuple[str | None, dict]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_api/"):  # any path: werkzeug's <path> stops at a newline, API Gateway does not
            return "http_api", {"rest": path[len("/_api/") :]}
        try:
            return self.paths.bind_to_environ(environ).match()
        except HTTPException:  # no route of ours: moto's
            return None, {}

    # ---------------------------------------------------------------- operator paths

    def _health(self, environ, start_response):
        return respond(start_response, 200, self.stack.health())

    def _faults(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            try:
                self.stack.faults.configure(json.loads(read_body(environ) or b"{}"))
            except (ValueError, TypeError) as exc:
                return respond(start_response, 400, {"message": str(exc)})
        return respond(start_response, 200, self.stack.faults.describe())

    def _meter(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            self.stack.meter.reset()
        return respond(start_response, 200, self.stack.meter.describe())

    def _count(self, environ, target: str) -> None:
        """The meter's request counts (DynamoDB units are counted where the answer is known)."""
        if target:
            service, _, operation = target.partition(".")
            signed = iam_requests.signing(environ)
            self.stack.meter.request(service, operation, self.stack.caller_of(signed[0]) if signed else None)
        elif _S3_SCOPE.search(environ.get("HTTP_AUTHORIZATION", "") + environ.get("QUERY_STRING", "")):
            self.stack.meter.s3_request(
                environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
            )

    # ---------------------------------------------------------------- by target

    def _dynamodb(self, environ, start_response, operation: str):
        """moto's DynamoDB, with injected throttling and partly processed batch writes."""
        faults, meter = self.stack.faults, self.stack.meter
        if faults.roll("dynamodb_throttles", faults.dynamodb_throttles):
            error = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
            return respond(start_response, 400, {"__type": error, "message": "injected fault"})
        body = read_body(environ)
        request = json.loads(body or b"{}")
        if operation != "BatchWriteItem" or faults.dynamodb_unprocessed <= 0:
            environ["wsgi.input"] = io.BytesIO(body)  # the request as sent, read once for the meter
            answer = list(self.moto(environ, start_response))
            meter.dynamodb(operation, request, sum(len(part) for part in answer))
            return answer
        kept, left = {}, {}
        for table, writes in request["RequestItems"].items():
            kept[table], left[table] = faults.split(writes)
        kept = {table: writes for table, writes in kept.items() if writes}
        left = {table: writes for table, writes in left.items() if writes}
        answer = {"UnprocessedItems": {}}
        if kept:
            body = json.dumps({**request, "RequestItems": kept}).encode()
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
            answer = json.loads(b"".join(self.moto(environ, lambda status, headers, exc_info=None: None)))
        meter.dynamodb(operation, {"RequestItems": kept}, 0)
        for table, writes in left.items():
            answer.setdefault("UnprocessedItems", {}).setdefault(table, []).extend(writes)
        data = json.dumps(answer).encode()
        # DynamoDB answers carry a CRC32 of the body; botocore checks it
        return respond_bytes(
            start_response, data, "application/x-amz-json-1.0", [("x-amz-crc32", str(zlib.crc32(data)))]
        )

    def _rekognition(self, environ, start_response, operation: str):
        faults = self.stack.faults
        if faults.roll("rekognition_errors", faults.rekognition_errors):
            return respond(
                start_response, 500, {"__type": "InternalServerError", "Message": "injected fault"}
            )
        if faults.roll("rekognition_throttles", faults.rekognition_throttles):
            error = {"__type": "ProvisionedThroughputExceededException", "Message": "injected fault"}
            return respond(start_response, 400, error)
        try:
            request = json.loads(read_body(environ) or b"{}")
            answer = self.stack.rekognition.handle(operation, request)
            spent = f"{self.stack.rekognition.engine_seconds() * 1000:.0f}"
            return respond(start_response, 200, answer, [(ENGINE_MS_HEADER, spent)])
        except RekognitionError as exc:
            spent = f"{self.stack.rekognition.engine_seconds() * 1000:.0f}"
            error = {"__type": exc.code, "Message": exc.message}
            return respond(start_response, exc.status, error, [(ENGINE_MS_HEADER, spent)])
        except Exception:  # an emulator bug answers as Rekognition's own failure would
            log.exception("Rekognition emulator: %s", operation)
            spent = f"{self.stack.rekognition.engine_seconds() * 1000:.0f}"
            return respond(
                start_response,
                500,
                {"__type": "InternalServerError", "Message": "emulator error"},
                [(ENGINE_MS_HEADER, spent)],
            )

    def _step_functions(self, environ, start_response, operation: str):
        faults = self.stack.faults
        if operation == "StartExecution" and faults.roll(
            "start_execution_errors", faults.start_execution_errors
        ):
            return respond(start_response, 500, {"__type": "ServiceUnavailable", "message": "injected fault"})
        return None

    def _sqs(self, environ, start_response, operation: str):
        if operation in ("StartMessageMoveTask", "ListMessageMoveTasks"):
            request = json.loads(read_body(environ) or b"{}")
            return respond(start_response, 200, self.stack.move_tasks.handle(operation, request))
        return None

    def _service_quotas(self, environ, start_response, operation: str):
        body = read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        if operation.startswith("List") and json.loads(body or b"{}").get("ServiceCode") == "rekognition":
            quotas = account.rekognition_quotas(self.stack.rekognition_tps, self.stack.region, LOCAL_ACCOUNT)
            return respond(start_response, 200, quotas)
        return None

    # ---------------------------------------------------------------- by path

    def _invoke(self, environ, start_response, name: str):
        spec = self.stack.functions.find(unquote(name))
        if spec is None:
            return None
        body = read_body(environ)
        event = json.loads(body) if body else {}
        if environ.get("HTTP_X_AMZ_INVOCATION_TYPE") == "Event":
            threading.Thread(target=lambda: self.stack.functions.invoke(spec, event), daemon=True).start()
            return respond(start_response, 202, None)
        invocation = self.stack.functions.invoke(spec, event)
        headers = [("X-Amz-Executed-Version", "$LATEST")]
        if invocation.error:
            headers.append(("X-Amz-Function-Error", "Unhandled"))
        if environ.get("HTTP_X_AMZ_LOG_TYPE") == "Tail":
            headers.append(("X-Amz-Log-Result", base64.b64encode(b"").decode()))
        return respond(start_response, 200, invocation.payload, headers)

    def _account_settings(self, environ, start_response):
        return respond_bytes(start_response, account.lambda_account_settings(), "application/json")

    def _http_api(self, environ, start_response, rest: str):
        return self.stack.http_api.handle(environ, start_response)
