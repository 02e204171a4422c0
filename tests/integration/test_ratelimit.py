"""Per-client limits of the public search routes (pipeline.access.ratelimit) on moto's table."""

import copy
import json

import boto3
import pytest
from conftest import ROOT

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


@pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
def test_the_search_api_counts_in_the_limiters_windows(published, context, monkeypatch):
    """The handler's windows run on the limiter's clock: a client refused is told the seconds to
    the window's end (Retry-After) and is served again once that window has ended."""
    from pipeline.common.config import get_config
    from pipeline.handlers import api

    event = json.loads((ROOT / "events" / "api_gallery.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/public{event['rawPath']}"
    event["requestContext"]["http"]["sourceIp"] = "198.51.100.200"
    event["requestContext"].pop("authorizer", None)
    event["headers"]["x-snaprace-client"] = "runner-page"
    monkeypatch.setenv("PUBLIC_SEARCHES_PER_MINUTE", "2")
    get_config.cache_clear()
    now = [1_796_000_000.0]  # 20 s into a minute
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    answers = [api.lambda_handler(copy.deepcopy(event), context) for _ in range(3)]
    assert [answer["statusCode"] for answer in answers] == [200, 200, 429]
    assert answers[2]["headers"]["Retry-After"] == "40"
    now[0] += 39.9
    assert api.lambda_handler(copy.deepcopy(event), context)["statusCode"] == 429
    now[0] += 0.1
    assert api.lambda_handler(copy.deepcopy(event), context)["statusCode"] == 200  # the next window
