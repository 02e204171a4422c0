"""The event-day model (snaprace.event_model) against issue 30's figures, worked by hand below.

The example event: N = 150,000 photos over H = 6 h (21,600 s), a peak of P = 60/s for 20 min
(1,200 s: 72,000 photos) from 4 h (14,400 s). Outside it q = 78,000 / 20,400 s = 3.8235 photos/s.

Today's pacing, μ = 0.9 × 5 / 1.6 = 2.8125 < q: the backlog grows from the first upload and never
empties, so the last photo is searchable at N / μ + L = 53,333 s + 10 s = 14.82 h. At 4 h the
backlog is (3.8235 − 2.8125) × 14,400 = 14,559 and grows 57.1875/s in the peak. Arrivals are
uniform in the peak and the wait grows with t, so its quantiles are those of the arrival time:
p50 at 600 s into the peak: (14,559 + 57.1875 × 600) / μ = 17,377 s = 4.83 h (+ L);
p99 at 1,188 s: (14,559 + 57.1875 × 1,188) / μ = 29,332 s = 8.15 h.

50 TPS quotas, the governor at 0.95: μ = 0.95 × 50 / 1.554 = 30.57 > q: no backlog before the
peak; p99: (60 − 30.57) × 1,188 / 30.57 = 1,144 s + 10 s = 19.2 min. At 0.97: μ = 31.21,
28.79 × 1,188 / 31.21 + 10 = 1,106 s = 18.4 min.
"""

import math

import pytest

from snaprace.event_model import (
    LAMBDA,
    Event,
    ImpossibleEvent,
    Rate,
    needed_quotas,
    predict,
    service_rate,
)

MARATHON = Event(photos=150_000, peak_per_s=60, hours=6, peak_minutes=20, peak_start_hours=4.0)
HOUR, MINUTE = 3600, 60


def test_the_quiet_rate_is_what_the_peak_leaves_over_the_rest_of_the_hours():
    assert MARATHON.quiet_per_s == pytest.approx(78_000 / 20_400)


def test_todays_pacing_makes_the_marathon_searchable_15_hours_after_its_first_upload():
    prediction = predict(MARATHON, Rate(0.9 * 5 / 1.6, "pacing"), latency_s=10)
    assert prediction.photos_per_s == pytest.approx(2.8125)
    assert prediction.all_done_s / HOUR == pytest.approx(14.8, abs=0.05)
    assert prediction.peak_p50_s / HOUR == pytest.approx(4.8, abs=0.05)
    assert prediction.peak_p99_s / HOUR == pytest.approx(8.15, abs=0.05)


@pytest.mark.parametrize(("share", "p99_minutes"), [(0.95, 19.2), (0.97, 18.4)])
def test_50_tps_quotas_put_the_peak_photos_p99_under_20_minutes(share, p99_minutes):
    rate = service_rate({"DetectText": 50, "IndexFaces": 50}, share=share)
    prediction = predict(MARATHON, rate, latency_s=10)
    assert prediction.binding == "DetectText"  # 1.554 calls per photo against IndexFaces' 1
    assert prediction.peak_p99_s / MINUTE == pytest.approx(p99_minutes, abs=0.1)
    assert prediction.peak_p99_s <= 20 * MINUTE
    assert prediction.all_done_s == pytest.approx(6 * HOUR + 10)  # the peak's backlog drains before the end


def test_with_quotas_to_spare_a_photo_waits_only_the_pipelines_own_latency():
    prediction = predict(MARATHON, service_rate({"DetectText": 10_000, "IndexFaces": 10_000}), latency_s=12)
    assert prediction.peak_p50_s == prediction.peak_p99_s == prediction.p50_s == prediction.p99_s == 12
    assert prediction.all_done_s == 6 * HOUR + 12


