"""What timing results add to a runner's photos: recall by bib, by bib + face, by bib + face + time.

    python bench/timing_accuracy.py [--runners 150] [--seed 3] [--windows 1,1.5,2,3] [--json]

A generated event with known truth goes through its own local stack (scripted engine): runners
with paces from 4 to 7 min/km pass three checkpoints (5K, HALF, FINISH), a quarter of them in
packs a second apart; five cameras (two at HALF, two at FINISH) whose clocks are wrong by
seconds to an hour, each photographer standing a little before the mat (the runner is in focus
0.8-2.5 s before the passing, give or take 0.6 s by runner; one photographer walks up and down,
4 s give or take 1.8 s). A camera takes a photo of 85 % of the runners as they
come into focus (one photo for runners 0.3 s apart); a photo shows every runner within
FRAME_SECONDS (1 s, about 4 m of road) of its moment, up to 5. In each photo a bib is readable
with probability 0.65 (3 % of readable bibs are read as another runner's), a face is visible
with probability 0.6.

The photos are uploaded under each photographer's folder; the results file is imported with
`snaprace timing import`'s code, each camera placed at its checkpoint and its offset estimated
(`checkpoint set`), and every runner searched by bib with the search the API runs. A (runner,
photo) pair is found when the runner's search returns the photo. Reported: recall of bib reads
only, of bib + face, of bib + face + time; the precision of time matches (the photo shows the
runner) and of everything; the offset error per camera against its effective offset (clock
error plus where the photographer stands); and all of it again for each window of --windows, and
without the rule that leaves out another runner's moment, and with one window for every camera
(not widened for the walking photographer). `--json` prints one object on the
last line: recall_bib, recall_face, recall_all, precision_time, offset_error_s, window_s, ...
"""

import argparse
import datetime
import io
import json
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from PIL import Image

from pipeline.common import keys
from pipeline.timing import rules as timing
from pipeline.timing.results_file import Columns
from snaprace import operations
from snaprace import timing as timing_ops
from snaprace.local.engines import embed_script
from snaprace.local.launch import launch
from snaprace.samples import Runner, race_photo
from snaprace.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
ORG, EVENT = "bench", "timing"
DAY = datetime.date(2026, 4, 12)
GUN = datetime.datetime(2026, 4, 12, 8, 0, 0)
CHECKPOINTS = {"5K": 5.0, "HALF": 21.1, "FINISH": 42.2}
# photographer -> (checkpoint, clock offset: seconds to add to the camera's time, lead: seconds
# before the passing the runner is in focus, how much that varies by runner)
CAMERAS = {
    "anna": ("5K", 8.0, 1.0, 0.6),
    "ben": ("HALF", -3600.0 + 3.0, 2.0, 0.6),  # an hour out: the camera is still on another zone
    "cara": ("HALF", 95.0, 0.8, 0.6),
    "dev": ("FINISH", -42.0, 2.5, 0.6),
    "eli": ("FINISH", 588.0, 4.0, 1.8),  # walks up and down the last 30 m before the line
}
CATCH, READABLE, VISIBLE, MISREAD = 0.85, 0.65, 0.6, 0.03
FRAME_SECONDS = 1.0  # a photo shows the runners this close to its moment (about 4 m of road)
BURST_SECONDS = 0.3  # runners closer than this to the last photo are in it: no new photo
MAX_IN_FRAME = 5


@dataclass
class Photo:
    camera: str
    moment: float  # true time (timing system's clock) of the shot
    runners: list[str] = field(default_factory=list)


