"""Per-client limits on the search API's public routes (a published event, no key).

HTTP APIs throttle per stage and route, never per client, so the function counts: one counter
item per client, event, kind of search and fixed window in the table (an UpdateItem with a
condition: one write per request), expiring with DynamoDB's TTL. The client is a SHA-256 of its
source IP (never the IP itself), or of a runner's link for the selfie searches it opens.
Limits: PublicSearchesPerMinute gallery pages and bib searches,
PublicSelfiesPerHour selfie searches (template.yaml parameters), per event; and ACROSS_EVENTS times
that across all events, so a client cannot multiply its share by spreading over events.
"""

import hashlib
import time
from dataclasses import dataclass

SEARCH, SELFIE, NAMES = "search", "selfie", "names"
NAMES_PER_HOUR = 10  # name searches one client may make per event and hour (ACROSS_EVENTS x over all)
ACROSS_EVENTS = 3  # a client's share over all events, in one event's shares
clock = time.time  # the windows' clock; tests set their own


@dataclass(frozen=True)
class Limit:
    requests: int
    window_seconds: int


def client_id(client: str) -> str:
    return hashlib.sha256(f"snaprace:{client}".encode()).hexdigest()[:32]


def allow(table, client: str, org_id: str, event_id: str, kind: str, limit: Limit, now: float | None = None):
    """(allowed, seconds until the window ends) for one more request."""
    now = clock() if now is None else now
    window = int(now // limit.window_seconds)
    ends = (window + 1) * limit.window_seconds
    counter, expires = client_id(client), int(ends) + 60
    allowed = table.counters.count_hit(counter, (org_id, event_id), kind, window, limit.requests, expires)
    allowed = allowed and table.counters.count_hit(
        counter, None, kind, window, limit.requests * ACROSS_EVENTS, expires
    )
    return allowed, max(1, int(ends - now))


class RateLimited(Exception):
    """A client past one of its limits: a 429 with Retry-After (pipeline.api.shared)."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many requests: try again in {retry_after} s")
        self.retry_after = retry_after
