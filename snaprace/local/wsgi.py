"""Small WSGI helpers the local endpoint's parts share: read a request body once, answer JSON or
S3's XML error."""

import json
import uuid
from xml.sax.saxutils import escape


def read_body(environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def respond(start_response, status: int, body, headers=()) -> list[bytes]:
    """A JSON answer (AWS's JSON protocols: application/x-amz-json-1.1)."""
    data = b"" if body is None else json.dumps(body, default=str).encode()
    reasons = {
        200: "OK",
        202: "Accepted",
        204: "No Content",
        400: "Bad Request",
        500: "Internal Server Error",
    }
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data))), *headers],
    )
    return [data]


def respond_bytes(start_response, data: bytes, content_type: str, headers=()) -> list[bytes]:
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(data))), *headers])
    return [data]


def s3_error(start_response, status: str, code: str, message: str, environ) -> list[bytes]:
    """S3's error answer: XML with the code, the message and a request id (no body for HEAD)."""
    request_id = str(uuid.uuid4())
    data = (
        b""
        if environ["REQUEST_METHOD"] == "HEAD"
        else (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
    )
    headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    start_response(status, [*headers, ("Content-Length", str(len(data)))])
    return [data]
