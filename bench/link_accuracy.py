"""Face-to-bib linking measured on RBNR ground truth (geometry alone, from the labelled boxes).

    python bench/link_accuracy.py ../shared/datasets/rbnr-set1 [--json]

Each labelled runner i has a face box facep(i) and a bib box tagp(i) ([minRow maxRow minCol
maxCol], 1-based px). Per photo, every labelled face and bib goes through pipeline.processing.links.link;
a link is correct when it pairs face i with bib i. precision = correct / links made, recall =
correct / labelled pairs. Needs scipy (requirements-dev.txt) to read the .mat files.
"""

import argparse
import json
from pathlib import Path

from PIL import Image

from pipeline.processing.links import link


def label_box(rows_cols, width: float, height: float) -> dict:
    """An RBNR box ([minRow maxRow minCol maxCol], 1-based px) as normalised left/top/width/height."""
    min_row, max_row, min_col, max_col = (float(v) for v in rows_cols)
    return {
        "left": (min_col - 1) / width,
        "top": (min_row - 1) / height,
        "width": (max_col - min_col) / width,
        "height": (max_row - min_row) / height,
    }


def load(folder: Path) -> list[tuple[str, float, list[dict], list[dict]]]:
    """(photo, aspect, faces, bibs) per labelled photo; face i and bib i belong together."""
    from scipy.io import loadmat

    photos = []
    for mat in sorted(folder.glob("*.mat")):
        labels = loadmat(mat)
        with Image.open(mat.with_suffix("")) as image:
            width, height = image.size
        faces = [label_box(row, width, height) for row in labels["facep"]]
        bibs = [label_box(row, width, height) for row in labels["tagp"]]
        photos.append((mat.with_suffix("").name, width / height, faces, bibs))
    return photos


def measure(folder: Path) -> dict:
    photos = load(folder)
    made = correct = labelled = 0
    for _, aspect, faces, bibs in photos:
        links = link(faces, bibs, aspect)
        made += len(links)
        correct += sum(1 for found in links if found.face == found.bib)
        labelled += len(faces)
    return {
        "photos": len(photos),
        "groupPhotos": sum(1 for _, _, faces, _ in photos if len(faces) > 1),
        "pairs": labelled,
        "links": made,
        "correct": correct,
        "precision": round(correct / made, 4) if made else 0.0,
        "recall": round(correct / labelled, 4) if labelled else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path, nargs="+")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    for folder in args.dataset:
        result = measure(folder)
        if args.json:
            print(json.dumps(result))
        else:
            print(
                f"{folder}: {result['photos']} photos "
                f"({result['groupPhotos']} with several labelled runners), "
                f"{result['pairs']} face-bib pairs: {result['links']} links, {result['correct']} correct, "
                f"precision {result['precision']:.3f}, recall {result['recall']:.3f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
