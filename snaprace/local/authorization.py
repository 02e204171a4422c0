"""The local endpoint's IAM gate: every request signed with a role's key is authorised against
that role before anything serves it, and refused as the service itself refuses it (its error code,
status and shape), with a log line naming the missing action and resource.

DeleteObjects is authorised per key, as S3 does: the keys the role may delete are deleted, the
others come back as AccessDenied errors in the result.
"""

import io
import json
import logging
import re
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from snaprace.local import iam_requests
from snaprace.local.iam import STATE_MACHINE_TASK_KEY, Role
from snaprace.local.wsgi import read_body, s3_error

log = logging.getLogger("snaprace.local.iam")
_JSON_DENIED = {  # how each JSON service names the refusal (botocore reads the part after '#')
    "dynamodb": "com.amazon.coral.service#AccessDeniedException",
    "sqs": "com.amazonaws.sqs#AccessDenied",
}


class Authorizer:
    def __init__(self, roles: dict[str, Role], account: iam_requests.Account):
        self.account = account
        self.roles = roles
        self.by_key = {role.access_key: role for role in roles.values()}
        machines = [role for role in roles.values() if role.role_name.endswith("StateMachineRole")]
        if len(machines) == 1:  # moto's interpreter runs every state machine's tasks with one key
            self.by_key[STATE_MACHINE_TASK_KEY] = machines[0]
        self.denials: list[str] = []

    def role_for(self, environ) -> tuple[Role | None, str]:
        signed = iam_requests.signing(environ)
        if signed is None:
            return None, ""
        access_key, service = signed
        return self.by_key.get(access_key), service

    def check(self, environ, start_response, moto_app: Callable):
        """None when the request may go on (environ's body is left readable); otherwise the
        service's AccessDenied answer."""
        role, service = self.role_for(environ)
        if role is None:
            return None
        body = b""
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        partial_delete = (
            service == "s3"
            and environ["REQUEST_METHOD"] == "POST"
            and "delete" in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        )
        if target or partial_delete or service not in ("s3",):
            body = read_body(environ)
            environ["wsgi.input"] = io.BytesIO(body)
        pairs = iam_requests.required(environ, body, service, self.account)
        decisions = [role.decide(action, resource) for action, resource in pairs]
        refused = [d for d in decisions if not d.allowed]
        if not refused:
            return None
        for decision in refused:
            message = role.denial_message(decision)
            self.denials.append(message)
            log.warning("AccessDenied: %s", message)
        if partial_delete:
            return self._delete_objects(environ, start_response, moto_app, body, refused)
        if service == "rekognition" and all(d.action.startswith("s3:") for d in refused):
            # Rekognition answers a caller that cannot read the image with its own error
            message = (
                "Unable to get object metadata from S3. Check object key, region and/or access permissions."
            )
            data = json.dumps({"__type": "InvalidS3ObjectException", "Message": message}).encode()
            start_response(
                "400 Bad Request",
                [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data)))],
            )
            return [data]
        return _denied(start_response, service, target, role.denial_message(refused[0]), environ)

    def _delete_objects(self, environ, start_response, moto_app, body: bytes, refused) -> list[bytes]:
        denied_arns = {d.resource for d in refused}
        bucket_arn = refused[0].resource.split("/", 1)[0]
        keys = iam_requests.s3_delete_keys(body)
        allowed = [(k, v) for k, v in keys if f"{bucket_arn}/{k}" not in denied_arns]
        deleted_xml, errors_xml = b"", ""
        if allowed:
            request = "".join(
                f"<Object><Key>{escape(k)}</Key>"
                + (f"<VersionId>{escape(v)}</VersionId>" if v else "")
                + "</Object>"
                for k, v in allowed
            )
            quiet = b"<Quiet>true</Quiet>" in body
            new_body = (
                '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                + ("<Quiet>true</Quiet>" if quiet else "")
                + request
                + "</Delete>"
            ).encode()
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(new_body), str(len(new_body))
            for header in list(environ):
                if header in ("HTTP_CONTENT_MD5",) or header.startswith("HTTP_X_AMZ_CHECKSUM"):
                    environ.pop(header)
            answer = b"".join(moto_app(environ, lambda status, headers, exc_info=None: None))
            inner = re.search(rb"<DeleteResult[^>]*>(.*)</DeleteResult>", answer, re.DOTALL)
            deleted_xml = inner.group(1) if inner else b""
        for key, _version in keys:
            if f"{bucket_arn}/{key}" in denied_arns:
                errors_xml += (
                    f"<Error><Key>{escape(key)}</Key><Code>AccessDenied</Code>"
                    "<Message>Access Denied</Message></Error>"
                )
        data = (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            + deleted_xml
            + errors_xml.encode()
            + b"</DeleteResult>"
        )
        start_response("200 OK", [("Content-Type", "application/xml"), ("Content-Length", str(len(data)))])
        return [data]


def _denied(start_response, service: str, target: str, message: str, environ) -> list[bytes]:
    request_id = str(uuid.uuid4())
    if service == "s3":
        return s3_error(start_response, "403 Forbidden", "AccessDenied", message, environ)
    if service == "lambda":
        data = json.dumps({"Type": "User", "Message": message}).encode()
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException")]
        start_response("403 Forbidden", [*headers, ("Content-Length", str(len(data)))])
        return [data]
    if target:
        code = _JSON_DENIED.get(service, "AccessDeniedException")
        data = json.dumps({"__type": code, "message": message, "Message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", request_id)]
        if service == "sqs":  # SQS's JSON protocol keeps its query-protocol error code
            headers.append(("x-amzn-query-error", "AccessDenied;Sender"))
        status = "403 Forbidden" if service == "sqs" else "400 Bad Request"
        start_response(status, [*headers, ("Content-Length", str(len(data)))])
        return [data]
    data = (
        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    start_response("403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))])
    return [data]