def generate(count: int, rng: random.Random):
    """(runners' passings {bib: {checkpoint: seconds}}, photos) with the truth of who is in each."""
    passings: dict[str, dict[str, float]] = {}
    bibs = [str(1001 + i) for i in range(count)]
    index = 0
    while index < len(bibs):
        pace = rng.uniform(240, 420)  # s per km
        start = rng.uniform(0, 180)  # crossing the start line after the gun
        pack = 2 if rng.random() < 0.25 else 1  # a quarter run in pairs
        for bib in bibs[index : index + pack]:
            behind = rng.uniform(0, 1.0) if bib != bibs[index] else 0.0
            fade = rng.uniform(1.0, 1.08)
            passings[bib] = {  # seconds after the gun
                cp: start + km * pace * (fade if km > 21 else 1.0) + behind for cp, km in CHECKPOINTS.items()
            }
        index += pack
    photos = []
    for camera, (checkpoint, _, lead, jitter) in CAMERAS.items():
        # when each runner is where the camera is focused: `lead` s before the mat, give or take
        seen = sorted((passings[bib][checkpoint] - lead + rng.gauss(0, jitter), bib) for bib in bibs)
        shots: list[float] = []
        for moment, _ in seen:
            if rng.random() < CATCH and not (shots and moment - shots[-1] <= BURST_SECONDS):
                shots.append(moment)
        for moment in shots:  # a photo shows everyone within FRAME_SECONDS of its moment
            near = sorted((abs(m - moment), bib) for m, bib in seen if abs(m - moment) <= FRAME_SECONDS)
            photos.append(Photo(camera, moment, [bib for _, bib in near[:MAX_IN_FRAME]]))
    return passings, photos


def clock(after_gun: float) -> datetime.datetime:
    return GUN + datetime.timedelta(seconds=after_gun)


def render(photo: Photo, seed: int, rng: random.Random, bibs: list[str]) -> tuple[bytes, dict]:
    """The photo's bytes (scripted: what DetectText and the face engine see) and who shows what."""
    clock_offset = CAMERAS[photo.camera][1]
    camera_time = clock(photo.moment - clock_offset)  # the camera's own clock
    shown = [Runner(bib, rng.random() < READABLE, rng.random() < VISIBLE) for bib in photo.runners]
    data, script = race_photo(seed, shown, 640, 427, taken_at=camera_time.strftime("%Y:%m:%d %H:%M:%S"))
    misread = {}
    for text in script["text"]:
        if rng.random() < MISREAD:
            text["text"] = misread[text["text"]] = rng.choice(bibs)
    if misread:
        exif = Image.open(io.BytesIO(data)).info["exif"]
        data = embed_script(Image.open(io.BytesIO(data)), script, exif=exif)
    return data, {
        "bibs": [r.bib for r in shown if r.show_bib],
        "faces": [r.bib for r in shown if r.show_face],
    }


def results_file(passings: dict, folder: Path) -> Path:
    path = folder / "results.csv"
    rows = ["bib,checkpoint,time"]
    for bib, times in passings.items():
        for checkpoint, moment in times.items():
            rows.append(f"{bib},{checkpoint},{clock(moment):%H:%M:%S.%f}")
    path.write_text("\n".join(rows) + "\n")
    return path


