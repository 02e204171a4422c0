"""Which words in a photo are bib numbers. Pure functions over DetectText's TextDetections.

A bib is digits with an optional one-letter prefix ("1234", "A123") of a plausible length. Beyond
the shape, the rules reason about what a bib is: a number printed large on a patch pinned to a
runner's torso. Each rule has a switch in BibRules, and bench/bib_accuracy.py --ablation measures
what each one is worth (docs/accuracy.md):

- confidence: the read must be sure; a short number (2 characters) must be near-certain, since
  fragments of clocks, signs and half-hidden bibs are mostly short;
- size: at least `min_height` of the photo's height (background signs are tiny);
- place: a torso is below a head, so a number whose top is in the photo's top `min_top` is
  scenery (banners, finish clocks);
- context: a bib number stands alone on its line; one that shares its line with a word of three
  letters or more ("MARATHON 2008", sponsor text) is not a bib;
- years: 1990-2039 are what banners and bibs print as the race's year, not bib numbers (an event's
  bib range or participant list, when given, decides instead);
- partial reads: a number that is part of a longer number read in the same photo is a fragment;
- one bib per runner: of two numbers stacked on one bib, the taller is the bib number (the other
  is small print such as a corral or a year);
- the event (optional): its bib range and participant list, when the organiser gives them.
Each bib is reported once per photo, with its best reading.
"""

import re
import unicodedata
from dataclasses import dataclass, replace

from pipeline.common.geometry import Box, from_rekognition
from pipeline.common.models import BibRead

_EDGE_PUNCTUATION = "#.,:;!?'\"()[]{}-_*"
_WORD_WITH_LETTERS = re.compile(r"[A-Za-z]{3,}")
YEARS = range(1990, 2040)


@dataclass(frozen=True)
class BibRules:
    min_length: int = 2
    max_length: int = 6
    min_confidence: float = 80.0
    short_length: int = 2  # numbers this short need short_min_confidence
    short_min_confidence: float = 95.0
    min_height: float = 0.015  # fraction of the photo's height
    min_top: float = 0.2  # fraction of the photo's height above which text is scenery
    alone_on_line: bool = True
    ignore_years: bool = True
    drop_partials: bool = True
    one_per_bib: bool = True
    bib_range: tuple[int, int] | None = None  # the event's bibs, inclusive, on the digits
    participants: frozenset[str] | None = None  # the event's bibs, normalised

    def __post_init__(self):
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError("bib lengths need 1 <= min_length <= max_length")
        if self.bib_range is not None and not 0 <= self.bib_range[0] <= self.bib_range[1]:
            raise ValueError("a bib range needs 0 <= first <= last")

    @property
    def pattern(self) -> re.Pattern:
        return re.compile(rf"[A-Z]?[0-9]{{{self.min_length},{self.max_length}}}")  # re caches it

    def for_event(self, bib_range=None, participants=None) -> "BibRules":
        return replace(
            self,
            bib_range=tuple(bib_range) if bib_range else None,
            participants=frozenset(participants) if participants else None,
        )

    def lenient(self) -> "BibRules":
        """Shape, confidence and size only: the rules before any bib-shaped reasoning."""
        return replace(
            self,
            short_min_confidence=self.min_confidence,
            min_top=0.0,
            alone_on_line=False,
            ignore_years=False,
            drop_partials=False,
            one_per_bib=False,
        )


@dataclass(frozen=True)
class Bib:
    bib: str
    confidence: float
    box: Box

    def as_dict(self) -> BibRead:
        return {"bib": self.bib, "confidence": self.confidence, "box": self.box}


def _printed(text: str) -> str:
    """'#０１１１.' -> '0111': what was printed or typed, in ASCII (NFKC turns fullwidth digits and
    letters, as a Korean or Japanese keyboard types them, into ASCII), edge punctuation off."""
    return unicodedata.normalize("NFKC", text).strip().strip(_EDGE_PUNCTUATION).upper()


def _without_leading_zeros(printed: str) -> str:
    prefix = printed[:1] if printed[:1].isalpha() else ""
    digits = printed[len(prefix) :]
    return prefix + (digits.lstrip("0") or "0") if digits.isdigit() else printed


def normalise_bib(text: str) -> str:
    """The one form a bib is stored, searched, linked and corrected in, from every entry point:
    '#1234.' -> '1234', 'a123' -> 'A123', '０１１１' -> '111' (a bib printed "0111" is runner 111's)."""
    return _without_leading_zeros(_printed(text))


SEARCHED_BIB_LIMIT = 6  # digits a bib a person gives may have (bib ranges end at 999,999)


