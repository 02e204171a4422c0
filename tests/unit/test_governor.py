"""The governors: turns from the quota table, spaced at 97 % of each API's quota, shared by every
caller, on an injected clock (tests never sleep)."""

import threading
from contextlib import suppress

import boto3
import pytest

from pipeline.common import clients, governor
from pipeline.common.errors import RekognitionThrottled
from pipeline.processing import pacing
from snaprace.samples import Runner, race_photo

REGION = "ap-northeast-2"
QUOTA_TABLE = "SnapRaceQuotas-test"


class Clock:
    """Epoch seconds that move only when someone sleeps."""

    def __init__(self, now: float = 1_796_000_000.0):
        self.now, self.slept = now, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(governor, "clock", fake)
    monkeypatch.setattr(governor, "sleep", fake.sleep)
    return fake


@pytest.fixture
def governed(aws, monkeypatch):
    """The stack's governors on: the quota table of the template, quotas of 10 TPS (SearchFaces 4)."""
    from pipeline.common.config import get_config

    monkeypatch.setenv("QUOTA_TABLE_NAME", QUOTA_TABLE)
    monkeypatch.setenv("REKOGNITION_QUOTAS", "DetectText=10,IndexFaces=10,SearchFaces=4,SearchFacesByImage=5")
    monkeypatch.setenv("RUNNER_SEARCH_SHARE", "0.5")
    get_config.cache_clear()
    stack = governor.stack_governor()
    assert stack is not None
    return stack


def next_turn(api: str) -> float | None:
    item = boto3.resource("dynamodb", region_name=REGION).Table(QUOTA_TABLE).get_item(Key={"api": api})
    return float(item["Item"]["nextTurn"]) if "Item" in item else None


def test_turns_are_spaced_at_97_percent_of_the_quota(governed, clock):
    turns = [governed.take("DetectText", wait=20) for _ in range(10)]
    step = 1 / (0.97 * 10)
    assert turns == pytest.approx([clock.now + n * step for n in range(10)], abs=1e-5)
    assert next_turn("DetectText") == pytest.approx(clock.now + 10 * step, abs=1e-5)
    assert governed.take("IndexFaces", wait=20) == pytest.approx(clock.now)  # each API its own turns


def test_no_turn_within_the_wait_is_refused_without_taking_one(governed, clock):
    for _ in range(20):  # two seconds of turns booked ahead
        governed.take("DetectText", wait=20)
    before = next_turn("DetectText")
    with pytest.raises(RekognitionThrottled, match="no turn within 1 s"):
        governed.take("DetectText", wait=1)
    assert next_turn("DetectText") == before  # nothing taken: the queue behind is not pushed back
    clock.now += 1.5
    assert governed.take("DetectText", wait=1) == pytest.approx(before, abs=1e-5)


def test_a_next_turn_written_by_a_clock_far_ahead_is_reset_not_waited_for(governed, clock):
    """A host whose clock ran an hour ahead would otherwise stall every caller for an hour."""
    boto3.resource("dynamodb", region_name=REGION).Table(QUOTA_TABLE).put_item(
        Item={"api": "DetectText", "nextTurn": governor._decimal(clock.now + 3600)}
    )
    assert governed.take("DetectText", wait=1) == pytest.approx(clock.now, abs=1e-5)
    assert next_turn("DetectText") == pytest.approx(clock.now + 1 / 9.7, abs=1e-5)


def test_an_idle_governor_gives_the_turn_at_once(governed, clock):
    governed.take("DetectText", wait=20)
    clock.now += 60  # a quiet minute leaves no credit behind: turns stay spaced from now on
    assert governed.take("DetectText", wait=20) == pytest.approx(clock.now)
    assert governed.take("DetectText", wait=20) == pytest.approx(clock.now + 1 / 9.7, abs=1e-5)


def test_runners_keep_their_share_of_search_faces(governed, clock):
    """The second look's SearchFaces calls cannot push runners' searches back: two queues, each
    at its share of 0.97 x 4 TPS."""
    for _ in range(30):  # 15 s of the pipeline's share booked ahead
        governed.take("SearchFaces", wait=60)
    assert governed.take("SearchFaces", wait=2, caller=governor.RUNNERS) == pytest.approx(clock.now)
    assert governed.take("SearchFaces", wait=2, caller=governor.RUNNERS) == pytest.approx(
        clock.now + 1 / (0.97 * 4 * 0.5), abs=1e-5
    )
    assert governed.rate("SearchFaces") + governed.rate("SearchFaces", governor.RUNNERS) == pytest.approx(
        0.97 * 4
    )


def test_concurrent_callers_get_distinct_evenly_spaced_turns(governed, clock):
    """Eight callers at once (the contention of hundreds, in one moto whose writes are atomic per
    item, as DynamoDB's are: the local stack's fix): every turn is taken once."""
    from snaprace.local.moto_fixes import serialise_dynamodb_writes

    serialise_dynamodb_writes()
    taken: list[float] = []
    lock = threading.Lock()

    def caller():
        for _ in range(15):
            turn = governed.take("DetectText", wait=60)
            with lock:
                taken.append(turn)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken.sort()
    gaps = [b - a for a, b in zip(taken, taken[1:], strict=False)]
    assert len(taken) == 120
    assert min(gaps) == pytest.approx(1 / 9.7, abs=1e-5)
    assert max(gaps) == pytest.approx(1 / 9.7, abs=1e-5)


