"""A timing system's results file (CSV: bib, checkpoint, time, and the runner's name) read as
runners and their passings (pipeline.timing.rules.Results). Every bad row is an error naming its
line; nothing is imported half-read (docs/timing.md)."""

import csv
import datetime
import io
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pipeline.processing.bibs import searched_bib
from pipeline.timing.rules import MAX_NAME, InvalidTiming, Results, Runner, local_time

MAX_CHECKPOINT = 40
MAX_ERRORS_SHOWN = 10
MAX_PASSINGS = 500_000  # 30,000 runners x 16 mats: a results file beyond this is not one event's
# Reads of one chip at one mat closer than this are one passing; further apart (an out-and-back
# course crossing the same mat twice) they are two.
SAME_PASSING_SECONDS = 60.0
_CHECKPOINT = re.compile(r"[\w .+\-/]+")


@dataclass(frozen=True)
class Columns:
    """Which of the file's columns hold what (matched without regard to case or spaces)."""

    bib: str = "bib"
    checkpoint: str = "checkpoint"
    time: str = "time"
    name: tuple[str, ...] = ("name",)  # several ("first name", "last name") are joined with spaces


def parse_results(text: str, columns: Columns, day: datetime.date, zone: ZoneInfo) -> Results:
    """A timing export (CSV with a header; comma, semicolon or tab) as runners and passings. Every
    bad row is an error naming its line; nothing is returned half-read."""
    reader = csv.reader(io.StringIO(text), _dialect(text))
    lines = _read(reader)
    header = next(lines, None)
    if not header:
        raise InvalidTiming("the file is empty: it needs a header row naming bib, checkpoint and time")
    where = _column_positions(header, columns)
    runners: dict[str, Runner] = {}
    names: dict[str, tuple[str, int]] = {}
    errors: list[str] = []
    rows = 0
    for row in lines:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        rows += 1
        if rows > MAX_PASSINGS:
            raise InvalidTiming(f"more than {MAX_PASSINGS} passings: is this one event's results?")
        try:
            bib, checkpoint, moment, name = _row(row, where, day, zone)
        except InvalidTiming as exc:
            errors.append(f"line {line}: {exc}")
            continue
        runner = runners.setdefault(bib, Runner(bib))
        if name:
            first = names.setdefault(bib, (name, line))
            if first[0] != name:
                errors.append(
                    f"line {line}: bib {bib} is named {name!r} here and {first[0]!r} on line {first[1]}"
                )
                continue
            runner.name = name
        _add_passing(runner.passings.setdefault(checkpoint, []), moment)
    if errors:
        shown = "\n  ".join(errors[:MAX_ERRORS_SHOWN])
        more = f"\n  ... and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise InvalidTiming(f"{len(errors)} rows refused, nothing imported:\n  {shown}{more}")
    if not runners:
        raise InvalidTiming("the file has a header but no results")
    return Results(runners, rows)


def _read(reader):
    """The reader's rows; a line CSV cannot read (a NUL byte, a field over the size limit) refuses
    the file, by its line."""
    try:
        yield from reader
    except csv.Error as exc:
        raise InvalidTiming(f"line {reader.line_num}: not readable as CSV ({exc})") from None


def _dialect(text: str):
    try:
        return csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _column_positions(header: list[str], columns: Columns) -> dict[str, list[int]]:
    seen = {cell.strip().casefold(): index for index, cell in enumerate(header)}
    wanted = {"bib": [columns.bib], "checkpoint": [columns.checkpoint], "time": [columns.time]}
    where, missing = {}, []
    for role, names in wanted.items():
        positions = [seen[n.strip().casefold()] for n in names if n.strip().casefold() in seen]
        if not positions:
            missing.append(f"{role} ({names[0]!r}: --{role}-column NAME maps another)")
        where[role] = positions
    if missing:
        found = ", ".join(repr(cell.strip()) for cell in header[:12])
        raise InvalidTiming(f"line 1: no column for {'; '.join(missing)}; the header has {found}")
    where["name"] = [seen[n.strip().casefold()] for n in columns.name if n.strip().casefold() in seen]
    return where


def _row(row: list[str], where: dict, day: datetime.date, zone: ZoneInfo):
    def cell(role: str) -> str:
        index = where[role][0]
        return row[index].strip() if index < len(row) else ""

    try:
        bib = searched_bib(cell("bib"))
    except ValueError:
        raise InvalidTiming(f"bib {cell('bib')[:20]!r} is not a bib number") from None
    checkpoint = checked_checkpoint(cell("checkpoint"))
    if not cell("time"):
        raise InvalidTiming("no time")
    moment = local_time(cell("time"), day, zone)
    parts = [row[i].strip() for i in where["name"] if i < len(row) and row[i].strip()]
    name = " ".join(parts) or None
    if name and (len(name) > MAX_NAME or not name.isprintable()):
        raise InvalidTiming(f"the name is longer than {MAX_NAME} characters or has control characters")
    return bib, checkpoint, moment, name


def checked_checkpoint(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_CHECKPOINT or not _CHECKPOINT.fullmatch(name):
        raise InvalidTiming(
            f"checkpoint {name[:50]!r}: a name of up to {MAX_CHECKPOINT} letters, digits, spaces or .+-/_"
        )
    return name


def _add_passing(times: list[str], moment: datetime.datetime) -> None:
    """One more read at a mat: the earliest of reads close together is the passing."""
    for index, known in enumerate(times):
        earlier = datetime.datetime.fromisoformat(known)
        if abs((moment - earlier).total_seconds()) < SAME_PASSING_SECONDS:
            times[index] = min(earlier, moment).isoformat()
            return
    times.append(moment.isoformat())
    times.sort()