def score(stack: Stack, truth: dict[str, set[str]], without_rule: bool = False) -> dict:
    """Every runner searched by bib; recall by how the pairs were found, precision of time matches."""
    found = {"bib": 0, "face": 0, "time": 0}
    time_matches = time_right = everything = right = 0
    patch = mock.patch.object(timing, "someone_elses_moment", lambda *_: False) if without_rule else None
    if patch:
        patch.start()
    try:
        for bib, mine in truth.items():
            for photo in operations.photos(stack, ORG, EVENT, bib=bib):
                how = {"corrected": "bib"}.get(photo["matchedBy"], photo["matchedBy"])
                hit = photo["photoId"] in mine
                everything, right = everything + 1, right + hit
                found[how] += hit
                if how == "time":
                    time_matches, time_right = time_matches + 1, time_right + hit
    finally:
        if patch:
            patch.stop()
    pairs = sum(len(mine) for mine in truth.values())
    return {
        "pairs": pairs,
        "recall_bib": round(found["bib"] / pairs, 4),
        "recall_face": round((found["bib"] + found["face"]) / pairs, 4),
        "recall_all": round((found["bib"] + found["face"] + found["time"]) / pairs, 4),
        "time_matches": time_matches,
        "precision_time": round(time_right / time_matches, 4) if time_matches else None,
        "precision_all": round(right / everything, 4) if everything else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runners", type=int, default=150)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--windows", default="1,1.5,2,3", help="Windows (seconds) to compare.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    show = (lambda line: print(line, file=sys.stderr)) if args.json else print
    rng = random.Random(args.seed)
    passings, photos = generate(args.runners, rng)
    bibs = sorted(passings)
    rendered = [render(photo, 90_000 + n, rng, bibs) for n, photo in enumerate(photos)]
    truth: dict[str, set[str]] = {bib: set() for bib in bibs}
    uploads = []
    for n, (photo, (data, _)) in enumerate(zip(photos, rendered, strict=True)):
        key = f"{ORG}/{EVENT}/raw/{photo.camera}/{n:05d}.jpg"
        uploads.append((key, data))
        for bib in photo.runners:
            truth[bib].add(keys.photo_id_for(key))
    work = ROOT / ".snaprace" / "timing"
    work.mkdir(parents=True, exist_ok=True)
    local = launch(work / "local.log")
    try:
        stack = Stack(endpoint_url=local.endpoint)
        operations.event_settings(stack, ORG, EVENT, event_date=DAY.isoformat(), timezone="UTC")
        s3 = stack.client("s3")
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda u: s3.put_object(Bucket=stack.bucket, Key=u[0], Body=u[1]), uploads))
        finished, _ = operations.wait(stack, ORG, EVENT, timeout=1800, interval=5)
        if not finished:
            raise SystemExit("the photos were not all processed in 30 minutes")
        show(
            f"{len(photos)} photos of {args.runners} runners processed in {time.monotonic() - started:.0f} s"
        )
        with tempfile.TemporaryDirectory() as folder:
            timing_ops.import_results(stack, ORG, EVENT, results_file(passings, Path(folder)), Columns())
        for camera, (checkpoint, *_) in CAMERAS.items():
            cameras = timing_ops.set_checkpoint(stack, ORG, EVENT, camera, checkpoint, None)
        errors = {}
        for placed in cameras:
            _, clock_offset, lead, _ = CAMERAS[placed["photographer"]]
            effective = clock_offset + lead  # the photo is taken `lead` s before the passing
            errors[placed["photographer"]] = (
                None if placed["offset"] is None else round(placed["offset"] - effective, 2)
            )
            show(
                f"  {placed['photographer']:<5} at {placed['checkpoint']:<6} offset {placed['offset']} "
                f"(effective {effective:+.1f}; spread {placed['spread']}, "
                f"{placed['agreeingPhotos']} photos agree of {placed['comparedReads']} bib reads; "
                f"window ±{placed['windowSeconds']:g} s)"
            )
        sweep = {}
        for window in [float(w) for w in args.windows.split(",")]:
            with mock.patch.object(timing, "WINDOW_SECONDS", window):
                sweep[window] = score(stack, truth)
            show(f"  window ±{window:g} s: {sweep[window]}")
        chosen = score(stack, truth)
        without = score(stack, truth, without_rule=True)
        with mock.patch.object(timing, "camera_window_seconds", lambda _camera: timing.WINDOW_SECONDS):
            fixed = score(stack, truth)
    finally:
        local.stop()
    known = [abs(e) for e in errors.values() if e is not None]
    report = {
        **chosen,
        "window_s": timing.WINDOW_SECONDS,
        "offset_error_s": round(max(known), 2) if known else None,
        "offset_errors_s": errors,
        "precision_time_without_rule": without["precision_time"],
        "recall_all_without_rule": without["recall_all"],
        "recall_all_fixed_window": fixed["recall_all"],
        "precision_time_fixed_window": fixed["precision_time"],
        "photos": len(photos),
        "runners": args.runners,
        "crowd_photos": sum(1 for photo in photos if len(photo.runners) > 1),
        "windows": {f"{w:g}": v for w, v in sweep.items()},
    }
    show(
        f"recall: bib {chosen['recall_bib']:.3f}, bib + face {chosen['recall_face']:.3f}, "
        f"bib + face + time {chosen['recall_all']:.3f} ({chosen['pairs']} runner-photo pairs)"
    )
    show(
        f"precision of time matches {chosen['precision_time']} ({chosen['time_matches']}), of everything "
        f"{chosen['precision_all']}; without the other-runner rule {without['precision_time']}"
    )
    show(
        f"one window for every camera: recall {fixed['recall_all']}, time precision {fixed['precision_time']}"
    )
    show(f"window ±{timing.WINDOW_SECONDS:g} s; largest offset error {report['offset_error_s']} s")
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
