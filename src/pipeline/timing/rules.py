"""Timing results and camera clocks: the rules that find a runner's photos by time (docs/timing.md).

A timing system records when each runner crossed each checkpoint mat. A photographer stands at a
checkpoint, and their camera writes the time of each photo by its own clock, wrong by seconds to
hours. So: each camera's offset is estimated from the photos whose bibs were read (the runner's
passing minus the photo's camera time, over many photos; wrong reads scatter, true ones agree),
and a runner's photos by time are those a camera at their checkpoint took within WINDOW_SECONDS
of their passing, corrected by that offset.

Plain functions over text, numbers and dicts; the table's side is pipeline.store.timing.
"""

import datetime
import math
import re
import statistics
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A photo within this many seconds of a runner's corrected passing is theirs by time. Chosen on
# bench/timing_accuracy.py (docs/timing.md): wide enough for a runner's distance to the mat and
# the offset's error, narrow enough that a crowd a few seconds behind is not taken for them.
WINDOW_SECONDS = 1.5
# A camera whose photos scatter more around its offset (a photographer who moves along the course)
# gets twice its estimate's spread, up to this.
MAX_WINDOW_SECONDS = 5.0
# Offsets: the densest CLUSTER_SECONDS of (passing - camera time) differences is the camera's;
# MIN_PHOTOS agreeing photos make an estimate.
CLUSTER_SECONDS = 10.0
MIN_PHOTOS = 3
# Runners who passed a mat closer together than this may share a frame.
SAME_FRAME_SECONDS = 1.0
# EXIF writes whole seconds: a photo stamped 09:41:07 was taken in [07, 08), on average at 07.5.
CAMERA_SECOND_MIDDLE = 0.5
MAX_NAME = 100
_EPOCH = datetime.datetime(1970, 1, 1)
_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?")


class InvalidTiming(ValueError):
    """A results file, time or camera setting that cannot be used, with what to fix."""


@dataclass
class Runner:
    bib: str
    name: str | None = None
    passings: dict[str, list[str]] = field(default_factory=dict)  # checkpoint -> local ISO times


@dataclass(frozen=True)
class Results:
    runners: dict[str, Runner]
    rows: int

    @property
    def checkpoints(self) -> list[str]:
        return sorted({cp for runner in self.runners.values() for cp in runner.passings})


@dataclass(frozen=True)
class OffsetEstimate:
    """A camera's clock offset (seconds to add to its time to get the timing system's), with
    the spread of the photos it rests on (robust standard deviation) and their number."""

    offset: float
    spread: float
    photos: int
    candidates: int  # every (photo, read bib) pair that could be compared


def event_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTiming(
            f"time zone {name!r}: give an IANA name, e.g. Asia/Seoul or Europe/Berlin"
        ) from None


def local_time(text: str, day: datetime.date, zone: ZoneInfo) -> datetime.datetime:
    """A time from a results file as the event's local wall-clock time (naive): a time of day on
    the event's date, or a full date-time (converted to the event's zone when it has an offset)."""
    text = text.strip()
    found = _TIME_OF_DAY.fullmatch(text)
    if found:
        hour, minute, second, fraction = found.groups()
        if int(hour) > 23 or int(minute) > 59 or int(second) > 59:
            raise InvalidTiming(f"time {text!r} is not a time of day")
        micro = int((fraction or "0").ljust(6, "0"))
        return datetime.datetime.combine(day, datetime.time(int(hour), int(minute), int(second), micro))
    try:
        moment = datetime.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise InvalidTiming(
            f"time {text!r}: give a time of day (HH:MM:SS) or a date-time (YYYY-MM-DDTHH:MM:SS)"
        ) from None
    return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo else moment


def seconds(moment: datetime.datetime) -> float:
    """A naive wall-clock time as seconds on one scale (camera times and passings alike)."""
    return (moment - _EPOCH).total_seconds()


def seconds_of(clock: str) -> float:
    """A 'YYYY-MM-DDTHH:MM:SS' wall-clock time as seconds on the naive scale."""
    return seconds(datetime.datetime.fromisoformat(clock))


def shot_seconds(camera_clock: str) -> float:
    """When a photo stamped with this camera time (whole seconds) was taken, on average."""
    return seconds_of(camera_clock) + CAMERA_SECOND_MIDDLE


def clock_text(value: float) -> str:
    """Seconds on the naive scale back to 'YYYY-MM-DDTHH:MM:SS' (a CameraIndex bound)."""
    return (_EPOCH + datetime.timedelta(seconds=value)).isoformat(timespec="seconds")


def camera_window(passing: float, offset: float, window: float) -> tuple[str, str]:
    """The camera times (whole seconds, as EXIF writes them) within `window` s of a passing."""
    shot = passing - offset - CAMERA_SECOND_MIDDLE
    return clock_text(math.floor(shot - window)), clock_text(math.ceil(shot + window))


def camera_window_seconds(camera: dict) -> float:
    """How far from a passing a camera's photo may be: WINDOW_SECONDS, or twice the spread of
    its offset estimate when that is wider (at most MAX_WINDOW_SECONDS). A hand-set offset comes
    with no spread: WINDOW_SECONDS."""
    if camera.get("clockOffset") is not None:
        return WINDOW_SECONDS
    spread = float((camera.get("estimate") or {}).get("spread") or 0.0)
    return min(max(WINDOW_SECONDS, 2 * spread), MAX_WINDOW_SECONDS)


