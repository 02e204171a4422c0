"""Bib reading measured on RBNR-format folders: the real handlers, the vision engine, the dataset's metrics.

    python bench/bib_accuracy.py ../shared/datasets/rbnr-set1 [MORE_DIRS...] [--json] [--show]
        [--ablation] [--start-list] [--detections FILE]

Each folder holds photos and a `list.txt` ("IMAGE NUMBER" lines, one per labelled bib). Every
listed photo is uploaded to an in-process local stack whose pipeline is paused, then goes through
the Preprocess, DetectText, IndexFaces, SecondLook (when faces were found) and SaveResults handlers
as the state machine calls them, one photo after the other, with the template's environment and the
`vision` engine behind the Rekognition emulator. "First look" is what DetectText returned; "both
looks" what SecondLook handed on to SaveResults.

Metrics as the dataset defines them: precision = correct reads / all reads (each bib once per
photo), recall = correct reads / labelled bibs, F1 = 2PR / (P + R). `list.txt` labels only some
runners, so a read of a readable but unlabelled bib counts against precision; `--show` lists every
such read for a look; bench/data/rbnr_readable_unlabelled.txt lists those checked by eye to be
fully readable bibs, and "fair precision" counts them as correct (recall stays against list.txt).
Extra DetectText calls: the second look's, counted by the stack's meter. sec_per_photo = wall
time of the five handlers per photo on this machine (OCR included).

`--ablation`: the first look's DetectText responses re-read with the rules before any bib-shaped
reasoning and with each rule switched off (pipeline.processing.bibs.BibRules); the second look's sheets
re-read with each of its rules switched off (pipeline.processing.second_look.SecondLookRules), and colour-only
sheets read for the darkest-channel view's worth. `--start-list` gives the event its labelled and
readable unlabelled bibs as the participant list (the partial-number rule needs one).
`--detections FILE` saves the first look's responses. `--json` prints one object as the last
line: {"images", "bibs", "precision", "recall", "f1", "fair_precision", "sec_per_photo",
"extra_calls_per_1000", "first_look": {...}} (all folders together, both looks). A missing
folder is skipped.
"""

import argparse
import base64
import contextlib
import io
import json
import logging
import re
import sys
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.processing.bibs import BibRules, read_bibs

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
READABLE_UNLABELLED = Path(__file__).resolve().parent / "data" / "rbnr_readable_unlabelled.txt"
# Each bib-shaped rule switched off in turn (the switch that turns it off).
ABLATION = {
    "short numbers near-certain": {"short_min_confidence": 0.0},
    "not in the top fifth": {"min_top": 0.0},
    "alone on its line": {"alone_on_line": False},
    "years ignored": {"ignore_years": False},
    "partial reads dropped": {"drop_partials": False},
    "one number per bib": {"one_per_bib": False},
}
# The second look's own rules (pipeline.processing.second_look), each switched off in turn.
SECOND_LOOK_ABLATION = {
    "a number no one wears is dropped": {"worn": False},
    "a read over a first-look bib is that bib": {"not_first_look": False},
    "placed where its face's bib can be": {"placed_under_face": False},
    "a partial number is the one participant's": {"participant_partials": False},  # --start-list
}


def event_id_for(folder_name: str) -> str:
    """A valid event id from any folder name ("set2_org" -> "set2-org")."""
    slug = re.sub(r"[^a-z0-9-]+", "-", folder_name.lower()).strip("-")[:63].strip("-")
    return slug or "bench"


def read_labels(folder: Path) -> dict[str, list[str]]:
    """Photo name -> its labelled bibs, from list.txt (header and "Total ..." lines skipped)."""
    labels: dict[str, list[str]] = {}
    for line in (folder / "list.txt").read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].lower().endswith(IMAGE_SUFFIXES) and parts[1].isalnum():
            labels.setdefault(parts[0], []).append(parts[1].upper())
    return labels


def read_unlabelled(folder: Path) -> dict[str, set[str]]:
    """Photo name -> readable bibs list.txt does not label (bench/data), for this folder's name."""
    extra: dict[str, set[str]] = {}
    for line in READABLE_UNLABELLED.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and not line.startswith("#") and parts[0] == folder.name:
            extra.setdefault(parts[1], set()).add(parts[2])
    return extra


def score(reads: dict[str, set[str]], labels: dict[str, list[str]], unlabelled=None) -> dict:
    """The dataset's precision, recall and F1 over the photos in `labels`; fair_precision also
    counts reads of the readable unlabelled bibs as correct."""
    unlabelled = unlabelled or {}
    made = sum(len(reads.get(name, ())) for name in labels)
    labelled = sum(len(bibs) for bibs in labels.values())
    correct = sum(len(reads.get(name, set()) & set(bibs)) for name, bibs in labels.items())
    readable = sum(
        len(reads.get(name, set()) & (unlabelled.get(name, set()) - set(labels[name]))) for name in labels
    )
    precision = correct / made if made else 0.0
    recall = correct / labelled if labelled else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "images": len(labels),
        "bibs": labelled,
        "reads": made,
        "correct": correct,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "fair_precision": round((correct + readable) / made, 4) if made else 0.0,
    }