@pytest.fixture
def rekognition(governed, emulated_rekognition):
    """The handlers' client (its before-call hook takes turns) answered by the emulator."""
    return clients.rekognition()


@pytest.fixture
def calls(emulated_rekognition):
    return emulated_rekognition.calls


def detect(client) -> None:
    data, _ = race_photo(1, [Runner("123")])
    client.detect_text(Image={"Bytes": data})


def test_every_call_of_the_client_waits_for_its_turn(rekognition, clock):
    started = clock.now
    for _ in range(3):
        detect(rekognition)
    assert clock.slept == pytest.approx([1 / 9.7, 1 / 9.7], abs=1e-5)  # the first one's turn was now
    assert clock.now == pytest.approx(started + 2 / 9.7, abs=1e-5)


def test_a_booked_turn_is_used_by_the_first_attempt_only(rekognition, clock):
    booked = clock.now + 3
    with governor.booked({"turns": {"DetectText": booked}, "retryCount": 0}):
        detect(rekognition)  # at its booked turn, taking none
        assert clock.now == pytest.approx(booked)
        assert next_turn("DetectText") is None
        detect(rekognition)  # a second call in the same step takes its own
    assert next_turn("DetectText") == pytest.approx(booked + 1 / 9.7, abs=1e-5)
    retried_at = clock.now
    with governor.booked({"turns": {"DetectText": clock.now + 30}, "retryCount": 1}):
        detect(rekognition)  # a retried step takes a new turn: the booked one was spent
    assert clock.now == pytest.approx(retried_at + 1 / 9.7, abs=1e-5)


def test_a_booked_turn_missed_by_more_than_half_a_second_is_given_up_for_a_new_one(rekognition, clock):
    """A step that comes late (its Preprocess took longer than the starter's lead) does not call at
    once: that would bunch with the turns after its own. It takes the next free turn."""
    for _ in range(5):  # turns booked by others from now on
        governor.stack_governor().take("DetectText", wait=60)
    with governor.booked({"turns": {"DetectText": clock.now - 2}, "retryCount": 0}):
        started = clock.now
        detect(rekognition)
    assert clock.now == pytest.approx(started + 5 / 9.7, abs=1e-5)  # behind the five


def test_a_person_waits_briefly_and_is_told_when_no_turn_comes(rekognition, calls, clock):
    for _ in range(40):  # 4 s of DetectText turns booked ahead
        governor.stack_governor().take("DetectText", wait=60)
    with (
        governor.serving(governor.RUNNERS, governor.PERSON_WAIT_SECONDS),
        pytest.raises(RekognitionThrottled),
    ):
        detect(rekognition)
    assert clock.slept == []  # refused at once, and no Rekognition attempt was spent
    assert calls["DetectText"] == 0
    detect(rekognition)  # the pipeline's own call waits its turn
    assert calls["DetectText"] == 1


def test_a_search_shares_one_wait_across_its_calls(rekognition, calls, clock):
    """Two seconds for the whole request, not per call: with 1.2 s of turns booked ahead, four calls
    get theirs within it; the fifth, whose turn would come after, is refused without an attempt."""
    data, _ = race_photo(1, [Runner("123")])
    for _ in range(6):  # the runners' SearchFacesByImage turns come 1 / 4.85 s apart
        governor.stack_governor().take("SearchFacesByImage", wait=60, caller=governor.RUNNERS)
    started = clock.now
    runner = governor.serving(governor.RUNNERS, 2.0)
    with runner, pytest.raises(RekognitionThrottled):
        for _ in range(5):
            # the emulator has no such collection: the call was made, at its turn
            with suppress(rekognition.exceptions.ResourceNotFoundException):
                rekognition.search_faces_by_image(CollectionId="c", Image={"Bytes": data})
    assert calls["SearchFacesByImage"] == 4
    assert clock.now - started <= 2.0


def test_admission_books_the_first_calls_lead_seconds_ahead(governed, clock):
    admitted = pacing.admit(governed, budget=20)
    assert set(admitted.turns) == {"DetectText", "IndexFaces"}
    assert admitted.turns["DetectText"] == pytest.approx(clock.now + pacing.LEAD_SECONDS, abs=1e-5)
    assert admitted.turns["IndexFaces"] >= admitted.turns["DetectText"]


def test_admission_keeps_the_booked_turns_within_its_horizon(governed, clock):
    """Photos admitted back to back: each waits for its turn, and nobody finds more than
    LEAD + HORIZON seconds of turns booked ahead of them."""
    started = clock.now
    for _ in range(50):
        admitted = pacing.admit(governed, budget=20)
        assert admitted.turns["DetectText"] - clock.now <= pacing.LEAD_SECONDS + pacing.HORIZON_SECONDS + 1e-6
    assert next_turn("DetectText") - clock.now <= pacing.LEAD_SECONDS + pacing.HORIZON_SECONDS + 0.2
    # each execution starts LEAD before its first turn: the 50 starts are one turn apart
    assert clock.now - started == pytest.approx(49 / 9.7, abs=1e-3)


def test_admission_beyond_the_budget_books_nothing_and_says_when(governed, clock):
    for _ in range(100):  # 10 s of DetectText turns taken by the second look
        governed.take("DetectText", wait=60)
    before = next_turn("DetectText")
    admitted = pacing.admit(governed, budget=2)
    assert admitted.turns == {}
    expected = before - clock.now - pacing.LEAD_SECONDS - pacing.HORIZON_SECONDS
    assert admitted.retry_in == pytest.approx(expected, abs=1e-5)
    assert next_turn("DetectText") == before
