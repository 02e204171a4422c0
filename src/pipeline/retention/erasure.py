"""A runner's erasure that lasts against every later run.

`snaprace delete-runner` deletes a runner's faces and records the erasure (an ERASURE# item of the
event, pipeline.store): the bib it was asked for, and for each photo the runner's faces were on,
the photo's ETag and where those faces were. No face vector is kept: positions and a bib number
cannot find anyone in another photo. Later runs honour every record:

- IndexFaces deletes at once a face it has just indexed where an erased face was, in the same
  photo content (a `reprocess`, a retried step, a duplicate event);
- SaveResults drops a face that links to an erased bib (the runner in a photo indexed later):
  the bib read stays, the face and its link go.
"""

from dataclasses import dataclass
from typing import cast

from pipeline.common.geometry import as_floats, iou
from pipeline.common.models import BibRead
from pipeline.processing.bibs import normalise_bib

MATCH_OVERLAP = 0.5  # intersection over union: the same face found again in the same photo


@dataclass(frozen=True)
class ErasedPhoto:
    etag: str
    boxes: tuple[dict, ...]  # {"left", "top", "width", "height"}, fractions of the photo


def record(bibs: list[str], photos: dict[str, ErasedPhoto]) -> dict:
    """The erasure item's attributes."""
    return {
        "bibs": sorted(set(bibs)),
        "photos": {
            photo_id: {"etag": photo.etag, "boxes": [dict(box) for box in photo.boxes]}
            for photo_id, photo in sorted(photos.items())
        },
        "faces": sum(len(photo.boxes) for photo in photos.values()),
    }


def erased_boxes(erasures: list[dict], photo_id: str, etag: str) -> list[dict]:
    """Where erased faces were in this photo's content (none when the key holds new content)."""
    boxes = []
    for erasure in erasures:
        photo = erasure.get("photos", {}).get(photo_id)
        if photo and photo.get("etag") == etag:
            boxes.extend(photo.get("boxes", []))
    return boxes


def erased_bibs(erasures: list[dict]) -> set[str]:
    """The erased runners' bibs, in today's one form (a record written before bibs lost their
    leading zeros says "0111" for runner 111)."""
    return {normalise_bib(bib) for erasure in erasures for bib in erasure.get("bibs", [])}


def faces_where_erased(faces: list[dict], boxes: list[dict]) -> set[str]:
    """Face ids of `faces` ({"faceId", "box"}) found where an erased face was."""
    return {face["faceId"] for face in faces if any(iou(face["box"], box) >= MATCH_OVERLAP for box in boxes)}


def others_and_erased_places(others: list[dict], boxes: list[dict]) -> list[dict]:
    """Boxes only (no face data) for the second look: the runners whose faces are not searchable,
    but not where an erased face was, and the erased places themselves (someone wears the bib
    there; it is not read again)."""
    return [face for face in others if not any(iou(face["box"], box) >= MATCH_OVERLAP for box in boxes)] + [
        {"box": as_floats(box), "erased": True} for box in boxes
    ]


def unlink_erased_bibs(
    bibs: list[BibRead], faces: list[dict], erased: set[str]
) -> tuple[list[BibRead], list[dict]]:
    """(bibs, faces) without the faces linked to an erased bib; those bibs keep their read."""
    dropped = {bib["faceId"] for bib in bibs if bib.get("faceId") and bib["bib"] in erased}
    kept_bibs = [
        cast(BibRead, {k: v for k, v in bib.items() if k != "faceId"})
        if bib.get("faceId") in dropped
        else bib
        for bib in bibs
    ]
    return kept_bibs, [face for face in faces if face["faceId"] not in dropped]
