"""What a stranger learns and spends through the public API (snaprace.strangers' attacks), on the
search handler with moto: the name directory walk, and repeated bib searches' Rekognition calls."""

import datetime
import json

import pytest
from conftest import TABLE

from snaprace import strangers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]
ORG, EVENT = "acme", "seoul-marathon-2026"


@pytest.fixture
def race_with_names(published, monkeypatch):
    """150 runners with census-weighted names in the event's timing results, name search on."""
    from pipeline.common import clients
    from pipeline.store import Store
    from pipeline.timing import results_file
    from pipeline.timing import rules as timing

    monkeypatch.setenv("PUBLIC_SEARCHES_PER_MINUTE", "1000000")  # many addresses: limits do not bind
    names = strangers.runners_with_names(150)
    rows = ["bib,checkpoint,time,name"] + [f"{bib},FINISH,10:00:00,{name}" for bib, name in names.items()]
    results = results_file.parse_results(
        "\n".join(rows), results_file.Columns(), datetime.date(2026, 4, 12), timing.event_zone("Asia/Seoul")
    )
    table = Store(clients.dynamodb_table(TABLE))
    table.timing.replace_results(ORG, EVENT, results, "results.csv")
    table.settings.put(ORG, EVENT, {"published": True, "nameSearch": "on"})
    return names


def asker(context):
    """`ask` for the attacks: one public name search from a new address each time."""
    from conftest import ROOT

    from pipeline.handlers import api

    fixture = (ROOT / "events" / "api_runners.json").read_text()
    addresses = (f"198.18.{n // 250}.{n % 250 + 1}" for n in range(1_000_000))

    def ask(name: str) -> list[dict]:
        event = json.loads(fixture)
        event["rawPath"] = event["requestContext"]["http"]["path"] = f"/public{event['rawPath']}"
        event["requestContext"].pop("authorizer")
        event["requestContext"]["http"]["sourceIp"] = next(addresses)
        event["headers"]["x-snaprace-client"] = "runner-page"
        event["queryStringParameters"] = {"name": name}
        answer = api.lambda_handler(event, context)
        assert answer["statusCode"] < 500, answer["body"]
        return json.loads(answer["body"]).get("runners", []) if answer["statusCode"] == 200 else []

    return ask


def test_walking_name_prefixes_recovers_no_runner_of_a_published_event(race_with_names, context):
    """The first probe's walk (two-letter prefixes, extended while answers are full) recovered all
    150 runners in 1,222 requests; now at most 1 % with 2,000."""
    recovered = strangers.prefix_walk(asker(context), budget=2000)
    assert len(recovered) / len(race_with_names) < 0.01


def test_a_guessed_name_answers_only_the_one_runner_who_has_it(race_with_names, context):
    """The dictionary walk is what remains: each answer is the single runner whose whole name was
    guessed, never a runner whose name was not typed, never one of two who share a name."""
    ask = asker(context)
    counts: dict[str, int] = {}
    for name in race_with_names.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    for name in list(race_with_names.values())[:30]:
        answer = ask(name.upper())
        expected = [] if counts[name.casefold()] > 1 else [name]
        assert [runner["name"] for runner in answer] == expected


def test_two_thousand_anonymous_bib_searches_cost_one_face_search_per_linked_face(
    emulated_rekognition, published, context
):
    """20 popular bibs searched 10 times each from 200 addresses: each linked face is searched
    once (it was once per request: up to 10 SearchFaces each)."""
    from test_api_handler import call, index_face_only, index_runner, public

    bibs = [str(2000 + n) for n in range(20)]
    for bib in bibs:
        index_runner(f"p{bib}", bib, linked=True)
        index_face_only(f"p{bib}-hidden", bib)
    for round_ in range(10):
        for n, bib in enumerate(bibs):
            event = public("api_bib", f"198.19.{round_}.{n + 1}")
            event["rawPath"] = event["rawPath"].replace("/bibs/1234/", f"/bibs/{bib}/")
            event["pathParameters"]["bib"] = bib
            status, answer = call(event, context)
            assert status == 200 and {p["matchedBy"] for p in answer["photos"]} == {"bib", "face"}
    assert emulated_rekognition.calls["SearchFaces"] == len(bibs)
