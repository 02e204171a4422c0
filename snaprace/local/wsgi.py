"""Small WSGI helpers the local endpoint's parts share: read a request body once, answer JSON."""

import json


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
