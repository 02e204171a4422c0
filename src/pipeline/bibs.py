"""Which words in a photo are bib numbers. Pure functions over DetectText's TextDetections.

A bib is digits with an optional one-letter prefix ("1234", "A123"), of a plausible length,
read with enough confidence and tall enough in the photo to be a number printed on a bib rather
than a sign in the background. Each bib is reported once per photo, with its best reading.
"""

import re
from dataclasses import dataclass

_EDGE_PUNCTUATION = "#.,:;!?'\"()[]{}-_*"


@dataclass(frozen=True)
class BibRules:
    min_length: int = 2
    max_length: int = 6
    min_confidence: float = 80.0
    min_height: float = 0.015  # fraction of the photo's height

    def __post_init__(self):
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError("bib lengths need 1 <= min_length <= max_length")

    @property
    def pattern(self) -> re.Pattern:
        return re.compile(rf"[A-Z]?[0-9]{{{self.min_length},{self.max_length}}}")  # re caches it


@dataclass(frozen=True)
class Bib:
    bib: str
    confidence: float
    box: dict

    def as_dict(self) -> dict:
        return {"bib": self.bib, "confidence": self.confidence, "box": self.box}


def normalise_bib(text: str) -> str:
    """'#1234.' -> '1234', 'a123' -> 'A123': the form stored and searched."""
    return text.strip().strip(_EDGE_PUNCTUATION).upper()


def is_bib(text: str, rules: BibRules) -> bool:
    return rules.pattern.fullmatch(normalise_bib(text)) is not None


def read_bibs(text_detections: list[dict], rules: BibRules) -> list[Bib]:
    """Bibs among the WORD detections, best confidence first, each bib once."""
    best: dict[str, Bib] = {}
    for detection in text_detections:
        if detection.get("Type") != "WORD":
            continue
        bib = normalise_bib(detection.get("DetectedText", ""))
        confidence = float(detection.get("Confidence", 0.0))
        box = detection.get("Geometry", {}).get("BoundingBox", {})
        if rules.pattern.fullmatch(bib) is None or confidence < rules.min_confidence:
            continue
        if float(box.get("Height", 0.0)) < rules.min_height:
            continue
        if bib not in best or confidence > best[bib].confidence:
            best[bib] = Bib(bib=bib, confidence=round(confidence, 2), box=_box(box))
    return sorted(best.values(), key=lambda found: (-found.confidence, found.bib))


def _box(bounding_box: dict) -> dict:
    return {
        side.lower(): round(float(bounding_box.get(side, 0.0)), 4)
        for side in ("Left", "Top", "Width", "Height")
    }
