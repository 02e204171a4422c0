"""What a second look could gain on RBNR-format folders, measured before it is built (issue #20).

    .venv/bin/python bench/second_look_probe.py ../shared/datasets/rbnr-set1 [--scale 3] [--json]

Every labelled photo goes through Preprocess and DetectText with the vision engine (as
bench/bib_accuracy.py); its faces come from the same engine (DetectFaces). For each face with no
bib linked to it (pipeline.links), the torso below it (1.5 face widths either side of its centre,
from 0.3 to 5 face heights under its chin) is cut from the upload, enlarged up to --scale times
(to at least 600 px high), and the photo's crops are laid side by side in one image: one extra
DetectText call per photo that has such a face. The words read there are mapped back to the
photo's coordinates and pass the same bib rules (pipeline.bibs); bibs not read the first time
are added. Reported: the first pass, first + second look, and first + second look without the
second look's reads that are the start or end of a bib read (by either look) anywhere in the event
(the partial-number rule of issue #20, on event reads), with bench/bib_accuracy.py's scores; and
the extra DetectText calls per 1,000 photos. A probe: the pipeline does not run it yet.
"""

import argparse
import base64
import io
import json
import sys
from pathlib import Path

from bib_accuracy import event_id_for, read_labels, read_unlabelled, score, vision_reader
from PIL import Image
from review_queue import faces_in

from pipeline import links
from pipeline.bibs import read_bibs

MIN_CROP_HEIGHT = 600


def torso(face: dict) -> tuple[float, float, float, float]:
    """(left, top, right, bottom), fractions of the photo, clipped to it."""
    centre = face["left"] + face["width"] / 2
    bottom = face["top"] + face["height"]
    box = (
        centre - 1.5 * face["width"],
        bottom + 0.3 * face["height"],
        centre + 1.5 * face["width"],
        bottom + 5.0 * face["height"],
    )
    return (max(0.0, box[0]), max(0.0, box[1]), min(1.0, box[2]), min(1.0, box[3]))


def mosaic(image: Image.Image, regions: list[tuple], scale: float) -> tuple[bytes, list[tuple]]:
    """The regions cut out, enlarged and laid side by side; (JPEG, [(region, x, width, height)])."""
    width, height = image.size
    crops, placed, x = [], [], 0
    for region in regions:
        box = (region[0] * width, region[1] * height, region[2] * width, region[3] * height)
        crop = image.crop(tuple(round(v) for v in box))
        factor = min(scale, max(1.0, MIN_CROP_HEIGHT / max(crop.height, 1)))
        crop = crop.resize((max(1, round(crop.width * factor)), max(1, round(crop.height * factor))))
        crops.append((crop, x))
        placed.append((region, x, crop.width, crop.height))
        x += crop.width + 16
    sheet = Image.new("RGB", (max(x - 16, 80), max(80, *(c.height for c, _ in crops))), (255, 255, 255))
    for crop, left in crops:
        sheet.paste(crop, (left, 0))
    buffer = io.BytesIO()
    sheet.save(buffer, "JPEG", quality=92)
    return buffer.getvalue(), placed


def mapped(detections: list[dict], placed: list[tuple], sheet_size: tuple[int, int]) -> list[dict]:
    """The mosaic's TextDetections with their boxes in the photo's coordinates (a word belongs to
    the crop its centre is in)."""
    sheet_width, sheet_height = sheet_size
    out = []
    for detection in detections:
        box = detection["Geometry"]["BoundingBox"]
        left, top = box["Left"] * sheet_width, box["Top"] * sheet_height
        w, h = box["Width"] * sheet_width, box["Height"] * sheet_height
        centre = left + w / 2
        for region, x, crop_width, crop_height in placed:
            if x <= centre < x + crop_width:
                region_width, region_height = region[2] - region[0], region[3] - region[1]
                new = {
                    "Left": region[0] + (left - x) / crop_width * region_width,
                    "Top": region[1] + top / crop_height * region_height,
                    "Width": w / crop_width * region_width,
                    "Height": h / crop_height * region_height,
                }
                out.append({**detection, "Geometry": {"BoundingBox": new}})
                break
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--scale", type=float, default=3.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = args.dataset
    reader = vision_reader([folder] if (folder / "list.txt").is_file() else [], args.json)
    if isinstance(reader, int):
        return reader
    labels, unlabelled = read_labels(folder), read_unlabelled(folder)
    first, both, added, calls = {}, {}, {}, 0
    try:
        for name in sorted(labels):
            data = (folder / name).read_bytes()
            found, _, _ = reader.read("bench", event_id_for(folder.name), name, data)
            image_state, answer = reader.last["image"], reader.last["found"]
            first[name] = set(found)
            faces = faces_in(reader, image_state["processedKey"])
            linked = links.attach_faces(answer["bibs"], faces, image_state["width"], image_state["height"])
            taken = {bib["faceId"] for bib in linked if "faceId" in bib}
            regions = [torso(face["box"]) for face in faces if face["faceId"] not in taken]
            regions = [r for r in regions if r[2] - r[0] > 0.01 and r[3] - r[1] > 0.01]
            both[name] = set(found)
            if not regions:
                continue
            processed = reader.s3.get_object(Bucket=reader.bucket, Key=image_state["processedKey"])[
                "Body"
            ].read()
            image = Image.open(io.BytesIO(processed)).convert("RGB")
            sheet, placed = mosaic(image, regions, args.scale)
            calls += 1
            request = {"Image": {"Bytes": base64.b64encode(sheet).decode()}}
            detections = reader.stack.rekognition.handle("DetectText", request)["TextDetections"]
            size = Image.open(io.BytesIO(sheet)).size
            again = {bib.bib for bib in read_bibs(mapped(detections, placed, size), reader.rules)}
            if again - set(found):
                print(f"  {name}: second look adds {sorted(again - set(found))} (labelled {labels[name]})")
            both[name] |= again
            added[name] = again - set(found)
    finally:
        reader.stop()
    event_reads = set().union(*both.values())
    kept = {
        name: first[name]
        | {
            b
            for b in added.get(name, ())
            if not any(o != b and (o.startswith(b) or o.endswith(b)) for o in event_reads)
        }
        for name in first
    }
    before, after = score(first, labels, unlabelled), score(both, labels, unlabelled)
    partial = score(kept, labels, unlabelled)
    report = {
        "first": before,
        "with_second_look": after,
        "with_second_look_partials_dropped": partial,
        "extra_calls_per_1000": round(1000 * calls / len(labels)),
        "scale": args.scale,
    }
    for label, r in (
        ("first pass", before),
        ("with a second look", after),
        ("... partials dropped", partial),
    ):
        print(
            f"{label:<20} reads {r['reads']:>4}  precision {r['precision']:.3f} "
            f"(fair {r['fair_precision']:.3f})  recall {r['recall']:.3f}"
        )
    print(f"extra DetectText calls per 1,000 photos: {report['extra_calls_per_1000']}")
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
