"""Event day as a queue: when is each photo searchable, given the event's arrival curve and the
quotas that pace the pipeline. Pure arithmetic (no AWS), read by `snaprace preflight --photos`.

- Arrivals (`Event`): N photos over H hours; a finish-line peak of P photos/s for `peak_minutes`,
  `peak_start_hours` after the first upload; the rest uniformly over the remaining time.
- Service (`service_rate`): the governor spends each Rekognition API's quota at SHARE of it, calls
  evenly spaced. A photo calls DetectText 1 + SECOND_LOOK_SHARE times (the second look) and
  IndexFaces once, so μ = min(SHARE × DetectText / (1 + s), SHARE × IndexFaces, the Lambda
  concurrency left for the pipeline / LAMBDA_SECONDS_PER_PHOTO). SearchFaces is shared with the
  runners' searches and paced apart: it does not bound the pipeline here.
- The queue (`predict`): a fluid FIFO. The backlog B grows at λ(t) − μ while positive; a photo
  arriving at t is searchable W(t) = B(t)/μ + L later, L the pipeline's own latency with no queue.
  Arrival rates are piecewise constant, so B is piecewise linear and every figure is exact (the
  quantiles by bisection over a closed-form distribution), with no time step to choose.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.common.governor import SHARE_OF_QUOTA

SHARE = SHARE_OF_QUOTA  # of each Rekognition API's quota that the governors spend
# photos whose second look calls DetectText again: 554 per 1,000 on RBNR set 1 (bench/bib_accuracy.py,
# docs/accuracy.md)
SECOND_LOOK_SHARE = 0.554
# DetectText, IndexFaces, SearchFaces: USD per image, first million a month, ap-northeast-2 (bench/cost.py's
# table uses it; verify before quoting)
REKOGNITION_USD_PER_IMAGE = 0.0013
# Lambda seconds per photo over the pipeline's functions: a generous bound on what bench/cost.py measures
LAMBDA_SECONDS_PER_PHOTO = 4.0
# From a photo's upload to its results saved with no queue: the starter, the state machine's five
# steps and their Rekognition calls; an assumption to replace with a measured execution time
PIPELINE_LATENCY_S = 10.0
LAMBDA = "Lambda concurrency"


class ImpossibleEvent(ValueError):
    """An arrival curve or a target that cannot be: the message says why."""


@dataclass(frozen=True)
class Event:
    photos: int
    peak_per_s: float
    hours: float = 6.0
    peak_minutes: float = 20.0
    peak_start_hours: float = 4.0

    @property
    def duration_s(self) -> float:
        return self.hours * 3600

    @property
    def peak_s(self) -> float:
        return self.peak_minutes * 60

    @property
    def peak_window(self) -> tuple[float, float]:
        start = self.peak_start_hours * 3600
        return start, start + self.peak_s

    @property
    def quiet_per_s(self) -> float:
        """The rate outside the peak: what the peak leaves of N, spread over the rest of the hours."""
        return (self.photos - self.peak_per_s * self.peak_s) / (self.duration_s - self.peak_s)

    def check(self) -> None:
        start, end = self.peak_window
        if self.photos <= 0 or self.hours <= 0 or self.peak_per_s < 0 or self.peak_minutes < 0:
            raise ImpossibleEvent("photos and hours must be positive, the peak not negative")
        if start < 0 or end > self.duration_s or self.peak_s >= self.duration_s:
            raise ImpossibleEvent(
                f"the peak ({self.peak_minutes:g} min from {self.peak_start_hours:g} h) must end within "
                f"the event's {self.hours:g} h and be shorter"
            )
        if self.quiet_per_s < 0:
            raise ImpossibleEvent(
                f"a peak of {self.peak_per_s:g}/s for {self.peak_minutes:g} min brings "
                f"{self.peak_per_s * self.peak_s:,.0f} photos, more than the event's {self.photos:,}"
            )

    def arrivals(self) -> list[tuple[float, float, float]]:
        """(start s, end s, photos/s) from the first upload to the last, empty pieces left out."""
        self.check()
        start, end = self.peak_window
        pieces = [
            (0.0, start, self.quiet_per_s),
            (start, end, self.peak_per_s),
            (end, self.duration_s, self.quiet_per_s),
        ]
        return [piece for piece in pieces if piece[1] > piece[0]]


@dataclass(frozen=True)
class Rate:
    photos_per_s: float
    binding: str  # "DetectText", "IndexFaces" or LAMBDA


def service_rate(
    quotas: Mapping[str, float],
    lambda_concurrency: float | None = None,
    share: float = SHARE,
    second_look_share: float = SECOND_LOOK_SHARE,
) -> Rate:
    """Photos per second the pipeline sustains at these TPS quotas (DetectText, IndexFaces) with
    `lambda_concurrency` containers for its functions (None: not a limit)."""
    bounds = {
        "DetectText": share * quotas["DetectText"] / (1 + second_look_share),
        "IndexFaces": share * quotas["IndexFaces"],
    }
    if lambda_concurrency is not None:
        bounds[LAMBDA] = max(lambda_concurrency, 0) / LAMBDA_SECONDS_PER_PHOTO
    binding = min(bounds, key=lambda name: bounds[name])
    return Rate(bounds[binding], binding)


def lambda_concurrency_for(photos_per_s: float) -> int:
    """Containers the pipeline's functions keep busy at this rate (rounded first: 48.5 × 4 is 194)."""
    return math.ceil(round(photos_per_s * LAMBDA_SECONDS_PER_PHOTO, 6))


