"""Admission: the starter starts a photo's execution once it has booked the photo's first
DetectText and IndexFaces turns from the stack's governors (pipeline.common.governor), so a burst
of uploads waits in the queue (durable, free) instead of in running executions or throttled calls.

No divisor is fixed here: the second look's DetectText calls and the searches take turns from the
same governors, and admission slows by exactly the turns they took. The turns are booked LEAD
seconds ahead (the execution's Preprocess runs meanwhile) and at most HORIZON beyond that, so no
caller ever finds more than LEAD + HORIZON seconds of turns booked ahead of it.
"""

import time
from dataclasses import dataclass

from pipeline.common import governor as turns
from pipeline.common.governor import Governor

LEAD_SECONDS = 3.0  # admission to the first Rekognition call: Preprocess (0.2 s CPU, S3 reads and writes)
HORIZON_SECONDS = 2.0
FIRST_LOOK = ("DetectText", "IndexFaces")  # DetectText first: the binding one (the second look calls it too)


@dataclass(frozen=True)
class Admission:
    turns: dict[str, float]  # API -> its booked turn; empty: nothing booked (the deferred case too)
    retry_in: float = 0.0  # > 0: not admitted, its turn is this many seconds away


def admit(governor: Governor | None, budget: float, apis: tuple[str, ...] = FIRST_LOOK) -> Admission:
    """Book the turns of the photo's first-look calls it will make (`apis`: not those whose answers
    were kept), waiting up to `budget` seconds for them, then wait until its execution should start
    (LEAD before its first turn). Nothing to book: admitted at once."""
    if governor is None or not apis:
        return Admission({})
    deadline = turns.clock() + budget
    booked: dict[str, float] = {}
    not_before = 0.0
    for api in (api for api in FIRST_LOOK if api in apis):
        while True:
            now = turns.clock()
            earliest = max(now + LEAD_SECONDS, not_before)
            turn, next_free = governor.book(api, earliest, earliest + HORIZON_SECONDS)
            if turn is not None:
                booked[api] = not_before = turn
                break
            wake = next_free - LEAD_SECONDS - HORIZON_SECONDS
            if wake > deadline:
                return Admission({}, retry_in=max(1.0, wake - now))
            turns.sleep(max(0.0, wake - now))
    turns.sleep(max(0.0, min(booked.values()) - LEAD_SECONDS - turns.clock()))
    return Admission(booked)


class Pacer:
    """At most one start per `interval` seconds (the operator's reprocess loop)."""

    def __init__(self, interval: float, clock=time.monotonic, sleep=time.sleep, offset: float = 0.0):
        self.interval, self._clock, self._sleep = interval, clock, sleep
        self._next = clock() + offset

    def wait(self) -> None:
        now = self._clock()
        slot = max(now, self._next)
        self._sleep(slot - now)
        self._next = slot + self.interval