def reread(detections: dict[str, list[dict]], rules: BibRules) -> dict[str, set[str]]:
    return {name: {bib.bib for bib in read_bibs(found, rules)} for name, found in detections.items()}


class Reader:
    """The local stack (vision engine, pipeline paused) and the two handlers."""

    def __init__(self):
        from snaprace.local.launch import free_port
        from snaprace.local.stack import LocalStack

        self.stack = LocalStack(
            port=free_port(), engine_name="vision", pipeline=False, progress=lambda _: None
        )
        self.stack.start()
        for name in ["werkzeug", *logging.root.manager.loggerDict]:  # request lines, the functions' logs
            logging.getLogger(name).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        self.s3 = self.stack.client("s3")
        self.bucket = self.stack.resolver.physical_ids["ImageBucket"]
        self.preprocess = self.stack.specs["PreprocessFunction"]  # specs are keyed by logical id
        self.detect_text = self.stack.specs["DetectTextFunction"]
        self.index_faces = self.stack.specs["IndexFacesFunction"]
        self.second_look = self.stack.specs["SecondLookFunction"]
        self.save_results = self.stack.specs["SaveResultsFunction"]
        from pipeline.events.settings import EventSettings
        from pipeline.processing.reading import rules_for

        # the rules the handler applies to an event without settings (the template's environment)
        self.rules = rules_for(EventSettings())

    def read(self, org: str, event: str, name: str, data: bytes) -> tuple[list[str], list[dict], float]:
        """(bibs the DetectText handler returns, the raw TextDetections, seconds in the handlers)."""
        from pipeline.common import keys

        raw_key = f"{org}/{event}/raw/{name}"
        put = self.s3.put_object(Bucket=self.bucket, Key=raw_key, Body=data)
        photo_id = keys.photo_id_for(raw_key)
        state = {
            "action": "process",
            "executionName": f"{photo_id}-bench",
            "photo": {
                "bucket": self.bucket,
                "rawKey": raw_key,
                "etag": put["ETag"].strip('"'),
                "versionId": put.get("VersionId"),
                "orgId": org,
                "eventId": event,
                "photoId": photo_id,
            },
        }
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the functions' log lines and metrics
            state["image"] = self._invoke(self.preprocess, state)
            found = self._invoke(self.detect_text, state)
        took = time.perf_counter() - started
        self.last = {"state": state, "image": state["image"], "found": found}  # for review_queue.py
        detections = self.stack.rekognition.handle(  # the engine's cache: no second OCR run
            "DetectText",
            {"Image": {"S3Object": {"Bucket": self.bucket, "Name": state["image"]["processedKey"]}}},
        )["TextDetections"]
        return [bib["bib"] for bib in found["bibs"]], detections, took

    def look_again(self, ablation: bool = False) -> tuple[list[str], int, float]:
        """The last photo's IndexFaces, SecondLook when it found faces, and SaveResults (a later
        photo's second look reads the bibs saved), as the state machine runs them: (its bibs after
        both looks, DetectText calls SecondLook made, seconds). With `ablation`, what the rules
        work on goes in self.last["second"]."""
        state, found = self.last["state"], self.last["found"]
        started = time.perf_counter()
        calls_before = self.stack.meter.describe()["requests"].get("RekognitionService:DetectText", 0)
        with contextlib.redirect_stdout(io.StringIO()):
            faces = self._invoke(self.index_faces, state)
            state["detections"] = {**found, **faces, "errors": []}
            everyone = faces["faces"] + faces["otherFaces"]
            bibs = self._invoke(self.second_look, state) if everyone else found["bibs"]
            state["detections"]["bibs"] = bibs
            self._invoke(self.save_results, state)
        took = time.perf_counter() - started
        calls = self.stack.meter.describe()["requests"].get("RekognitionService:DetectText", 0) - calls_before
        image = state["image"]
        self.last.update(bibs=bibs, faces=faces)
        if ablation:
            self.last["second"] = {
                "first": found["bibs"],
                "faces": everyone,
                "aspect": image["width"] / image["height"],
                "words": self._sheet_words(image, found["bibs"], everyone, ("colour", "darkest")),
                "colour_words": self._sheet_words(image, found["bibs"], everyone, ("colour",)),
            }
        return [bib["bib"] for bib in bibs], calls, took

    def _sheet_words(self, image: dict, first: list[dict], everyone: list[dict], views) -> list:
        """The handler's sheet built again (with these views) and read (the engine remembers the
        text of a sheet it has read)."""
        from PIL import Image

        from pipeline.processing import second_look

        aspect = image["width"] / image["height"]
        kept = second_look.worn(first, everyone, aspect)
        faces = second_look.faces_without_bib(kept, everyone, image["width"], image["height"])
        if not faces:
            return []
        if image["originalWidth"] > image["width"]:
            raise SystemExit(
                "the ablation rebuilds sheets from processed copies: uploads over 2048 px are not"
            )
        data = self.s3.get_object(Bucket=self.bucket, Key=image["processedKey"])["Body"].read()
        layout = second_look.sheet(Image.open(io.BytesIO(data)).convert("RGB"), faces, views)
        request = {"Image": {"Bytes": base64.b64encode(layout.jpeg).decode()}}
        return second_look.in_photo(
            self.stack.rekognition.handle("DetectText", request)["TextDetections"], layout
        )

    def _invoke(self, spec, state: dict) -> dict:
        invocation = self.stack.functions.invoke(spec, state)
        if invocation.error:
            raise RuntimeError(f"{spec.name} failed: {invocation.payload}")
        return invocation.payload

    def stop(self) -> None:
        self.stack.stop()