@pytest.mark.parametrize(
    ("quotas", "concurrency", "binding", "photos_per_s"),
    [
        ({"DetectText": 50, "IndexFaces": 50}, None, "DetectText", 0.97 * 50 / 1.554),
        ({"DetectText": 50, "IndexFaces": 20}, None, "IndexFaces", 0.97 * 20),
        ({"DetectText": 50, "IndexFaces": 50}, 40, LAMBDA, 40 / 4.0),
    ],
)
def test_the_slowest_of_the_two_apis_and_lambda_binds(quotas, concurrency, binding, photos_per_s):
    rate = service_rate(quotas, lambda_concurrency=concurrency)
    assert rate == Rate(pytest.approx(photos_per_s), binding)


def test_needed_quotas_meet_the_target_and_one_tps_less_of_either_misses_it():
    needed = needed_quotas(MARATHON, 5 * MINUTE)
    assert (needed.detect_text_tps, needed.index_faces_tps) == (78, 50)

    def p99(detect_text, index_faces):
        return predict(
            MARATHON, service_rate({"DetectText": detect_text, "IndexFaces": index_faces})
        ).peak_p99_s

    assert p99(needed.detect_text_tps, needed.index_faces_tps) <= 5 * MINUTE
    assert p99(needed.detect_text_tps - 1, needed.index_faces_tps) > 5 * MINUTE
    assert p99(needed.detect_text_tps, needed.index_faces_tps - 1) > 5 * MINUTE
    assert needed.lambda_concurrency == math.ceil(needed.photos_per_s * 4.0)


def test_a_target_under_the_pipelines_own_latency_cannot_be_met():
    with pytest.raises(ImpossibleEvent, match="under the pipeline's own latency"):
        needed_quotas(MARATHON, 5, latency_s=10)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (Event(photos=50_000, peak_per_s=60), "more than the event's 50,000"),
        (Event(photos=150_000, peak_per_s=60, peak_start_hours=5.9), "must end within the event's 6 h"),
    ],
)
def test_an_arrival_curve_that_cannot_be_is_refused_with_its_reason(event, reason):
    with pytest.raises(ImpossibleEvent, match=reason):
        predict(event, Rate(10, "DetectText"))


def simulated(event: Event, mu: float, latency_s: float) -> dict[str, float]:
    """The same queue stepped second by second: each second's arrivals wait the backlog ahead of them."""
    waits, peak_waits, backlog = [], [], 0.0
    start, end = event.peak_window
    for second in range(int(event.duration_s)):
        arriving = event.peak_per_s if start <= second < end else event.quiet_per_s
        backlog = max(0.0, backlog + arriving - mu)
        waits.append((backlog / mu + latency_s, arriving))
        if start <= second < end:
            peak_waits.append((backlog / mu + latency_s, arriving))

    def quantile(weighted, q):
        weighted, total, seen = sorted(weighted), sum(w for _, w in weighted), 0.0
        for wait, weight in weighted:
            seen += weight
            if seen >= q * total:
                return wait
        raise AssertionError

    return {
        "all_done_s": event.duration_s + backlog / mu + latency_s,
        "peak_p50_s": quantile(peak_waits, 0.5),
        "peak_p99_s": quantile(peak_waits, 0.99),
        "p50_s": quantile(waits, 0.5),
        "p99_s": quantile(waits, 0.99),
    }


@pytest.mark.parametrize("mu", [1.0, 3.5, 5.0, 15.0, 30.0])
def test_the_closed_form_agrees_with_a_queue_stepped_second_by_second(mu):
    """Quiet at 1.21 photos/s: a backlog from the start that never empties (1 photo/s), one that
    forms in the peak and empties after it (3.5, 5, 15), and none at all (30)."""
    event = Event(photos=60_000, peak_per_s=20, hours=6, peak_minutes=30, peak_start_hours=1.0)
    prediction = predict(event, Rate(mu, "DetectText"), latency_s=10)
    for name, value in simulated(event, mu, latency_s=10).items():
        assert getattr(prediction, name) == pytest.approx(value, rel=0.01, abs=2), name
