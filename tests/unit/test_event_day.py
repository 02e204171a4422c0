"""The event-day benchmark's pure parts (bench/event_day.py): the arrival curve it replays, the
quantiles of the measured waits, and that a server behaving exactly as the model assumes measures
the model's own figures. The benchmark itself needs the local stack and stays outside `make test`."""

import importlib.util
import sys
from pathlib import Path

import pytest

from snaprace.event_model import Rate, predict

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))  # its siblings (common, throughput), as when run as a script
    try:
        spec = importlib.util.spec_from_file_location("bench_event_day", BENCH / "event_day.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


def test_the_default_curve_is_a_quiet_minute_a_peak_minute_and_a_quiet_tail(bench):
    event = bench.curve(photos=300, peak=3, peak_seconds=60, quiet=0.5, lead_in=60)
    assert event.duration_s == pytest.approx(300)
    assert event.quiet_per_s == pytest.approx(0.5)
    assert event.peak_window == pytest.approx((60, 120))
    times = bench.schedule(event)
    assert len(times) == 300
    assert times[:3] == pytest.approx([0, 2, 4])  # the first upload starts the curve
    assert times[30:33] == pytest.approx([60, 60 + 1 / 3, 60 + 2 / 3])  # the peak, 3 a second
    assert sum(bench.in_peak(event, at) for at in times) == 180
    assert times[210] == pytest.approx(120) and times[-1] == pytest.approx(298)
    assert times == sorted(times)


@pytest.mark.parametrize("rates", [(0.5, 3.0), (0.7, 2.5), (1.25, 4.0)])
def test_the_schedule_puts_as_many_photos_in_each_piece_as_the_models_curve(bench, rates):
    quiet, peak = rates
    event = bench.curve(photos=250, peak=peak, peak_seconds=40, quiet=quiet, lead_in=30)
    times = bench.schedule(event)
    for start, end, per_s in event.arrivals():
        uploads = sum(start <= at < end for at in times)
        assert abs(uploads - per_s * (end - start)) < 1  # a fractional photo lands in the next piece


def test_a_peak_bringing_every_photo_leaves_no_quiet_rate(bench):
    with pytest.raises(ValueError, match="none left"):
        bench.curve(photos=100, peak=2, peak_seconds=50, quiet=0.5, lead_in=10)


def test_quantiles_are_nearest_rank(bench):
    waits = [float(n) for n in range(100, 0, -1)]
    assert bench.quantile(waits, 0.5) == 50
    assert bench.quantile(waits, 0.99) == 99
    assert bench.quantile(waits, 1.0) == 100
    assert bench.quantile([float(n) for n in range(1, 181)], 0.99) == 179  # 178.2 ranks up
    assert bench.quantile([7.0], 0.99) == 7
    with pytest.raises(ValueError):
        bench.quantile([], 0.5)


def test_the_second_look_share_is_the_detect_text_calls_beyond_one_a_photo(bench):
    assert bench.second_look_share(300, 300) == 0
    assert bench.second_look_share(345, 300) == pytest.approx(0.15)
    assert bench.second_look_share(0, 0) == 0


def test_a_first_in_first_out_server_at_the_models_rate_measures_the_models_figures(bench):
    """Photos served one after another at μ, each L after its turn: what the fluid model assumes,
    so the benchmark's measured p50, p99 and all-done are the model's within a photo's service."""
    event = bench.curve(photos=300, peak=3, peak_seconds=60, quiet=0.5, lead_in=60)
    mu, latency = 1.455, 3.2
    times = bench.schedule(event)
    uploads = [1_000_000 + at for at in times]  # epoch seconds
    searchable, free = [], 0.0
    for up in uploads:
        free = max(free, up) + 1 / mu  # served in upload order, one every 1/μ
        searchable.append(free - 1 / mu + latency)
    measured = bench.waits(event, times, uploads, searchable)
    model = predict(event, Rate(mu, "DetectText"), latency)
    assert measured.peak_photos == 180
    assert measured.p50_s == pytest.approx(model.peak_p50_s, abs=1 / mu)
    assert measured.p99_s == pytest.approx(model.peak_p99_s, abs=1 / mu)
    assert measured.all_done_s == pytest.approx(model.all_done_s, abs=2 / event.quiet_per_s)


def test_in_upload_order_hands_the_same_moments_out_first_in_first_out(bench):
    uploads = [10.0, 11.0, 12.0, 13.0]
    searchable = [20.0, 40.0, 21.0, 30.0]  # the second photo overtaken by the two after it
    assert bench.in_upload_order(uploads, searchable) == [20.0, 21.0, 30.0, 40.0]
    assert bench.in_upload_order([2.0, 1.0], [5.0, 9.0]) == [9.0, 5.0]
