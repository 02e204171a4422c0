"""The vision engine's face similarity against RBNR ground truth: the data behind its calibration.

    python bench/face_similarity.py ../shared/datasets/rbnr-set1 [--json]

Each labelled face (facep, [minRow maxRow minCol maxCol]) is matched to the engine's detection that
overlaps it most (IoU >= 0.3). Two faces in different photos belong to the same runner when they
wear the same bib number, to different runners otherwise. For SFace's cosine and for the
Rekognition-scale similarity the engine reports (snaprace.local.vision.COSINE_TO_SIMILARITY), it
prints how many same-runner pairs reach the pipeline's thresholds (true matches) and how many
different-runner pairs do (false matches).
"""

import argparse
import itertools
import json
import sys
from pathlib import Path

from link_accuracy import label_box
from PIL import Image

from pipeline.processing.links import LINKED_FACE_THRESHOLD
from pipeline.search.selfie import SELFIE_THRESHOLD

THRESHOLDS = {
    "Rekognition's default": 80.0,
    "selfie search": SELFIE_THRESHOLD,
    "linked faces": LINKED_FACE_THRESHOLD,
}


def _iou(a, b) -> float:
    across = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    down = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = across * down
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def labelled_faces(engine, folder: Path) -> tuple[list[tuple[str, str, object]], int, int]:
    """([(bib, photo, seen face)], labelled faces, faces the engine found in all)."""
    import numpy as np
    from scipy.io import loadmat

    faces, labelled, found = [], 0, 0
    for mat in sorted(folder.glob("*.mat")):
        photo = mat.with_suffix("")
        with Image.open(photo) as image:
            width, height = image.size
        seen = engine.see(photo.read_bytes(), ("faces",)).faces
        found += len(seen)
        labels = loadmat(mat)
        for rows_cols, number in zip(labels["facep"], np.ravel(labels["number"]), strict=True):
            labelled += 1
            labelled_box = label_box(rows_cols, width, height)
            box = tuple(labelled_box[side] for side in ("left", "top", "width", "height"))
            best = max(seen, key=lambda face, box=box: _iou(face.box, box), default=None)
            if best is not None and _iou(best.box, box) >= 0.3:
                faces.append((str(number), photo.name, best))
    return faces, labelled, found


def measure(folder: Path) -> dict:
    from snaprace.local.vision import VisionEngine, similarity_from_cosine

    engine = VisionEngine()
    faces, labelled, found = labelled_faces(engine, folder)
    same, different = [], []
    for (bib_a, photo_a, a), (bib_b, photo_b, b) in itertools.combinations(faces, 2):
        if photo_a != photo_b:
            cosine = sum(x * y for x, y in zip(a.embedding, b.embedding, strict=True))
            (same if bib_a == bib_b else different).append(cosine)
    result = {
        "labelledFaces": labelled,
        "detectedFaces": found,
        "matchedFaces": len(faces),
        "samePairs": len(same),
        "differentPairs": len(different),
    }
    for name, threshold in THRESHOLDS.items():
        result[name] = {
            "similarity": threshold,
            "trueMatchRate": round(
                sum(similarity_from_cosine(c) >= threshold for c in same) / max(len(same), 1), 4
            ),
            "falseMatchRate": round(
                sum(similarity_from_cosine(c) >= threshold for c in different) / max(len(different), 1), 5
            ),
        }
    for name, values in (("sameCosine", same), ("differentCosine", different)):
        ordered = sorted(values)
        result[name] = {
            f"p{q}": round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 3)
            for q in (10, 50, 90, 99)
        }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    if not any(args.dataset.glob("*.mat")):
        print(f"skipped {args.dataset}: no RBNR .mat files there (they live in ../shared/datasets)")
        return 0
    result = measure(args.dataset)
    r = result
    print(
        f"{args.dataset}: {r['labelledFaces']} labelled faces, {r['matchedFaces']} found by the engine "
        f"({r['detectedFaces']} faces found in all); {r['samePairs']} same-runner and "
        f"{r['differentPairs']} different-runner pairs across photos"
    )
    print(f"  cosine, same runner {result['sameCosine']}, different runners {result['differentCosine']}")
    for name in THRESHOLDS:
        row = result[name]
        print(
            f"  similarity >= {row['similarity']:.0f} ({name}): true matches {row['trueMatchRate']:.1%}, "
            f"false matches {row['falseMatchRate']:.2%}"
        )
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
