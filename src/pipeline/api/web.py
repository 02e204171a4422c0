"""What every HTTP answer of the stack carries, and what a browser's request must show to be served.

Every API answer is `no-store` (bib searches, galleries and selfie searches hold presigned URLs
that grant their photos for 15 minutes; settings and progress are the organiser's) and `nosniff`.
A public search must come from a page that may call the API: a GET carries `x-snaprace-client`,
a POST has a JSON or image content type. Neither is a "simple" request, so a browser asks the API
first (a CORS preflight), and the API allows no other origin unless CorsOrigins lists it: a third-
party page cannot make its visitors spend our Rekognition quota. The pages' Content-Security-Policy
allows images from this origin and the photo bucket's host only.
"""

import base64
import json
import os

from aws_lambda_powertools.event_handler.exceptions import BadRequestError

CLIENT_HEADER = "x-snaprace-client"  # any value; the runner page sends "runner-page"
JSON_OR_IMAGE = ("application/json", "image/jpeg", "image/png")
API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class UnsupportedMediaType(Exception):
    """A public POST a cross-site page could have sent without asking (no preflight)."""


def content_type(headers: dict | None) -> str:
    return (headers or {}).get("content-type", "").split(";")[0].strip().lower()


def check_selfie_request(headers: dict | None) -> None:
    """UnsupportedMediaType unless the selfie POST is one a browser sends only after a preflight (a
    public GET's CLIENT_HEADER is a required parameter of its route: pipeline.api.models.ClientHeader)."""
    if content_type(headers) not in JSON_OR_IMAGE:
        raise UnsupportedMediaType("send the selfie as application/json, or as image/jpeg or image/png")


def with_api_headers(response: dict) -> dict:
    """An API Gateway answer (payload 2.0) with API_HEADERS added, error answers included."""
    response["headers"] = {**(response.get("headers") or {}), **API_HEADERS}
    return response


def bucket_hosts(bucket: str, region: str | None = None) -> str:
    """Where presigned photo URLs point on AWS (virtual-hosted, the bucket's region; pipeline.common.clients):
    botocore names us-east-1's buckets on the global host."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    regional = f"https://{bucket}.s3.{region}.amazonaws.com"
    return f"{regional} https://{bucket}.s3.amazonaws.com" if region == "us-east-1" else regional


def page_headers(bucket: str) -> dict:
    """The pages' security headers: only this origin's scripts, styles and API, photos from this
    origin (the local stack serves S3 on it) and the bucket's host, no framing, no Referer."""
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; img-src 'self' {bucket_hosts(bucket)} blob: data:; connect-src 'self'; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # a runner link's page URL never leaves in a Referer
    }


def selfie_of(event, consent: str | None) -> bytes:
    """The selfie's bytes from a selfie search request (JSON with base64, or the image itself with
    ?consent=true); 400 or 415 with what to send."""
    check_selfie_request(event.headers)
    content_type_ = content_type(event.headers)
    if content_type_ in ("image/jpeg", "image/png"):
        if consent != "true":
            raise BadRequestError("consent=true is required: the selfie is compared with the event's photos")
        body = event.body or ""
        try:
            return base64.b64decode(body) if event.is_base64_encoded else body.encode("latin-1")
        except ValueError:  # binascii.Error, non-ASCII base64, a character no byte holds
            raise BadRequestError("the body must be the image's bytes") from None
    try:
        body = json.loads(event.decoded_body or "")
    except (ValueError, TypeError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise BadRequestError(
            'send {"consent": true, "image": "<base64 JPEG or PNG>"}, or the image'
        ) from None
    if not isinstance(body, dict) or body.get("consent") is not True:
        raise BadRequestError("consent must be true: the selfie is compared with the event's photos")
    try:
        return base64.b64decode(body.get("image") or "", validate=True)
    except (ValueError, TypeError):  # binascii.Error is a ValueError, as is a non-ASCII string
        raise BadRequestError("image must be base64") from None