@dataclass(frozen=True)
class Prediction:
    photos_per_s: float
    binding: str
    all_done_s: float  # from the first upload until the last photo is searchable
    peak_p50_s: float  # wait from upload to searchable of the photos arriving in the peak
    peak_p99_s: float
    p50_s: float  # the same over every photo
    p99_s: float


@dataclass(frozen=True)
class _Piece:
    """Arrivals at `per_s` over [start, end), the backlog linear from `backlog_start` to `backlog_end`."""

    start: float
    end: float
    per_s: float
    backlog_start: float
    backlog_end: float


def _pieces(event: Event, mu: float) -> list[_Piece]:
    """The arrival pieces, each cut where the backlog reaches 0 so B is linear within a piece."""
    pieces, backlog = [], 0.0
    for start, end, per_s in event.arrivals():
        growth = per_s - mu
        if growth < 0 and backlog > 0 and backlog + growth * (end - start) < 0:
            empty_at = start + backlog / -growth
            pieces.append(_Piece(start, empty_at, per_s, backlog, 0.0))
            start, backlog = empty_at, 0.0
        after = max(0.0, backlog + growth * (end - start))
        pieces.append(_Piece(start, end, per_s, backlog, after))
        backlog = after
    return pieces


def _share_waiting_at_most(pieces: list[_Piece], mu: float, wait: float) -> float:
    """The share of these pieces' arrivals whose queueing time B(t)/μ is at most `wait`."""
    total = sum(p.per_s * (p.end - p.start) for p in pieces)
    within = 0.0
    for p in pieces:
        first, last = p.backlog_start / mu, p.backlog_end / mu
        if first == last:
            fraction = 1.0 if first <= wait else 0.0
        else:  # W is linear in t: the share of the piece's time on the right side of `wait`
            crossing = min(1.0, max(0.0, (wait - first) / (last - first)))
            fraction = crossing if last > first else 1.0 - crossing
        within += p.per_s * (p.end - p.start) * fraction
    return within / total


def _quantile(pieces: list[_Piece], mu: float, q: float) -> float:
    """The q-quantile of B(t)/μ weighted by arrivals: bisection on the closed-form distribution."""
    pieces = [p for p in pieces if p.per_s > 0 and p.end > p.start]
    low = min(min(p.backlog_start, p.backlog_end) for p in pieces) / mu
    high = max(max(p.backlog_start, p.backlog_end) for p in pieces) / mu
    if _share_waiting_at_most(pieces, mu, low) >= q:
        return low
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (low, middle) if _share_waiting_at_most(pieces, mu, middle) >= q else (middle, high)
    return high


