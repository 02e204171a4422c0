"""ApiAuthorizerFunction: the search API's key check (HTTP API Lambda authorizer, simple responses).

The key lives in Secrets Manager ({stage}/image-rekognition/api-key); Powertools Parameters caches
it for 5 minutes. API Gateway answers 401 itself when the x-api-key header is missing, 403 when
this says no. The key is never logged.
"""

import hmac
import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities import parameters

logger = Logger()
KEY_CACHE_SECONDS = 300


def current_key() -> str:
    return parameters.get_secret(os.environ["API_KEY_SECRET_NAME"], max_age=KEY_CACHE_SECONDS)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict, context) -> dict:
    given = (event.get("headers") or {}).get("x-api-key", "")
    allowed = bool(given) and hmac.compare_digest(given.encode(), current_key().encode())
    if not allowed:
        logger.warning("API key refused", extra={"routeArn": event.get("routeArn")})
    return {"isAuthorized": allowed}
