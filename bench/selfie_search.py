"""Selfie search on real faces: recall and precision for the runners of an RBNR set seen in two or
more photos, through the pipeline's own handlers and Rekognition calls.

    python bench/selfie_search.py ../shared/datasets/rbnr-set1 [--show] [--json]

Every photo goes through Preprocess and IndexFaces (the vision engine behind the Rekognition
emulator, the template's environment), so the collection holds what the pipeline indexes. A
runner is a bib number of the labels (`IMAGE.JPG.mat`: face i wears bib i). A runner's face counts
where it is at least 40 px wide and high (MIN_FACE_PX, the recogniser's floor; IndexFaces leaves
smaller faces out). For each such face, its crop (SELFIE_MARGIN face sizes around it, enlarged to
at least SELFIE_SIDE px: a selfie fills the frame) is the selfie; the search is the pipeline's
(SearchFacesByImage, MaxFaces 4,096, pipeline.search.photos.SELFIE_THRESHOLD). The photo the selfie was cut
from is left out of the answer. Recall = the runner's other photos found / the runner's other
photos with a face of at least 40 px; precision = those found / all photos found. Both are also
given at other thresholds, from the same answers (the search asks at the lowest).
"""

import argparse
import base64
import contextlib
import io
import json
import sys
from pathlib import Path

from bib_accuracy import Reader, event_id_for
from link_accuracy import label_box
from PIL import Image

from pipeline.common import keys
from pipeline.search.selfie import SELFIE_THRESHOLD
from snaprace.local.rekognition import RekognitionError
from snaprace.local.stack import STAGE

MIN_FACE_PX = 40
SELFIE_MARGIN = 0.6  # of the face's size, on each side
SELFIE_SIDE = 400
THRESHOLDS = (80.0, 85.0, SELFIE_THRESHOLD, 95.0)


def runners(folder: Path) -> dict[str, dict[str, dict]]:
    """Bib -> {photo name: face box (normalised)} for faces of at least MIN_FACE_PX."""
    import numpy as np
    from scipy.io import loadmat

    seen: dict[str, dict[str, dict]] = {}
    for mat in sorted(folder.glob("*.mat")):
        photo = mat.with_suffix("")
        with Image.open(photo) as image:
            width, height = image.size
        labels = loadmat(mat)
        for rows_cols, number in zip(labels["facep"], np.ravel(labels["number"]), strict=True):
            box = label_box(rows_cols, width, height)
            if min(box["width"] * width, box["height"] * height) >= MIN_FACE_PX:
                seen.setdefault(str(number), {})[photo.name] = box
    return {bib: photos for bib, photos in seen.items() if len(photos) >= 2}


def selfie(data: bytes, box: dict) -> bytes:
    """The face cut out with a margin, enlarged to at least SELFIE_SIDE px: what a runner sends."""
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    width, height = image.size
    margin_x, margin_y = box["width"] * SELFIE_MARGIN, box["height"] * SELFIE_MARGIN
    crop = image.crop(
        (
            round(max(0.0, box["left"] - margin_x) * width),
            round(max(0.0, box["top"] - margin_y) * height),
            round(min(1.0, box["left"] + box["width"] + margin_x) * width),
            round(min(1.0, box["top"] + box["height"] + margin_y) * height),
        )
    )
    factor = max(1.0, SELFIE_SIDE / min(crop.size))
    crop = crop.resize((round(crop.width * factor), round(crop.height * factor)), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def measure(folder: Path, show=lambda _line: None) -> dict:
    seen = runners(folder)
    event = event_id_for(folder.name)
    reader = Reader()
    try:
        photo_ids = {}
        for mat in sorted(folder.glob("*.mat")):
            name = mat.with_suffix("").name
            reader.read("bench", event, name, mat.with_suffix("").read_bytes())
            with contextlib.redirect_stdout(io.StringIO()):
                reader._invoke(reader.index_faces, reader.last["state"])
            photo_ids[keys.photo_id_for(f"bench/{event}/raw/{name}")] = name
        collection = keys.collection_id(f"snaprace-{STAGE}", "bench", event)
        answers = []  # (runner, source photo, {photo: best similarity})
        for bib, photos in sorted(seen.items()):
            for name, box in sorted(photos.items()):
                request = {
                    "CollectionId": collection,
                    "Image": {"Bytes": base64.b64encode(selfie((folder / name).read_bytes(), box)).decode()},
                    "FaceMatchThreshold": min(THRESHOLDS),
                    "MaxFaces": 4096,
                }
                try:
                    found = reader.stack.rekognition.handle("SearchFacesByImage", request)["FaceMatches"]
                except RekognitionError as exc:  # the recogniser finds no face in the selfie
                    if exc.code != "InvalidParameterException":
                        raise
                    found = []
                best: dict[str, float] = {}
                for match in found:
                    photo = photo_ids.get(match["Face"].get("ExternalImageId", ""))
                    if photo and photo != name:
                        best[photo] = max(best.get(photo, 0.0), match["Similarity"])
                answers.append((bib, name, best))
    finally:
        reader.stop()
    for bib, name, best in answers:
        for other in sorted(set(seen[bib]) - {name}):
            if best.get(other, 0.0) < SELFIE_THRESHOLD:
                show(
                    f"  runner {bib}: the selfie from {name} misses {other} (best {best.get(other, 0.0):.1f})"
                )
    result = {
        "runners": len(seen),
        "selfies": len(answers),
        "photos_to_find": sum(len(seen[bib]) - 1 for bib, _, _ in answers),
    }
    for threshold in THRESHOLDS:
        relevant = found_right = found_all = 0
        for bib, name, best in answers:
            others = set(seen[bib]) - {name}
            hits = {photo for photo, similarity in best.items() if similarity >= threshold}
            relevant += len(others)
            found_right += len(hits & others)
            found_all += len(hits)
        result[f"{threshold:g}"] = {
            "recall": round(found_right / relevant, 4) if relevant else 0.0,
            "precision": round(found_right / found_all, 4) if found_all else 1.0,
            "found": found_all,
        }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.add_argument("--show", action="store_true", help="list each photo a selfie misses")
    args = parser.parse_args()
    if not any(args.dataset.glob("*.mat")):
        print(f"skipped {args.dataset}: no RBNR .mat files there (they live in ../shared/datasets)")
        return 0
    result = measure(args.dataset, print if args.show else (lambda _line: None))
    print(
        f"{args.dataset}: {result['runners']} runners with a face of {MIN_FACE_PX}+ px in two or more "
        f"photos; {result['selfies']} selfies, {result['photos_to_find']} photos to find"
    )
    for threshold in THRESHOLDS:
        row = result[f"{threshold:g}"]
        mark = " (the pipeline's)" if threshold == SELFIE_THRESHOLD else ""
        print(
            f"  similarity >= {threshold:g}{mark}: recall {row['recall']:.3f}, "
            f"precision {row['precision']:.3f} ({row['found']} found)"
        )
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
