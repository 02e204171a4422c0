"""Per-client limits on the search API's public routes (a published event, no key).

HTTP APIs throttle per stage and route, never per client, so the function counts: one counter
item per client, event, kind of search and fixed window in the table (an UpdateItem with a
condition: one write per request), expiring with DynamoDB's TTL. The client is a SHA-256 of its
source IP (never the IP itself), or of a runner's link for the selfie searches it opens.
Limits: PublicSearchesPerMinute gallery pages and bib searches,
PublicSelfiesPerHour selfie searches (template.yaml parameters).
"""

import hashlib
import time
from dataclasses import dataclass

SEARCH, SELFIE = "search", "selfie"


@dataclass(frozen=True)
class Limit:
    requests: int
    window_seconds: int


def client_id(client: str) -> str:
    return hashlib.sha256(f"snaprace:{client}".encode()).hexdigest()[:32]


def allow(table, client: str, org_id: str, event_id: str, kind: str, limit: Limit, now: float | None = None):
    """(allowed, seconds until the window ends) for one more request."""
    now = time.time() if now is None else now
    window = int(now // limit.window_seconds)
    ends = (window + 1) * limit.window_seconds
    allowed = table.count_hit(
        client_id(client), f"{org_id}#{event_id}#{kind}", window, limit.requests, int(ends) + 60
    )
    return allowed, max(1, int(ends - now))
