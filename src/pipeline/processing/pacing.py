"""Admission control for Rekognition: new executions are started no faster than the account's
quota allows, so a burst of uploads waits in the queue (durable, free) instead of turning into
throttled calls, retries and failed photos.

Each starter container spaces the executions it starts by `interval` seconds; with at most
`concurrency` containers (the queue's MaximumConcurrency) the stack starts at most
concurrency / interval executions per second. Every execution calls IndexFaces once and
DetectText once, plus once more for the second look on a photo with a runner left without a bib
(pipeline.processing.second_look): the interval is set for SECOND_LOOK_SHARE of the photos taking a second
look, so the DetectText calls stay under the quota too.
"""

import random
import time

SHARE_OF_QUOTA = 0.9  # headroom: calls bunch behind Preprocess, throttled ones retry (bench/throughput.py)
SECOND_LOOK_SHARE = 0.6  # photos that call DetectText twice: 55 % of RBNR set 1 (bench/bib_accuracy.py)


def interval_for(quota_tps: float, concurrency: int) -> float:
    """Seconds between two executions started by one container."""
    return concurrency * (1 + SECOND_LOOK_SHARE) / (quota_tps * SHARE_OF_QUOTA)


class Pacer:
    def __init__(self, interval: float, clock=time.monotonic, sleep=time.sleep, offset: float | None = None):
        self.interval, self._clock, self._sleep = interval, clock, sleep
        # containers started together by a burst take their first slots spread over one interval,
        # not all at once
        self._next = clock() + (random.uniform(0, interval) if offset is None else offset)  # noqa: S311

    def delay(self) -> float:
        """Seconds until this container's next slot."""
        return max(0.0, self._next - self._clock())

    def wait(self, budget: float) -> bool:
        """Wait for this container's next slot; False (without waiting) when that is more than
        `budget` seconds away."""
        now = self._clock()
        slot = max(now, self._next)
        if slot - now > budget:
            return False
        self._sleep(slot - now)
        self._next = slot + self.interval
        return True
