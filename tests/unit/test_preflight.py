"""`snaprace preflight`'s verdicts, from the facts it gathers (snaprace.preflight.evaluate), and its
forecast of an event's time to searchable (snaprace.preflight.forecast over snaprace.event_model)."""

import dataclasses
import json

import pytest
from click.testing import CliRunner

from snaprace import preflight
from snaprace.event_model import Event
from snaprace.preflight import (
    Facts,
    concurrency_to_request,
    evaluate,
    forecast,
    forecast_lines,
    needed_concurrency,
    report,
    tps_parameters,
)

PACED_AT_5 = {
    "DetectText": ("DetectTextTps", 5.0),
    "IndexFaces": ("IndexFacesTps", 5.0),
    "SearchFaces": ("SearchFacesTps", 5.0),
    "SearchFacesByImage": ("SearchFacesByImageTps", 5.0),
}
READY = Facts(
    stage="prod",
    rekognition_tps=PACED_AT_5,
    starter_concurrency=5,
    cors_origins=["https://photos.example.org"],
    quotas={"DetectText": 5.0, "IndexFaces": 5.0, "SearchFaces": 5.0, "SearchFacesByImage": 5.0},
    unreserved_concurrency=1000,
    concurrency_limit=1000,
    subscriptions=[{"protocol": "email", "confirmed": True}],
    versioning="Enabled",
    encryption="AES256",
    eventbridge=True,
)
LEGACY = {"DetectText": ("RekognitionTps", 10.0), "IndexFaces": ("RekognitionTps", 10.0)}
MARATHON = Event(photos=150_000, peak_per_s=60)  # 6 h, 20 min at 60/s from 4 h: issue 30's example
QUOTAS_50 = {"DetectText": 50.0, "IndexFaces": 50.0, "SearchFaces": 50.0, "SearchFacesByImage": 50.0}


def failed(facts: Facts, planned=None) -> dict[str, str]:
    return {c.name: c.figure for c in evaluate(facts, planned) if not c.ok}


def test_a_ready_stack_passes_every_check():
    checks = evaluate(READY)
    assert len(checks) == 10 and all(c.ok and not c.fix for c in checks)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"rekognition_tps": LEGACY},
            {
                "rekognition DetectText": "5/s for RekognitionTps 10",
                "rekognition IndexFaces": "5/s for RekognitionTps 10",
            },
        ),
        (
            {"rekognition_tps": {**PACED_AT_5, "SearchFaces": ("SearchFacesTps", 8.0)}},
            {"rekognition SearchFaces": "5/s for SearchFacesTps 8"},
        ),
        ({"quotas": {**READY.quotas, "IndexFaces": None}}, {"rekognition IndexFaces": "quota not found"}),
        ({"unreserved_concurrency": 10}, {"lambda concurrency": "10 unreserved, 28 needed"}),
        (
            {"unreserved_concurrency": 10, "api_reserved_concurrency": 50},
            {"lambda concurrency": "10 unreserved + 100 reserved for the APIs, 118 needed"},
        ),
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


def test_a_search_api_without_its_own_parameter_is_reported_not_failed_and_dev_may_use_any_origin():
    facts = dataclasses.replace(
        READY,
        stage="dev",
        cors_origins=["*"],
        rekognition_tps={operation: PACED_AT_5[operation] for operation in ("DetectText", "IndexFaces")},
        quotas={**READY.quotas, "SearchFacesByImage": 1.0},
    )
    assert failed(facts) == {}


def test_each_api_is_paced_by_its_own_parameter_else_the_stacks_single_rekognition_tps():
    assert tps_parameters({"RekognitionTps": "7", "DetectTextTps": "20", "SearchFacesTps": "4"}) == {
        "DetectText": ("DetectTextTps", 20.0),
        "IndexFaces": ("RekognitionTps", 7.0),
        "SearchFaces": ("SearchFacesTps", 4.0),
    }


def test_concurrency_needed_is_the_pipeline_at_the_rate_its_quotas_allow_the_starters_and_the_apis():
    # 0.97 x 5 / 1.554 = 3.12 photos/s x 4 s = 12.5 -> 13, + 5 starters + 10 kept for the API
    assert needed_concurrency(READY) == 28
    at_50 = {operation: (parameter, 50.0) for operation, (parameter, _) in PACED_AT_5.items()}
    # the parameters at 50 but the account at 5: the account's quota paces
    assert needed_concurrency(dataclasses.replace(READY, rekognition_tps=at_50)) == 28
    # 31.2 photos/s x 4 = 124.8 -> 125, + 5 + 10
    assert needed_concurrency(dataclasses.replace(READY, rekognition_tps=at_50, quotas=QUOTAS_50)) == 140
    # two API functions reserving 50 each instead of the 10 kept free
    assert needed_concurrency(dataclasses.replace(READY, api_reserved_concurrency=50)) == 13 + 5 + 100


