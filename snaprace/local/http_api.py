"""The template's HTTP APIs (AWS::Serverless::HttpApi) served at {endpoint}/_api/{ApiLogicalId}.

Routes come from the functions' `HttpApi` events; the API's default Lambda authorizer (payload 2.0,
simple responses) is invoked first with the identity headers it names. Requests and responses are
API Gateway's payload format 2.0: a missing identity header is 401, an authorizer "no" is 403, a
function error is 500, binary bodies arrive base64-encoded. Not emulated: stage throttling and the
authorizer result cache (every request is authorized).
"""

import base64
import json
import re
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs

from pipeline.search.selfie import LAMBDA_PAYLOAD_BYTES  # the event API Gateway builds must fit
from snaprace.template import LOCAL_ACCOUNT, resources_of_type

_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")
MAX_BODY_BYTES = 10 * 1024 * 1024  # HTTP API's payload quota: beyond it API Gateway answers 413


def _respond(start_response, status: int, body: bytes, headers: dict) -> list[bytes]:
    reasons = {
        200: "OK",
        204: "No Content",
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        413: "Payload Too Large",
    }
    start_response(
        f"{status} {reasons.get(status, 'Status')}",
        [*headers.items(), ("Content-Length", str(len(body)))],
    )
    return [body]


def _message(start_response, status: int, message: str) -> list[bytes]:
    return _respond(
        start_response,
        status,
        json.dumps({"message": message}).encode(),
        {"Content-Type": "application/json"},
    )


