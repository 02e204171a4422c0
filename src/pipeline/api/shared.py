"""What the search API and the organiser API share: one Powertools Router of the answers every
route may give for an error (each API includes its own, `shared_router()`), and the guards every
route starts with: valid ids of an org the caller's key opens, a page limit, then a typed JSON body
(`body_of`: read by the route after the caller is known, not by the resolver's validation, which
would parse it first, decide by content type, and fail on a body that is not UTF-8).
Every answer leaves with API_HEADERS (pipeline.api.web)."""

import json
from collections.abc import Sequence

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, ForbiddenError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from pipeline.access.org_keys import Caller
from pipeline.access.ratelimit import RateLimited
from pipeline.api import web
from pipeline.common import keys
from pipeline.common.errors import BadRequest, InvalidKey, RekognitionThrottled, RekognitionUnavailable

MAX_PAGE = 100
MAX_BODY_CHARS = 4096  # the organiser API's largest body (a correction of 20 bibs) is far below


def message(status: int, text: str, **headers: str) -> Response:
    return Response(status, "application/json", json.dumps({"message": text}), headers=headers or None)


def shared_router() -> Router:
    router = Router()

    @router.exception_handler(BadRequest)
    def bad_request(exc: BadRequest) -> Response:
        return message(400, str(exc))

    @router.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response:
        """What the description requires and the request lacks: a 400 with the names, as every
        other refusal (the resolver's own would be a 422 without a message)."""
        needs = missing(exc.errors()) or "what /openapi.json describes"
        return message(400, f"the request needs {needs}: see /openapi.json")

    @router.exception_handler(web.UnsupportedMediaType)
    def unsupported_media_type(exc: web.UnsupportedMediaType) -> Response:
        return message(415, str(exc))

    @router.exception_handler(RateLimited)
    def rate_limited(exc: RateLimited) -> Response:
        return message(429, str(exc), **{"Retry-After": str(exc.retry_after)})

    @router.exception_handler([RekognitionThrottled, RekognitionUnavailable])
    def busy(_exc: Exception) -> Response:
        """Rekognition's quota is spent, or it failed (5xx, unreachable): the caller may retry. Not
        a 500: the APIs' 5xx alarm counts these 503s, their errors alarm counts only our bugs."""
        return message(503, "busy: try again in a few seconds", **{"Retry-After": "2"})

    return router


def missing(errors: Sequence) -> str:
    """The parts of a request its model refused (header, query, path, body field), by name."""
    names = set()
    for error in errors:
        where = tuple(error.get("loc") or ()) if isinstance(error, dict) else ()
        if isinstance(error, dict) and error.get("type") == "json_invalid":
            names.add("the body (not JSON)")
        elif len(where) > 1 and where[0] in ("header", "query", "path", "body"):
            names.add(str(where[-1]) if where[0] != "body" else ".".join(map(str, where[1:])))
    return ", ".join(sorted(names))


def checked_ids(org_id: str, event_id: str) -> None:
    try:
        keys.validate_event_ids(org_id, event_id)
    except InvalidKey as exc:
        raise BadRequestError(str(exc)) from None


def caller_of(app: BaseRouter, org_id: str, event_id: str) -> Caller:
    """Valid ids, of an org this caller's key opens (ApiAuthorizerFunction passed the key's org on,
    pipeline.access.org_keys); 400 or 403 otherwise."""
    checked_ids(org_id, event_id)
    authorizer = app.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}
    caller = Caller.from_context(authorizer.get("lambda") or {})
    if caller is None or not caller.reaches(org_id):
        raise ForbiddenError(f"this key does not open org {org_id!r}")
    return caller


def page_limit(raw: str) -> int:
    """A page size from a query string: 1 to MAX_PAGE. Not str.isdigit: "²" and 5,000 digits are digits."""
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 3):
        raise BadRequestError(f"limit must be a whole number between 1 and {MAX_PAGE}")
    if not 1 <= int(raw) <= MAX_PAGE:
        raise BadRequestError(f"limit must be between 1 and {MAX_PAGE}")
    return int(raw)


def body_of[Model: BaseModel](app: BaseRouter, model: type[Model]) -> Model:
    """The request's JSON body as `model` (pydantic, strict), read after the route's guards: any
    content type (the page sends JSON; curl's default form type too), any encoding API Gateway
    used. A 400 names the model's fields that are wrong and says what each takes; it never repeats
    the caller's input (an unknown field is counted, not named)."""
    try:
        parsed = json.loads(app.current_event.decoded_body or "")
    except (ValueError, RecursionError):  # not JSON, not UTF-8, bad base64, nested thousands deep
        parsed = None
    if not isinstance(parsed, dict):
        raise BadRequestError(f"the body: {what_it_takes(model)}")
    try:
        return model.model_validate(parsed)
    except ValidationError as exc:
        known = sorted(
            {str(e["loc"][0]) for e in exc.errors() if e["loc"] and e["loc"][0] in model.model_fields}
        )
        unknown = sum(1 for e in exc.errors() if e["type"] == "extra_forbidden")
        wrong = known + ([f"{unknown} field(s) it does not have"] if unknown else [])
        raise BadRequestError(f"{', '.join(wrong)}: {what_it_takes(model)}") from None


def what_it_takes(model: type[BaseModel]) -> str:
    """The body a model wants: its fields, and what each takes (the model's docstring)."""
    what = " ".join((model.__doc__ or "").split())
    return f"send a JSON object with some of {', '.join(model.model_fields)} ({what})"


def respond(app, event: dict, context, max_body: int | None = None) -> dict:
    """The route's answer with API_HEADERS. `max_body`: a larger body is refused before anything
    reads it (413): no request of that API needs more, and parsing it would cost for nothing."""
    if max_body is not None and len(event.get("body") or "") > max_body:
        answer = {"statusCode": 413, "headers": {"Content-Type": "application/json"}}
        answer["body"] = json.dumps({"message": f"the body is larger than {max_body} characters"})
        return web.with_api_headers(answer)
    return web.with_api_headers(app.resolve(event, context))