def _within(pieces: list[_Piece], start: float, end: float) -> list[_Piece]:
    """The pieces cut to [start, end], the backlog interpolated at the cuts."""
    cut = []
    for p in pieces:
        left, right = max(p.start, start), min(p.end, end)
        if right <= left:
            continue
        slope = (p.backlog_end - p.backlog_start) / (p.end - p.start)
        backlogs = (p.backlog_start + slope * (left - p.start), p.backlog_start + slope * (right - p.start))
        cut.append(_Piece(left, right, p.per_s, *backlogs))
    return cut


def predict(event: Event, rate: Rate, latency_s: float = PIPELINE_LATENCY_S) -> Prediction:
    mu = rate.photos_per_s
    if mu <= 0:
        raise ImpossibleEvent(f"the pipeline processes no photos ({rate.binding} is 0)")
    pieces = _pieces(event, mu)
    peak = _within(pieces, *event.peak_window) if event.peak_per_s > 0 and event.peak_s > 0 else pieces
    return Prediction(
        photos_per_s=mu,
        binding=rate.binding,
        all_done_s=event.duration_s + pieces[-1].backlog_end / mu + latency_s,
        peak_p50_s=_quantile(peak, mu, 0.5) + latency_s,
        peak_p99_s=_quantile(peak, mu, 0.99) + latency_s,
        p50_s=_quantile(pieces, mu, 0.5) + latency_s,
        p99_s=_quantile(pieces, mu, 0.99) + latency_s,
    )


@dataclass(frozen=True)
class Needed:
    """The smallest whole TPS quotas that meet a target, and what the pipeline then needs of Lambda."""

    detect_text_tps: int
    index_faces_tps: int
    photos_per_s: float  # the pipeline's rate at those quotas
    lambda_concurrency: int  # containers for the pipeline's functions at that rate (not the starters')


def needed_quotas(
    event: Event,
    target_p99_s: float,
    latency_s: float = PIPELINE_LATENCY_S,
    share: float = SHARE,
    second_look_share: float = SECOND_LOOK_SHARE,
) -> Needed:
    """The smallest DetectText and IndexFaces quotas (TPS) that put the peak photo's p99 at or
    under `target_p99_s`: each found with the other unbounded, so one TPS less of either misses."""
    if target_p99_s < latency_s:
        raise ImpossibleEvent(
            f"a p99 of {target_p99_s:g} s is under the pipeline's own latency ({latency_s:g} s)"
        )
    fastest = max(per_s for _, _, per_s in event.arrivals())  # at this rate nothing ever waits

    def smallest(api: str, per_photo: float) -> int:
        def meets(tps: int) -> bool:
            quotas = {"DetectText": math.inf, "IndexFaces": math.inf, api: tps}
            rate = service_rate(quotas, share=share, second_look_share=second_look_share)
            return predict(event, rate, latency_s).peak_p99_s <= target_p99_s

        low, high = 0, max(1, math.ceil(fastest * per_photo / share))
        while not meets(high):  # float rounding at the edge: one more TPS
            high += 1
        while high - low > 1:  # meets(high) holds, meets(low) does not (0 TPS processes nothing)
            middle = (low + high) // 2
            low, high = (low, middle) if meets(middle) else (middle, high)
        return high

    detect_text = smallest("DetectText", 1 + second_look_share)
    index_faces = smallest("IndexFaces", 1)
    rate = service_rate(
        {"DetectText": detect_text, "IndexFaces": index_faces},
        share=share,
        second_look_share=second_look_share,
    )
    return Needed(detect_text, index_faces, rate.photos_per_s, lambda_concurrency_for(rate.photos_per_s))
