"""`snaprace preflight`'s verdicts, from the facts it gathers (snaprace.preflight.evaluate)."""

import dataclasses

import pytest

from snaprace.preflight import Facts, evaluate, needed_concurrency

READY = Facts(
    stage="prod",
    rekognition_tps=5,
    starter_concurrency=5,
    cors_origins=["https://photos.example.org"],
    quotas={"DetectText": 5.0, "IndexFaces": 5.0, "SearchFaces": 5.0, "SearchFacesByImage": 5.0},
    unreserved_concurrency=1000,
    subscriptions=[{"protocol": "email", "confirmed": True}],
    versioning="Enabled",
    encryption="AES256",
    eventbridge=True,
)


def failed(facts: Facts) -> dict[str, str]:
    return {c.name: c.figure for c in evaluate(facts) if not c.ok}


def test_a_ready_stack_passes_every_check():
    checks = evaluate(READY)
    assert len(checks) == 10 and all(c.ok and not c.fix for c in checks)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"rekognition_tps": 10},
            {
                "rekognition DetectText": "5/s for RekognitionTps 10",
                "rekognition IndexFaces": "5/s for RekognitionTps 10",
            },
        ),
        ({"quotas": {**READY.quotas, "IndexFaces": None}}, {"rekognition IndexFaces": "quota not found"}),
        ({"unreserved_concurrency": 10}, {"lambda concurrency": "10 unreserved, 33 needed"}),
        (
            {"subscriptions": [{"protocol": "email", "confirmed": False}]},
            {"alarm subscription": "0 confirmed, 1 pending"},
        ),
        ({"subscriptions": []}, {"alarm subscription": "0 confirmed, 0 pending"}),
        ({"cors_origins": ["*"]}, {"cors": "*"}),
        ({"versioning": "Suspended"}, {"bucket versioning": "Suspended"}),
        ({"encryption": ""}, {"bucket encryption": "none"}),
        ({"eventbridge": False}, {"bucket eventbridge": "off"}),
    ],
)
def test_each_problem_fails_its_own_check_with_its_figure_and_a_fix(change, expected):
    facts = dataclasses.replace(READY, **change)
    assert failed(facts) == expected
    assert all(c.fix for c in evaluate(facts) if not c.ok)


def test_a_low_search_quota_is_reported_not_failed_and_dev_may_use_any_origin():
    facts = dataclasses.replace(
        READY, stage="dev", cors_origins=["*"], quotas={**READY.quotas, "SearchFacesByImage": 1.0}
    )
    assert failed(facts) == {}


def test_concurrency_needed_grows_with_the_rekognition_rate():
    assert needed_concurrency(READY) == 33  # 4.5 photos/s x 4 s + 5 starters + 10 for the API
    assert needed_concurrency(dataclasses.replace(READY, rekognition_tps=50)) == 195