class HttpApiGateway:
    def __init__(self, resolver, specs: dict, functions):
        self.functions, self.region = functions, resolver.region
        self.apis = {}
        for logical_id in resources_of_type(resolver.template, "AWS::Serverless::HttpApi"):
            properties = resolver.resource_properties(logical_id)
            auth = properties.get("Auth", {})
            authorizer = auth.get("Authorizers", {}).get(auth.get("DefaultAuthorizer", ""), {})
            self.apis[logical_id] = {
                "routes": [],
                "authorizer": functions.find(authorizer["FunctionArn"]) if authorizer else None,
                "identity": [h.lower() for h in authorizer.get("Identity", {}).get("Headers", [])],
                "cors": properties.get("CorsConfiguration", {}),
            }
        for spec in specs.values():
            for event in spec.events.values():
                if event.get("Type") != "HttpApi":
                    continue
                route = event["Properties"]
                pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route["Path"])
                public = route.get("Auth", {}).get("Authorizer") == "NONE"  # a route without the authorizer
                self.apis[route["ApiId"]]["routes"].append(
                    (route["Method"].upper(), re.compile(f"^{pattern}$"), route["Path"], spec, public)
                )

    def handle(self, environ, start_response):
        _, _, api_id, path = environ["PATH_INFO"].split("/", 3)
        api = self.apis.get(api_id)
        if api is None:
            return _message(start_response, 404, "Not Found")
        path, method = "/" + path, environ["REQUEST_METHOD"]
        raw_uri = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").split("?", 1)[0]
        raw_path = "/" + raw_uri.split("/", 3)[3] if raw_uri.count("/") >= 3 else path  # still %-encoded
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        cors = self._cors_headers(api, headers)
        if method == "OPTIONS" and "access-control-request-method" in headers:
            return _respond(start_response, 204, b"", cors)
        route = next(
            (
                (template_path, spec, found.groupdict(), public)
                for route_method, pattern, template_path, spec, public in api["routes"]
                if route_method == method and (found := pattern.match(path))
            ),
            None,
        )
        if route is None:
            return _message(start_response, 404, "Not Found")
        template_path, spec, parameters, public = route
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            return _message(start_response, 413, f"HTTP content length exceeded {MAX_BODY_BYTES} bytes.")
        body = environ["wsgi.input"].read(length) if length else b""
        event = self._event(api_id, method, raw_path, template_path, headers, environ, body, parameters)
        if (
            len(json.dumps(event)) > LAMBDA_PAYLOAD_BYTES
        ):  # Lambda refuses the invocation; the caller sees 413
            return _message(start_response, 413, "Request Too Long")
        if api["authorizer"] is not None and not public:
            if any(not headers.get(name) for name in api["identity"]):
                return _message(start_response, 401, "Unauthorized")
            decision = self.functions.invoke(api["authorizer"], self._authorizer_event(event, api))
            if decision.error:
                return _message(start_response, 500, "Internal Server Error")
            if not decision.payload.get("isAuthorized"):
                return _message(start_response, 403, "Forbidden")
            event["requestContext"]["authorizer"] = {"lambda": decision.payload.get("context") or {}}
        invocation = self.functions.invoke(spec, event)
        if invocation.error:
            return _message(start_response, 500, "Internal Server Error")
        return self._response(start_response, invocation.payload, cors)

    def _cors_headers(self, api: dict, headers: dict) -> dict:
        origin, allowed = headers.get("origin"), api["cors"].get("AllowOrigins", [])
        if isinstance(allowed, str):
            allowed = [allowed]
        if not origin or not ("*" in allowed or origin in allowed):
            return {}
        return {
            "Access-Control-Allow-Origin": "*" if "*" in allowed else origin,
            "Access-Control-Allow-Methods": ",".join(api["cors"].get("AllowMethods", [])),
            "Access-Control-Allow-Headers": ",".join(api["cors"].get("AllowHeaders", [])),
        }

    def _event(self, api_id, method, path, template_path, headers, environ, body, parameters) -> dict:
        query = environ.get("QUERY_STRING", "")
        text = headers.get("content-type", "application/json").startswith(_TEXT_TYPES)
        now = time.time()
        event = {
            "version": "2.0",
            "routeKey": f"{method} {template_path}",
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": LOCAL_ACCOUNT,
                "apiId": api_id,
                "domainName": headers.get("host", "127.0.0.1"),
                "domainPrefix": api_id,
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": environ.get("REMOTE_ADDR") or "127.0.0.1",  # as API Gateway: the caller
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": f"{method} {template_path}",
                "stage": "$default",
                "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now * 1000),
            },
            "pathParameters": parameters,
            "isBase64Encoded": bool(body) and not text,
        }
        if query:
            event["queryStringParameters"] = {k: ",".join(v) for k, v in parse_qs(query).items()}
        if body:
            event["body"] = body.decode("utf-8", "replace") if text else base64.b64encode(body).decode()
        return event

    def _authorizer_event(self, event: dict, api: dict) -> dict:
        context = event["requestContext"]
        return {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": f"arn:aws:execute-api:{self.region}:{LOCAL_ACCOUNT}:{context['apiId']}/$default/"
            f"{context['http']['method']}{context['http']['path']}",
            "identitySource": [event["headers"][name] for name in api["identity"]],
            **{k: event[k] for k in ("routeKey", "rawPath", "rawQueryString", "headers", "requestContext")},
            **(
                {"queryStringParameters": event["queryStringParameters"]}
                if "queryStringParameters" in event
                else {}
            ),
            "pathParameters": event["pathParameters"],
        }

    def _response(self, start_response, payload, cors: dict):
        if not isinstance(payload, dict) or "statusCode" not in payload:  # API Gateway's shortcut format
            payload = {
                "statusCode": 200,
                "body": json.dumps(payload),
                "headers": {"content-type": "application/json"},
            }
        body = payload.get("body") or ""
        data = base64.b64decode(body) if payload.get("isBase64Encoded") else body.encode()
        headers = {**{k: str(v) for k, v in (payload.get("headers") or {}).items()}, **cors}
        for name, values in (payload.get("multiValueHeaders") or {}).items():
            headers[name] = ",".join(values)
        return _respond(start_response, int(payload["statusCode"]), data, headers)