def vision_reader(folders: list[Path], as_json: bool) -> "Reader | int":
    """The Reader, or the exit code: 0 when there is nothing to measure, 2 without the vision engine."""
    if not folders:
        print(json.dumps({"skipped": "no dataset folder found"}) if as_json else "nothing to measure")
        return 0
    try:
        return Reader()
    except Exception as exc:  # noqa: BLE001 - e.g. the vision extra is missing: say why, no traceback
        print(f"cannot start the vision engine: {exc}", file=sys.stderr)
        return 2


@dataclass
class Measured:
    """One folder's reads: after the first look, after both, and what the ablation re-reads."""

    labels: dict = field(default_factory=dict)
    first: dict = field(default_factory=dict)
    both: dict = field(default_factory=dict)
    second_inputs: dict = field(default_factory=dict)  # name -> what the second look's rules read
    participants: frozenset | None = None  # --start-list
    calls: int = 0  # DetectText calls the second look made
    by_face: int = 0  # reads resolved to a longer bib by their runner's face (no participant list)
    seconds: float = 0.0

    def add(self, other: "Measured", folder: Path) -> None:
        for mine, theirs in (
            (self.labels, other.labels),
            (self.first, other.first),
            (self.both, other.both),
            (self.second_inputs, other.second_inputs),
        ):
            mine.update({f"{folder}/{name}": value for name, value in theirs.items()})
        self.calls += other.calls
        self.by_face += other.by_face
        self.seconds += other.seconds
        if other.participants:
            self.participants = (self.participants or frozenset()) | other.participants


def measure(
    reader: Reader, folder: Path, show, detections: dict, ablation: bool, start_list: bool
) -> Measured:
    measured = Measured(labels=read_labels(folder))
    event = event_id_for(folder.name)
    if start_list:  # the labelled and the readable unlabelled bibs, as the organiser's start list
        from pipeline.events.settings import EventSettings
        from snaprace.stack import Stack

        event = f"{event[:50]}-listed"
        participants = {bib for bibs in measured.labels.values() for bib in bibs}
        participants |= {bib for bibs in read_unlabelled(folder).values() for bib in bibs}
        Stack(endpoint_url=reader.stack.endpoint_url).photo_table.settings.put(
            "bench", event, EventSettings(participants=frozenset(participants)).to_item()
        )
        measured.participants = frozenset(participants)
    for name in sorted(measured.labels):
        found, raw, took = reader.read("bench", event, name, (folder / name).read_bytes())
        both, calls, again = reader.look_again(ablation)
        measured.first[name], measured.both[name] = set(found), set(both)
        if not measured.participants:  # a read resolved without a participant list: by its runner's face
            measured.by_face += sum("read" in bib for bib in reader.last["bibs"])
        if ablation:
            measured.second_inputs[name] = reader.last["second"]
        detections[f"{folder}/{name}"] = raw
        measured.calls += calls
        measured.seconds += took + again
        labelled = set(measured.labels[name])
        missed, extra = sorted(labelled - set(both)), sorted(set(both) - labelled)
        if missed or extra:
            added = sorted(set(both) - set(found))
            show(
                f"  {name}: labelled {','.join(labelled)}  missed {','.join(missed) or '-'}  "
                f"unlabelled reads {','.join(extra) or '-'}  second look added {','.join(added) or '-'}"
            )
    return measured


