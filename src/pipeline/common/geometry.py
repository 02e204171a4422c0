"""Boxes: where a face, a bib or a word is in a photo, as fractions of its width and height (the
shape Rekognition uses, in lower case). Boxes cross every boundary as this one shape (the step
state's JSON, the table's items), so `Box` is a TypedDict, and its overlaps are measured here."""

from collections.abc import Mapping
from decimal import Decimal
from typing import TypedDict

SIDES = ("Left", "Top", "Width", "Height")


class Box(TypedDict):
    left: float
    top: float
    width: float
    height: float


type StoredBox = Mapping[str, Decimal]  # a Box read back from the table: Decimal sides


def from_rekognition(bounding_box: dict) -> Box:
    """A Rekognition BoundingBox ({"Left", "Top", "Width", "Height"}) as the pipeline keeps boxes;
    a side Rekognition left out is 0."""
    left, top, width, height = (round(float(bounding_box.get(side, 0.0)), 4) for side in SIDES)
    return {"left": left, "top": top, "width": width, "height": height}


def as_floats(box: Box | StoredBox) -> Box:
    """A box read back from the table (Decimal sides) as floats."""
    return {"left": float(box["left"]), "top": float(box["top"]), "width": float(box["width"]),
            "height": float(box["height"])}  # fmt: skip


def intersection(a: Box | StoredBox, b: Box | StoredBox) -> float:
    """The area two boxes share."""
    across = min(float(a["left"]) + float(a["width"]), float(b["left"]) + float(b["width"])) - max(
        float(a["left"]), float(b["left"])
    )
    down = min(float(a["top"]) + float(a["height"]), float(b["top"]) + float(b["height"])) - max(
        float(a["top"]), float(b["top"])
    )
    return max(0.0, across) * max(0.0, down)


def area(box: Box | StoredBox) -> float:
    return float(box["width"]) * float(box["height"])


def iou(a: Box | StoredBox, b: Box | StoredBox) -> float:
    """Intersection over union: 1 for the same box, 0 for boxes apart (the same face found again)."""
    shared = intersection(a, b)
    union = area(a) + area(b) - shared
    return shared / union if union > 0 else 0.0


def covered(a: Box | StoredBox, b: Box | StoredBox) -> float:
    """Intersection over the smaller box's area: 1 when one box lies inside the other (a word read
    on a bib that was already read)."""
    smaller = min(area(a), area(b))
    return intersection(a, b) / smaller if smaller > 0 else 0.0
