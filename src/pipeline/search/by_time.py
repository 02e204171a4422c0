"""A runner's photos by time: taken by a camera at one of the runner's checkpoints as they passed
(the camera's clock offset applied, pipeline.timing.rules), and not safely someone else's moment."""

from pipeline.store import Store
from pipeline.timing import rules as timing

MAX_CAMERA_QUERIES = 20  # CameraIndex queries per bib search: (camera at a checkpoint) x passing


def photos_by_time(store: Store, org_id: str, event_id: str, bib: str, known: set[str]) -> dict[str, float]:
    """Photo id -> seconds from the runner's passing, other than `known`. Queries: the current
    import, the runner, the cameras, one CameraIndex range per camera and passing, the others'
    passings."""
    items = store.timing
    current = items.current(org_id, event_id)
    runner = current and items.runner(org_id, event_id, current["importId"], bib)
    if not current or not runner:
        return {}
    passings = timing.group_passings(runner)
    ranges = [
        (camera, passing, offset)
        for camera in items.cameras(org_id, event_id)
        if (offset := timing.camera_offset(camera)) is not None
        for passing in passings.get(camera["checkpoint"], ())
    ][:MAX_CAMERA_QUERIES]
    candidates = []  # (photo, its checkpoint, its camera's window, the passing, seconds from it)
    for camera, passing, offset in ranges:
        window = timing.camera_window_seconds(camera)
        first, last = timing.camera_window(passing, offset, window)
        for photo in items.camera_photos(org_id, event_id, camera["camera"], first, last):
            delta = timing.shot_seconds(photo["cameraTime"]) + offset - passing
            if photo["photoId"] not in known and abs(delta) <= window:
                candidates.append((photo, camera["checkpoint"], window, passing, delta))
    others = {b for photo, *_ in candidates for b in photo.get("bibs") or ()} - {bib}
    runners = items.runners(org_id, event_id, current["importId"], others) if others else {}
    their_passings = {other: timing.group_passings(runner) for other, runner in runners.items()}
    found: dict[str, float] = {}
    for photo, checkpoint, window, passing, delta in candidates:
        theirs = {other: by_checkpoint.get(checkpoint, []) for other, by_checkpoint in their_passings.items()}
        if timing.someone_elses_moment(photo, bib, passing, theirs, passing + delta, window):
            continue
        if photo["photoId"] not in found or abs(delta) < abs(found[photo["photoId"]]):
            found[photo["photoId"]] = delta
    return found
