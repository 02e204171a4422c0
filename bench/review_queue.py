"""How well the review queue catches reading errors, on RBNR-format folders.

    python bench/review_queue.py ../shared/datasets/rbnr-set1 [--json]

Every labelled photo goes through the Preprocess and DetectText handlers with the vision engine
(as bench/bib_accuracy.py), its faces come from the same engine (DetectFaces), and the reasons are
worked out by the code SaveResults runs (processing.links, corrections.review). Twice: with no event
settings, and with a participant list (the labelled bibs and the readable unlabelled ones of
bench/data: what an organiser's start list holds for these runners).

A reading error is a labelled bib not read (a miss) or a read that is neither labelled nor a
readable unlabelled bib (a wrong read). Reported: photos in the queue, errors, errors in queued
photos ("caught"), caught / errors, and queued photos per error caught (what a person looks at for
each fix); per reason, the photos it flags and how many of them hold an error (the queue's order);
and the queue worked from the top, reason by reason: photos looked at and errors found so far.
`--json` prints one object per variant as the last line.
"""

import argparse
import json
import sys
from pathlib import Path

from bib_accuracy import Reader, event_id_for, read_labels, read_unlabelled, vision_reader

from pipeline.corrections import review
from pipeline.events.settings import EventSettings
from pipeline.processing import links
from snaprace.stack import Stack


def faces_in(reader: Reader, processed_key: str) -> list[dict]:
    answer = reader.stack.rekognition.handle(
        "DetectFaces", {"Image": {"S3Object": {"Bucket": reader.bucket, "Name": processed_key}}}
    )
    return [
        {"faceId": f"face-{index}", "box": {k.lower(): v for k, v in face["BoundingBox"].items()}}
        for index, face in enumerate(answer["FaceDetails"])
    ]


def measure(reader: Reader, folder: Path, participants: set[str] | None, show=lambda _line: None) -> dict:
    labels, unlabelled = read_labels(folder), read_unlabelled(folder)
    event = event_id_for(folder.name) + ("-listed" if participants else "")
    if participants:
        Stack(endpoint_url=reader.stack.endpoint_url).photo_table.settings.put(
            "bench", event, EventSettings(participants=frozenset(participants)).to_item()
        )
    queued, errors, caught, by_reason, by_top = 0, 0, 0, {}, {}
    for name in sorted(labels):
        found, _, _ = reader.read("bench", event, name, (folder / name).read_bytes())
        image, answer = reader.last["image"], reader.last["found"]
        faces = faces_in(reader, image["processedKey"])
        bibs = links.attach_faces(answer["bibs"], faces, image["width"], image["height"])
        reasons = review.reasons(bibs, answer.get("doubtful", []), faces)
        right = set(labels[name]) | unlabelled.get(name, set())
        wrong = len(set(found) - right) + len(set(labels[name]) - set(found))
        errors += wrong
        if wrong and not reasons:
            show(f"  not queued: {name}: labelled {sorted(labels[name])}, read {sorted(found)}")
        if reasons:
            queued += 1
            caught += wrong
            top = by_top.setdefault(reasons[0]["reason"], [0, 0])
            top[0], top[1] = top[0] + 1, top[1] + wrong
        for reason in {r["reason"] for r in reasons}:
            flagged = by_reason.setdefault(reason, {"photos": 0, "with_errors": 0})
            flagged["photos"] += 1
            flagged["with_errors"] += wrong > 0
    order = list(review.REASONS)
    cumulative, looked, fixed = [], 0, 0
    for reason in sorted(by_top, key=order.index):  # a person working the queue from the top
        looked, fixed = looked + by_top[reason][0], fixed + by_top[reason][1]
        cumulative.append({"through": reason, "queued": looked, "caught": fixed})
    return {
        "photos": len(labels),
        "queued": queued,
        "errors": errors,
        "caught": caught,
        "share_caught": round(caught / errors, 3) if errors else None,
        "photos_per_error_caught": round(queued / caught, 2) if caught else None,
        "by_reason": dict(sorted(by_reason.items(), key=lambda kv: order.index(kv[0]))),
        "queue_from_the_top": cumulative,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path, nargs="+")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--show", action="store_true", help="list the photos with errors the queue misses")
    args = parser.parse_args()
    folders = [folder for folder in args.dataset if (folder / "list.txt").is_file()]
    reader = vision_reader(folders, args.json)
    if isinstance(reader, int):
        return reader
    results = {}
    try:
        for folder in folders:
            start_list = set().union(*read_labels(folder).values(), *read_unlabelled(folder).values())
            for variant, participants in (("no event settings", None), ("participant list", start_list)):
                result = measure(reader, folder, participants, print if args.show else (lambda _line: None))
                results[f"{folder.name}: {variant}"] = result
                print(
                    f"{folder} ({variant}): {result['queued']} of {result['photos']} photos queued; "
                    f"{result['caught']} of {result['errors']} reading errors in them "
                    f"({result['share_caught']}); {result['photos_per_error_caught']} photos looked at "
                    "per error caught"
                )
                for reason, flagged in result["by_reason"].items():
                    flags, hits = flagged["photos"], flagged["with_errors"]
                    print(f"    {reason:<18} flags {flags:>3} photos, {hits:>3} with an error")
                for step in result["queue_from_the_top"]:
                    looked, found = step["queued"], step["caught"]
                    print(f"    down to {step['through']:<18} {looked:>3} photos, {found:>3} errors")
    finally:
        reader.stop()
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