def second_look_ablation(measured: Measured, rules, unlabelled: dict) -> list[tuple[str, dict]]:
    """The second look's rules, each switched off in turn, on the same sheets' words (the
    darkest-channel view: on colour-only sheets, read for this)."""
    from pipeline.processing.second_look import SecondLookRules, reads, worn

    rules = rules.for_event(participants=measured.participants)

    def with_rules(extra, words: str = "words") -> dict:
        out = {}
        for name in measured.first:
            second = measured.second_inputs[name]
            kept = worn(second["first"], second["faces"], second["aspect"], extra)
            added = reads(second[words], kept, rules, second["aspect"], extra)
            out[name] = {bib["bib"] for bib in kept + added}
        return out

    variants = [
        ("first look only", {name: set(found) for name, found in measured.first.items()}),
        ("second look (the pipeline's)", with_rules(SecondLookRules())),
        ("without: the darkest-channel view", with_rules(SecondLookRules(), "colour_words")),
    ]
    for label, switch in SECOND_LOOK_ABLATION.items():
        if switch != {"participant_partials": False} or measured.participants:
            variants.append((f"without: {label}", with_rules(SecondLookRules(**switch))))
    return [(label, score(found, measured.labels, unlabelled)) for label, found in variants]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path, nargs="+")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.add_argument("--show", action="store_true", help="list each photo's misses and unlabelled reads")
    parser.add_argument("--ablation", action="store_true", help="what each bib rule is worth")
    parser.add_argument("--detections", type=Path, help="save every DetectText response to this JSON file")
    parser.add_argument(
        "--start-list",
        action="store_true",
        help="give the event its labelled and readable bibs as participants",
    )
    args = parser.parse_args()
    folders = [folder for folder in args.dataset if (folder / "list.txt").is_file()]
    for folder in sorted(set(args.dataset) - set(folders)):
        print(f"skipped {folder}: no list.txt there (the RBNR sets live in ../shared/datasets)")
    reader = vision_reader(folders, args.json)
    if isinstance(reader, int):
        return reader
    total, unlabelled, detections = Measured(), {}, {}
    show = print if args.show else (lambda _line: None)
    try:
        for folder in folders:
            measured = measure(reader, folder, show, detections, args.ablation, args.start_list)
            found_unlabelled = read_unlabelled(folder)
            for label, found in (("first look", measured.first), ("both looks", measured.both)):
                r = score(found, measured.labels, found_unlabelled)
                print(
                    f"{folder} {label}: {r['images']} photos, {r['bibs']} labelled bibs, {r['reads']} reads, "
                    f"{r['correct']} correct: precision {r['precision']:.3f} "
                    f"(fair {r['fair_precision']:.3f}), recall {r['recall']:.3f}, F1 {r['f1']:.3f}"
                )
            total.add(measured, folder)
            unlabelled.update({f"{folder}/{name}": b for name, b in found_unlabelled.items()})
    finally:
        reader.stop()
    photos = max(len(total.labels), 1)
    extra_calls = round(1000 * total.calls / photos)
    if not total.participants:
        print(f"partial reads resolved by their runner's face: {total.by_face}")
    print(
        f"second look: {total.calls} extra DetectText calls ({extra_calls} per 1,000 photos); "
        f"{total.seconds / photos:.3f} s per photo in the five handlers"
    )
    if args.detections:
        args.detections.write_text(json.dumps(detections))
    if args.ablation:
        rules = reader.rules.for_event(participants=total.participants)
        variants = {"all rules (the pipeline's)": rules, "shape, confidence, size only": rules.lenient()}
        variants.update({f"without: {name}": replace(rules, **switch) for name, switch in ABLATION.items()})
        rows = [
            (name, score(reread(detections, variant), total.labels, unlabelled))
            for name, variant in variants.items()
        ]
        print_rows("first look's rules", rows)
        print_rows("second look's rules", second_look_ablation(total, reader.rules, unlabelled))
    both, first = score(total.both, total.labels, unlabelled), score(total.first, total.labels, unlabelled)
    summary = {key: both[key] for key in ("images", "bibs", "precision", "recall", "f1", "fair_precision")}
    summary["sec_per_photo"] = round(total.seconds / photos, 3)
    summary["extra_calls_per_1000"] = extra_calls
    summary["first_look"] = {key: first[key] for key in ("precision", "recall", "f1", "fair_precision")}
    if args.json:
        print(json.dumps(summary))
    return 0


def print_rows(title: str, rows: list[tuple[str, dict]]) -> None:
    print(f"{title:<44} {'reads':>5} {'P':>6} {'fair P':>6} {'R':>6} {'F1':>6}")
    for name, r in rows:
        print(
            f"{name:<44} {r['reads']:>5} {r['precision']:>6.3f} {r['fair_precision']:>6.3f} "
            f"{r['recall']:>6.3f} {r['f1']:>6.3f}"
        )


if __name__ == "__main__":
    sys.exit(main())