def camera_offset(camera: dict) -> float | None:
    """A camera's clock offset: the one set by hand, else the estimate, else None (unknown)."""
    if camera.get("clockOffset") is not None:
        return float(camera["clockOffset"])
    estimate = camera.get("estimate") or {}
    return float(estimate["offset"]) if estimate.get("offset") is not None else None


def camera_time(taken_at: str | None) -> str | None:
    """A photo's EXIF time as the camera's own wall clock, 'YYYY-MM-DDTHH:MM:SS' (the sort key of
    CameraIndex); any offset the camera wrote is dropped, since the estimated offset covers it."""
    if not taken_at:
        return None
    try:
        return datetime.datetime.fromisoformat(taken_at).replace(tzinfo=None).isoformat(timespec="seconds")
    except ValueError:
        return None


def fold(text: str) -> str:
    """Accents off, case folded: 'Müller' and 'MULLER' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare).casefold()


def name_tokens(name: str) -> list[str]:
    return [token for token in re.split(r"[\W_]+", fold(name)) if token]


def name_matches(query: list[str], tokens: list[str]) -> bool:
    """Every word typed starts one of the name's words ('jo smi' finds 'John Smith')."""
    return all(any(token.startswith(word) for token in tokens) for word in query)


def full_name_matches(query: list[str], tokens: list[str]) -> bool:
    """The public rule: every word typed is a whole word of the name, and they are the whole name
    or at least two of its words ('jörg müller' finds 'Jörg Müller'; 'jörg', 'jo mü' do not)."""
    typed = set(query)
    return bool(typed) and typed <= set(tokens) and len(typed) >= min(2, len(set(tokens)))


def estimate_offset(differences: list[tuple[str, float]]) -> OffsetEstimate | None:
    """A camera's offset from (photo id, passing - camera time) pairs, one per bib read on its
    photos at its checkpoint: the densest CLUSTER_SECONDS of differences (true reads agree, wrong
    ones scatter), its median, and its robust spread. None when fewer than MIN_PHOTOS agree."""
    ordered = sorted(differences, key=lambda pair: pair[1])
    best: tuple[int, float, int, int] | None = None  # (pairs, -width, start, end)
    end = 0
    for start in range(len(ordered)):  # a sliding window: linear in the pairs
        end = max(end, start)
        while end + 1 < len(ordered) and ordered[end + 1][1] - ordered[start][1] <= CLUSTER_SECONDS:
            end += 1
        candidate = (end - start + 1, -(ordered[end][1] - ordered[start][1]), start, end)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    photos = len({photo for photo, _ in ordered[best[2] : best[3] + 1]}) if best else 0
    if best is None or photos < MIN_PHOTOS:
        return None
    inliers = [value for _, value in ordered[best[2] : best[3] + 1]]
    middle = statistics.median(inliers)
    spread = 1.4826 * statistics.median(abs(value - middle) for value in inliers)
    return OffsetEstimate(round(middle, 1), round(spread, 1), photos, len(differences))


def offset_differences(photos: list[dict], passings_of: dict[str, list[float]]) -> list[tuple[str, float]]:
    """(photo id, passing - camera time) for every bib read on a camera's photos whose runner
    passed its checkpoint. `photos`: {photoId, cameraTime, bibs}; `passings_of`: bib -> seconds."""
    pairs: list[tuple[str, float]] = []
    for photo in photos:
        taken = shot_seconds(photo["cameraTime"])
        for bib in photo.get("bibs") or ():
            pairs.extend((photo["photoId"], passing - taken) for passing in passings_of.get(bib, ()))
    return pairs


def someone_elses_moment(
    photo: dict,
    bib: str,
    passing: float,
    others: dict[str, list[float]],
    corrected: float,
    window: float | None = None,
) -> bool:
    """Whether a photo in a runner's window is safely someone else's moment, so left out: bibs
    were read on it, none is the runner's, it shows no more faces than bibs (nobody unidentified
    in view), each bib read belongs to a runner who passed this checkpoint near the photo (so the
    read is trusted), and none of them passed within SAME_FRAME_SECONDS of the runner (who would
    then have been beside them, perhaps hidden). `passing`: the runner's, in seconds; `others`:
    the photo's bibs -> their passings at this checkpoint; `corrected`: the photo's time on the
    timing system's clock; `window`: the camera's (camera_window_seconds)."""
    window = WINDOW_SECONDS if window is None else window
    bibs = list(photo.get("bibs") or ())
    if not bibs or bib in bibs or len(photo.get("faceIds") or ()) > len(bibs):
        return False
    for other in bibs:
        theirs = others.get(other, ())
        if not any(abs(p - corrected) <= window + SAME_FRAME_SECONDS for p in theirs):
            return False  # not there by their time: perhaps a wrong read
        if any(abs(p - passing) <= SAME_FRAME_SECONDS for p in theirs):
            return False
    return True


def group_passings(runner: Runner) -> dict[str, list[float]]:
    """A runner's passings as seconds, by checkpoint."""
    return {cp: [seconds_of(t) for t in times] for cp, times in runner.passings.items()}


def passings_by_bib(runners, checkpoint: str) -> dict[str, list[float]]:
    found: dict[str, list[float]] = defaultdict(list)
    for runner in runners:
        found[runner.bib].extend(group_passings(runner).get(checkpoint, ()))
    return dict(found)