@pytest.mark.parametrize(
    ("limit", "unreserved", "reserved", "needed", "to_request"),
    [
        (10, 10, 0, 28, 28),  # a new account: the shortfall
        (1000, 200, 0, 300, 1100),  # others reserve 800: the shortfall on top
        (200, 100, 50, 218, 218),  # the APIs reserve 100 (already out of unreserved)
        (150, 150, 0, 10, 150),  # enough already: the limit as it is
    ],
)
def test_the_lambda_concurrency_to_request_covers_the_shortfall(
    limit, unreserved, reserved, needed, to_request
):
    facts = dataclasses.replace(
        READY, concurrency_limit=limit, unreserved_concurrency=unreserved, api_reserved_concurrency=reserved
    )
    assert concurrency_to_request(facts, needed) == to_request


def test_a_reservation_leaves_lambda_its_100_unreserved_in_the_request():
    # others reserve 50, the APIs 2 x 20: unreserved 10; the stack needs 13 + 5 + 40
    facts = dataclasses.replace(
        READY, concurrency_limit=100, unreserved_concurrency=10, api_reserved_concurrency=20
    )
    assert concurrency_to_request(facts, 58) == 190  # 90 reserved + 100 unreserved


def test_the_forecast_paces_each_api_at_its_parameter_under_the_accounts_quota():
    at_5_with_quotas_50 = dataclasses.replace(READY, quotas=QUOTAS_50)
    planned = forecast(at_5_with_quotas_50, MARATHON)
    assert planned.quotas == {"DetectText": 5.0, "IndexFaces": 5.0}
    assert planned.deployed.binding == "DetectText"
    assert planned.deployed.photos_per_s == pytest.approx(0.97 * 5 / 1.554)
    assert planned.deployed.all_done_s / 3600 == pytest.approx(13.35, abs=0.01)  # 150,000 / 3.12 + 10 s
    assert planned.account_quotas == {"DetectText": 50.0, "IndexFaces": 50.0}
    assert planned.at_account_quotas.peak_p99_s / 60 == pytest.approx(18.4, abs=0.1)
    assert planned.needed is None


def test_lambda_concurrency_binds_when_the_account_leaves_the_pipeline_too_little():
    # 30 unreserved - 5 starters - 10 for the API = 15 containers / 4 s = 3.75 photos/s < 31.2 at 50 TPS
    facts = dataclasses.replace(
        READY,
        rekognition_tps={op: (name, 50.0) for op, (name, _) in PACED_AT_5.items()},
        quotas=QUOTAS_50,
        unreserved_concurrency=30,
    )
    planned = forecast(facts, MARATHON)
    assert (planned.deployed.binding, planned.deployed.photos_per_s) == ("Lambda concurrency", 3.75)
    assert failed(facts) == {"lambda concurrency": "30 unreserved, 140 needed"}


@pytest.mark.parametrize(
    ("facts", "fix"),
    [
        (
            READY,
            "request DetectText 78/s in Service Quotas (now 5); request IndexFaces 50/s in Service Quotas "
            "(now 5); set DetectTextTps=78; set IndexFacesTps=50",
        ),
        (
            dataclasses.replace(READY, rekognition_tps=LEGACY, quotas=QUOTAS_50),
            "request DetectText 78/s in Service Quotas (now 50); set RekognitionTps=78",
        ),
        (
            dataclasses.replace(READY, unreserved_concurrency=100, concurrency_limit=100),
            "request DetectText 78/s in Service Quotas (now 5); request IndexFaces 50/s in Service Quotas "
            "(now 5); set DetectTextTps=78; set IndexFacesTps=50; request Lambda concurrent executions 209",
        ),
    ],
)
def test_a_missed_target_says_which_quotas_to_request_and_which_parameters_to_set(facts, fix):
    planned = forecast(facts, MARATHON, target_s=5 * 60)
    (missed,) = [c for c in evaluate(facts, planned) if not c.ok and c.name == "time to searchable"]
    assert missed.figure.startswith("peak p99 ") and missed.figure.endswith(" for a 5.0 min target")
    assert missed.fix == fix


