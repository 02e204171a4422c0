"""Per-client limits of the public search routes (pipeline.access.ratelimit) on moto's table."""

import boto3

from pipeline.access import ratelimit
from pipeline.store import Store


def test_a_client_gets_its_share_per_window_and_event_and_no_ip_is_stored(aws):
    table = Store(boto3.resource("dynamodb", region_name="ap-northeast-2").Table("PhotoService-test"))
    limit = ratelimit.Limit(requests=2, window_seconds=60)
    start = 1_796_000_000.0  # 20 s into a minute
    answers = [
        ratelimit.allow(table, "203.0.113.7", "acme", "seoul", "search", limit, now=start + i)
        for i in range(3)
    ]
    assert [allowed for allowed, _ in answers] == [True, True, False]
    assert answers[2][1] == 38  # seconds until the window ends (22 s in)
    assert ratelimit.allow(table, "203.0.113.8", "acme", "seoul", "search", limit, now=start)[
        0
    ]  # another client
    assert ratelimit.allow(table, "203.0.113.7", "acme", "other", "search", limit, now=start)[
        0
    ]  # another event
    assert ratelimit.allow(table, "203.0.113.7", "acme", "seoul", "search", limit, now=start + 40)[
        0
    ]  # next window
    items = table.table.scan()["Items"]
    assert items and not any("203.0.113" in str(item) for item in items)
    assert all(int(item["expiresAt"]) > start for item in items)  # DynamoDB's TTL removes them


def test_a_client_spreading_over_events_gets_its_share_across_them_all(aws):
    """Limits per event alone let one address multiply its share by the number of published events."""
    table = Store(boto3.resource("dynamodb", region_name="ap-northeast-2").Table("PhotoService-test"))
    limit = ratelimit.Limit(requests=2, window_seconds=60)
    start = 1_796_000_000.0
    answers = [
        ratelimit.allow(table, "203.0.113.9", "acme", f"race-{n}", "search", limit, now=start)[0]
        for n in range(10)
    ]
    assert answers == [True] * ratelimit.ACROSS_EVENTS * 2 + [False] * (10 - ratelimit.ACROSS_EVENTS * 2)
    assert ratelimit.allow(table, "203.0.113.10", "acme", "race-9", "search", limit, now=start)[0]
