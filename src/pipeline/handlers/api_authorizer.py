"""ApiAuthorizerFunction: the search API's key check (HTTP API Lambda authorizer, simple responses).

Two kinds of key (pipeline.access.org_keys): the operator's, in Secrets Manager
({stage}/image-rekognition/api-key, cached 5 minutes by Powertools Parameters), opens every org;
an organiser's (`snaprace org-key create`) opens its org's events only, checked against its hash
in the table. The caller goes to the API as the authorizer's context; each route checks the org
in its path. API Gateway caches a decision for ReauthorizeEvery (300 s, template.yaml): a revoked
key stops working within 5 minutes. API Gateway answers 401 itself when x-api-key is missing, 403
when this says no. No key and no path is ever logged.
"""

import hmac
import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities import parameters

from pipeline.access import org_keys as access
from pipeline.common import clients
from pipeline.common.config import get_config
from pipeline.store import Store

logger = Logger()
KEY_CACHE_SECONDS = 300


def current_key() -> str:
    return parameters.get_secret(os.environ["API_KEY_SECRET_NAME"], max_age=KEY_CACHE_SECONDS)


def caller_for(given: str) -> access.Caller | None:
    if given and hmac.compare_digest(given.encode(), current_key().encode()):
        return access.Caller(access.OPERATOR)
    parsed = access.parse_org_key(given)
    if parsed is None:
        return None
    org_id, key_id, secret = parsed
    record = Store(clients.dynamodb_table(get_config().table_name)).org_keys.get(org_id, key_id)
    return (
        access.Caller(access.ORGANISER, org_id, key_id)
        if access.organiser_key_matches(record, secret)
        else None
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict, context) -> dict:
    caller = caller_for((event.get("headers") or {}).get("x-api-key", ""))
    if caller is None:
        logger.warning("API key refused", extra={"routeKey": event.get("routeKey")})
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": caller.as_context()}
