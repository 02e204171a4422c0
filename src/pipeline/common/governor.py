"""One governor per Rekognition API, shared by every caller: each call takes a turn first, so the
stack spends SHARE_OF_QUOTA of each API's quota with its calls spaced evenly, instead of bunching
into throttles (bench/throughput.py measures it).

A turn is a moment at which one call may be made. Each API's next free turn is one small item in
the quota table ({"api": "DetectText", "nextTurn": epoch seconds}), moved on by 1 / rate per turn
with one conditional UpdateItem (a generic cell rate algorithm): a caller gets the next free turn,
or none when that is later than it may wait, and sleeps until its turn; it never spends a
Rekognition attempt (or polls) to find out. The items stay under 100 bytes: one write unit per
call, and at 0.97 x a 50 TPS quota ~49 writes a second on the busiest item, far from DynamoDB's
1,000 per item. SearchFaces has two items: runners' searches keep RUNNER_SEARCH_SHARE of its rate
(the stack's RunnerSearchShare), the second look the rest.

Who calls: the starter books each photo's first DetectText and IndexFaces turns when it admits
the photo (pipeline.handlers.start_processing) and hands them to the execution, which makes those
calls at their turns (`booked`); every other call (a retry, the second look, a search, a
correction) takes its turn when it calls, through the Rekognition client's before-call hook
(pipeline.common.clients). A caller serving a person waits briefly (`serving`).
"""

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from pipeline.common.config import GOVERNED, get_config
from pipeline.common.errors import RekognitionThrottled

SHARE_OF_QUOTA = 0.97  # AWS counts calls as they arrive: the 3 % covers network jitter
RUNNERS = "runners"
PIPELINE_WAIT_SECONDS = 20.0  # a step's own turn: its function's timeout is 30 s or more
PERSON_WAIT_SECONDS = 2.0  # a runner or an organiser waiting on a page
LATE_SECONDS = 0.5  # a booked turn this far past is given up for a new one
# no caller books further ahead than its wait (20 s, the starter 3 + 2 + its ~27 s): a next turn
# beyond this was written by a host whose clock ran ahead, and would stall every caller
CORRUPT_AHEAD_SECONDS = 120.0
_CONTENTION_ATTEMPTS = 4

_thread = threading.local()  # per invocation (a Lambda container runs one at a time; local: a thread)


def clock() -> float:
    """Epoch seconds: the callers are on different hosts (tests replace it, and `sleep`)."""
    return time.time()


def sleep(seconds: float) -> None:
    time.sleep(seconds)