def test_a_met_target_passes():
    facts = dataclasses.replace(
        READY,
        rekognition_tps={op: (name, 80.0) for op, (name, _) in PACED_AT_5.items()},
        quotas=dict.fromkeys(QUOTAS_50, 80.0),
    )
    planned = forecast(facts, MARATHON, target_s=5 * 60)
    checks = {c.name: c for c in evaluate(facts, planned)}
    assert checks["time to searchable"].ok and checks["time to searchable"].figure == (
        "peak p99 4.2 min for a 5.0 min target"
    )


def test_the_forecast_reads_as_the_operator_sees_it():
    planned = forecast(dataclasses.replace(READY, quotas=QUOTAS_50), MARATHON, target_s=5 * 60)
    assert forecast_lines(planned) == [
        "event        150,000 photos over 6 h, 60/s for 20 min from 4 h, 3.82/s otherwise",
        "in effect    DetectText 5/s, IndexFaces 5/s: 3.12 photos/s, bound by DetectText; all searchable "
        "13.4 h after the first upload; a peak photo waits 3.9 h (p50), 6.9 h (p99)",
        "at quotas    DetectText 50/s, IndexFaces 50/s: 31.21 photos/s, bound by DetectText; all searchable "
        "6.0 h after the first upload; a peak photo waits 9.4 min (p50), 18.4 min (p99)",
        "target       peak p99 ≤ 5.0 min: DetectText 78/s, IndexFaces 50/s (48.5 photos/s, "
        "194 Lambda executions for the pipeline)",
    ]
    found = json.loads(json.dumps(report(evaluate(READY, planned), planned)))
    assert found["forecast"]["needed"]["detect_text_tps"] == 78
    assert found["forecast"]["deployed"]["binding"] == "DetectText"
    assert found["forecast"]["event"]["quiet_per_s"] == pytest.approx(3.8235)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--photos", "1000"], "--peak 60"),
        (["--peak", "60"], "give its --photos too"),
        (["--photos", "1000", "--peak", "60"], "more than the event's 1,000"),
        (["--photos", "150000", "--peak", "60", "--peak-start", "5.9"], "must end within the event's 6 h"),
        (
            ["--photos", "150000", "--peak", "60", "--target-minutes", "0.1"],
            "under the pipeline's own latency",
        ),
    ],
)
def test_an_event_that_cannot_be_is_refused_before_any_aws_call(arguments, message, monkeypatch):
    from snaprace.cli import main

    monkeypatch.setattr(preflight, "gather", lambda stack: pytest.fail("no AWS call for a refused event"))
    result = CliRunner().invoke(main, ["--endpoint-url", "http://127.0.0.1:9", "preflight", *arguments])
    assert result.exit_code == 1 and message in result.output, result.output


def test_preflight_prints_the_checks_then_the_forecast(monkeypatch):
    from snaprace.cli import main

    monkeypatch.setattr(preflight, "gather", lambda stack: READY)
    arguments = ["--photos", "150000", "--peak", "60", "--target-minutes", "5"]
    result = CliRunner().invoke(main, ["--endpoint-url", "http://127.0.0.1:9", "preflight", *arguments])
    assert result.exit_code == 1  # the target is missed
    lines = result.output.splitlines()
    assert lines[10].startswith("FAIL time to searchable") and "set DetectTextTps=78" in lines[10]
    assert [line.split()[0] for line in lines[11:]] == ["event", "in", "target"]
    result = CliRunner().invoke(
        main, ["--endpoint-url", "http://127.0.0.1:9", "preflight", *arguments, "--json"]
    )
    assert json.loads(result.output)["forecast"]["needed"]["index_faces_tps"] == 50


def test_a_forecast_with_no_concurrency_left_for_the_pipeline_still_reports_every_check(monkeypatch):
    from snaprace.cli import main

    monkeypatch.setattr(
        preflight, "gather", lambda stack: dataclasses.replace(READY, unreserved_concurrency=10)
    )
    arguments = ["--photos", "150000", "--peak", "60", "--json"]
    result = CliRunner().invoke(main, ["--endpoint-url", "http://127.0.0.1:9", "preflight", *arguments])
    found = json.loads(result.output)
    assert result.exit_code == 1 and len(found["checks"]) == 10
    assert found["forecast"] == {"error": "the pipeline processes no photos (Lambda concurrency is 0)"}
