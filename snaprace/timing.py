"""What the timing commands do: import an event's results, place its cameras at checkpoints,
estimate their clock offsets, find runners by name (docs/timing.md)."""

import datetime
from pathlib import Path

from pipeline.common.errors import BadRequest
from pipeline.events.settings import EventSettings
from pipeline.store.timing import ImportRaced, TimingItems
from pipeline.timing import results_file
from pipeline.timing import rules as timing
from snaprace.operations import photo_search, validate_ids
from snaprace.stack import Stack, StackError

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_CAMERA = 100
MAX_OFFSET_SECONDS = 2 * 86400


def timing_items(stack: Stack) -> TimingItems:
    return stack.photo_table.timing


def import_results(
    stack: Stack, org_id: str, event_id: str, path: Path, columns: results_file.Columns
) -> dict:
    """Read the whole file, refuse it with every bad row's line if any, else replace the event's
    results with it; then estimate the cameras' offsets again."""
    validate_ids(org_id, event_id)
    settings = EventSettings.from_item(stack.photo_table.settings.get(org_id, event_id, consistent=True))
    if not settings.date or not settings.timezone:
        raise StackError(
            "the event has no date or time zone: set them first, e.g. snaprace event-settings "
            f"--org {org_id} --event {event_id} --date 2026-04-12 --timezone Asia/Seoul"
        )
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise StackError(
                f"{path}: larger than {MAX_FILE_BYTES // 1048576} MB: is it one event's results?"
            )
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise StackError(f"{path}: not UTF-8 text; save the export as CSV UTF-8") from None
    except OSError as exc:
        raise StackError(f"{path}: {exc.strerror}") from None
    try:
        results = results_file.parse_results(
            text, columns, datetime.date.fromisoformat(settings.date), timing.event_zone(settings.timezone)
        )
        summary = timing_items(stack).replace_results(org_id, event_id, results, path.name)
    except (timing.InvalidTiming, ImportRaced) as exc:
        raise StackError(str(exc)) from None
    return {**summary, "cameras": estimate_offsets(stack, org_id, event_id)}


def set_checkpoint(
    stack: Stack, org_id: str, event_id: str, camera: str, checkpoint: str, offset: float | None
) -> list[dict]:
    """Place a photographer's camera at a checkpoint (with a clock offset set by hand, or to be
    estimated); the offsets of every camera, estimated again."""
    validate_ids(org_id, event_id)
    camera = camera.strip()
    if not camera or len(camera) > MAX_CAMERA or not camera.isprintable():
        raise StackError(f"--photographer {camera[:40]!r}: a name of 1-{MAX_CAMERA} printable characters")
    try:
        checkpoint = results_file.checked_checkpoint(checkpoint)
    except timing.InvalidTiming as exc:
        raise StackError(f"--checkpoint: {exc}") from None
    current = timing_items(stack).current(org_id, event_id, consistent=True)
    if current and checkpoint not in current["checkpoints"]:
        known = ", ".join(current["checkpoints"])
        raise StackError(f"--checkpoint {checkpoint!r} is not in the event's timing results ({known})")
    if offset is not None and abs(offset) > MAX_OFFSET_SECONDS:
        raise StackError("--clock-offset: seconds, at most two days either way")
    timing_items(stack).put_camera(org_id, event_id, camera, checkpoint, offset)
    return estimate_offsets(stack, org_id, event_id)


def estimate_offsets(stack: Stack, org_id: str, event_id: str) -> list[dict]:
    """Each camera's clock offset estimated from its photos' bib reads against the runners'
    passings at its checkpoint, stored for the search; the report says which offset is used."""
    validate_ids(org_id, event_id)
    table = timing_items(stack)
    current = table.current(org_id, event_id, consistent=True)
    runners = table.all_runners(org_id, event_id, current["importId"]) if current else []
    report = []
    for camera in table.cameras(org_id, event_id):
        photos = table.camera_photos(org_id, event_id, camera["camera"])
        passings = timing.passings_by_bib(runners, camera["checkpoint"])
        pairs = timing.offset_differences(photos, passings)
        estimate = timing.estimate_offset(pairs)
        table.put_estimate(org_id, event_id, camera["camera"], estimate)
        manual = camera.get("clockOffset")
        used = float(manual) if manual is not None else (estimate.offset if estimate else None)
        report.append(
            {
                "photographer": camera["camera"],
                "checkpoint": camera["checkpoint"],
                "offset": used,
                "source": "manual" if manual is not None else ("estimated" if estimate else "unknown"),
                "estimated": None if estimate is None else estimate.offset,
                "spread": None if estimate is None else estimate.spread,
                "agreeingPhotos": 0 if estimate is None else estimate.photos,
                "comparedReads": len(pairs),
                "photos": len(photos),
                "windowSeconds": timing.camera_window_seconds(
                    {**camera, "estimate": {"spread": estimate.spread} if estimate else None}
                ),
            }
        )
    return report


def runners_named(stack: Stack, org_id: str, event_id: str, text: str) -> list[dict]:
    validate_ids(org_id, event_id)
    try:
        return photo_search(stack).runners_named(org_id, event_id, text)
    except BadRequest as exc:
        raise StackError(str(exc)) from None