class Governor:
    """Turns for the governed APIs from the quota table."""

    def __init__(self, table, quotas: dict[str, float], runner_share: float):
        self.table, self.quotas, self.runner_share = table, quotas, runner_share

    def rate(self, api: str, caller: str = "") -> float:
        """Turns per second of one API's item."""
        rate = SHARE_OF_QUOTA * self.quotas[api]
        if api == "SearchFaces":
            rate *= self.runner_share if caller == RUNNERS else 1 - self.runner_share
        return rate

    @staticmethod
    def item_key(api: str, caller: str = "") -> str:
        return f"{api}#{RUNNERS}" if api == "SearchFaces" and caller == RUNNERS else api

    def book(
        self, api: str, not_before: float, latest: float, caller: str = ""
    ) -> tuple[float | None, float]:
        """(the first free turn at or after `not_before`, or None when that is after `latest`;
        the next free turn after it)."""
        key, step = self.item_key(api, caller), _decimal(1 / self.rate(api, caller))
        values = {":step": step, ":from": _decimal(not_before)}
        for _ in range(_CONTENTION_ATTEMPTS):
            try:  # behind a queue: the next free turn is ours if it is soon enough
                answer = self.table.update_item(
                    Key={"api": key},
                    UpdateExpression="ADD nextTurn :step",
                    ConditionExpression="nextTurn BETWEEN :from AND :latest",
                    ExpressionAttributeValues={**values, ":latest": _decimal(latest)},
                    ReturnValues="UPDATED_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                turn = float(answer["Attributes"]["nextTurn"] - step)
                return turn, turn + float(step)
            except ClientError as exc:
                if not _condition_failed(exc):
                    raise
                next_turn = exc.response.get("Item", {}).get("nextTurn")  # low-level: {"N": "..."}
                if next_turn is not None and float(next_turn["N"]) > clock() + CORRUPT_AHEAD_SECONDS:
                    self._reset(key, next_turn["N"])
                    continue
                if next_turn is not None and float(next_turn["N"]) > latest:
                    return None, float(next_turn["N"])
            try:  # no queue: the turn is `not_before`
                self.table.update_item(
                    Key={"api": key},
                    UpdateExpression="SET nextTurn = :from + :step",
                    ConditionExpression="attribute_not_exists(nextTurn) OR nextTurn < :from",
                    ExpressionAttributeValues=values,
                )
                return not_before, not_before + float(step)
            except ClientError as exc:  # another caller moved it meanwhile: join the queue
                if not _condition_failed(exc):
                    raise
        raise RekognitionThrottled(f"no {api} turn: the quota table is contended")

    def _reset(self, key: str, seen: str) -> None:
        """Start the queue again from now (only if nobody moved it meanwhile)."""
        try:
            self.table.update_item(
                Key={"api": key},
                UpdateExpression="SET nextTurn = :now",
                ConditionExpression="nextTurn = :seen",
                ExpressionAttributeValues={":now": _decimal(clock()), ":seen": Decimal(seen)},
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise

    def take(self, api: str, wait: float, caller: str = "") -> float:
        """The next free turn of `api` within `wait` seconds (RekognitionThrottled otherwise: the
        state machine retries a step later, a search answers without it)."""
        now = clock()
        turn, next_free = self.book(api, now, now + wait, caller)
        if turn is None:
            raise RekognitionThrottled(
                f"Rekognition {api}: no turn within {wait:g} s (the next in {next_free - now:.0f} s)"
            )
        return turn


def _decimal(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def stack_governor() -> Governor | None:
    """The stack's governor (None where no quota table is configured: a unit test's moto)."""
    config = get_config()
    if not config.quota_table_name:
        return None
    return Governor(_table(config.quota_table_name), config.rekognition_quotas, config.runner_search_share)


@cache
def _table(name: str):
    """The quota table, once per container (not pipeline.common.clients': it imports this module
    for the Rekognition client's hook)."""
    return boto3.resource("dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 5})).Table(
        name
    )


# ---------------------------------------------------------------- the calling invocation


@contextmanager
def serving(caller: str, wait: float) -> Iterator[None]:
    """Calls made inside wait for their turns, on `caller`'s share, at most `wait` seconds in all
    (a search that makes several calls shares one wait: a page answers in time)."""
    before = getattr(_thread, "serving", None)
    _thread.serving = (caller, clock() + wait)
    try:
        yield
    finally:
        _thread.serving = before


@contextmanager
def booked(state: Mapping[str, Any]) -> Iterator[None]:
    """Inside, the first call of each API uses the turn the starter booked for this execution
    (its state's "turns"); only in the step's first attempt (its "retryCount" 0): a step the
    state machine runs again takes new turns."""
    turns = (state.get("turns") or {}) if state.get("retryCount", 0) == 0 else {}
    _thread.prepaid = {api: float(turn) for api, turn in turns.items() if api in GOVERNED}
    try:
        yield
    finally:
        _thread.prepaid = {}


def turn_for(api: str) -> None:
    """Wait for this call's turn (the Rekognition client's before-call hook)."""
    if api not in GOVERNED:
        return
    turn = getattr(_thread, "prepaid", {}).pop(api, None)
    governor = stack_governor()
    if turn is not None and clock() - turn > LATE_SECONDS:
        turn = None  # the step came late (a slow Preprocess): calling now would bunch with the turns after it
    if turn is None:
        if governor is None:
            return
        caller, deadline = getattr(_thread, "serving", None) or ("", clock() + PIPELINE_WAIT_SECONDS)
        turn = governor.take(api, max(0.0, deadline - clock()), caller)
    delay = turn - clock()
    if delay > 0:
        sleep(delay)