def searched_bib(text: str) -> str:
    """A bib given by a person (a runner's search, a correction, a runner link, a participant list,
    a results file), normalised; ValueError with the reason when it cannot be a bib: one letter at
    most, then 1-6 digits. Every entry point uses this one rule."""
    bib = normalise_bib(text)
    if _ENTERED.fullmatch(bib) is None:
        raise ValueError(f"{text[:20]!r} is not a bib number")
    return bib


ENTERED_BIB = rf"[A-Z]?[0-9]{{1,{SEARCHED_BIB_LIMIT}}}"  # a bib a person gives, as a pattern
_ENTERED = re.compile(ENTERED_BIB, re.ASCII)


def is_bib(text: str, rules: BibRules) -> bool:
    return rules.pattern.fullmatch(normalise_bib(text)) is not None


def read_bibs(text_detections: list[dict], rules: BibRules) -> list[Bib]:
    """Bibs among the WORD detections, best confidence first, each bib once."""
    lines = {d.get("Id"): d for d in text_detections if d.get("Type") == "LINE"}
    candidates = [
        bib
        for detection in text_detections
        if detection.get("Type") == "WORD"
        and (bib := _candidate(detection, lines.get(detection.get("ParentId")), rules))
    ]
    if rules.drop_partials:
        texts = {bib.bib for bib in candidates}
        candidates = [bib for bib in candidates if not any(bib.bib in t and bib.bib != t for t in texts)]
    if rules.one_per_bib:
        candidates = [
            bib for bib in candidates if not any(_small_print_of(bib, other) for other in candidates)
        ]
    best: dict[str, Bib] = {}
    for bib in candidates:
        if bib.bib not in best or bib.confidence > best[bib.bib].confidence:
            best[bib.bib] = bib
    return sorted(best.values(), key=lambda found: (-found.confidence, found.bib))


def doubtful_reads(text_detections: list[dict], rules: BibRules) -> list[dict]:
    """Bibs the event's range or participant list refused (none when the event gives neither):
    a person should look at them (pipeline.corrections.review). Each is a read's dict with `doubt`: "partial"
    when it is the strict start or end of a participant's bib (a half-hidden "1026" of 10264),
    else "outside-event"."""
    if rules.bib_range is None and rules.participants is None:
        return []
    kept = {bib.bib for bib in read_bibs(text_detections, rules)}
    free = read_bibs(text_detections, replace(rules, bib_range=None, participants=None))
    participants = rules.participants or frozenset()
    return [
        {
            **bib.as_dict(),
            "doubt": "partial"
            if any(p != bib.bib and (p.startswith(bib.bib) or p.endswith(bib.bib)) for p in participants)
            else "outside-event",
        }
        for bib in free
        if bib.bib not in kept
    ]


def _candidate(detection: dict, line: dict | None, rules: BibRules) -> Bib | None:
    printed = _printed(detection.get("DetectedText", ""))  # lengths are judged on what is printed
    confidence = float(detection.get("Confidence", 0.0))
    box = from_rekognition(detection.get("Geometry", {}).get("BoundingBox", {}))
    if rules.pattern.fullmatch(printed) is None or box["height"] < rules.min_height:
        return None
    bib = _without_leading_zeros(printed)
    short = len(printed) <= rules.short_length
    if confidence < (rules.short_min_confidence if short else rules.min_confidence):
        return None
    if box["top"] < rules.min_top:
        return None
    if rules.alone_on_line and line is not None:
        others = line.get("DetectedText", "").split()
        if any(_WORD_WITH_LETTERS.search(word) for word in others if normalise_bib(word) != bib):
            return None
    if not _fits_event(bib, rules):
        return None
    return Bib(bib=bib, confidence=round(confidence, 2), box=box)


def _fits_event(bib: str, rules: BibRules) -> bool:
    if rules.participants is not None:
        return bib in rules.participants
    number = int(bib.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    if rules.bib_range is not None:
        return rules.bib_range[0] <= number <= rules.bib_range[1]
    return not (rules.ignore_years and len(bib) == 4 and number in YEARS)


def _small_print_of(small: Bib, big: Bib) -> bool:
    """Whether `small` sits on the same bib as `big` (above or below it, overlapping it sideways)
    and is clearly smaller: then it is the bib's small print, not its number."""
    a, b = small.box, big.box
    if small is big or a["height"] >= 0.8 * b["height"]:
        return False
    overlap = min(a["left"] + a["width"], b["left"] + b["width"]) - max(a["left"], b["left"])
    if overlap < 0.5 * min(a["width"], b["width"]):
        return False
    gap = max(a["top"] - (b["top"] + b["height"]), b["top"] - (a["top"] + a["height"]))
    return gap < b["height"]
