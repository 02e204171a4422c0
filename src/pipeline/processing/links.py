"""Face-to-bib links: which face in a photo belongs to the runner wearing which bib, by geometry.

A bib is pinned on the torso: its top edge lies below the chin, between half a head and six heads
down (a torso is about three head heights); its centre is within one and a half face widths of the
face's centre line; it is between 0.4 and 3 face widths wide. Those bounds come from body
proportions, not from any dataset. Among the pairs within bounds, the closest to the typical
placement (centred, three heads down) are linked first, one face to one bib: in a group photo each
runner's face gets at most their own bib, never every bib in view.

Boxes are Rekognition's normalised {"left", "top", "width", "height"}; the photo's aspect ratio
turns them into one unit (a normalised width is not a normalised height).
"""

from dataclasses import dataclass
from typing import cast

from pipeline.common.geometry import Box
from pipeline.common.models import BibRead

MIN_DROP, MAX_DROP = 0.5, 6.0  # bib top below the face bottom, in face heights
TYPICAL_DROP = 3.0
MAX_OFFSET = 1.5  # bib centre from the face centre line, in face widths
MIN_WIDTH_RATIO, MAX_WIDTH_RATIO = 0.4, 3.0  # bib width / face width
LINKED_FACE_THRESHOLD = 95.0  # a linked face's runner seen elsewhere: only near-certain matches


@dataclass(frozen=True)
class Link:
    face: int  # index into the faces given
    bib: int  # index into the bibs given
    score: float  # 0 = the typical placement; larger = less typical


def measure(face: Box, bib: Box, aspect: float) -> tuple[float, float, float] | None:
    """(drop below the chin in face heights, offset from the centre line in face widths, bib
    width in face widths); None for an empty face box."""
    face_width, face_height = face["width"] * aspect, face["height"]
    if face_width <= 0 or face_height <= 0:
        return None
    drop = (bib["top"] - (face["top"] + face["height"])) / face_height
    offset = ((bib["left"] + bib["width"] / 2) - (face["left"] + face["width"] / 2)) * aspect / face_width
    ratio = bib["width"] * aspect / face_width
    return drop, offset, ratio


def plausible(face: Box, bib: Box, aspect: float = 1.0) -> float | None:
    """The pair's score when the bib can be this face's runner's, else None."""
    measured = measure(face, bib, aspect)
    if measured is None:
        return None
    drop, offset, ratio = measured
    if not (
        MIN_DROP <= drop <= MAX_DROP
        and abs(offset) <= MAX_OFFSET
        and MIN_WIDTH_RATIO <= ratio <= MAX_WIDTH_RATIO
    ):
        return None
    return abs(offset) + abs(drop - TYPICAL_DROP) / TYPICAL_DROP


def link(faces: list[Box], bibs: list[Box], aspect: float = 1.0) -> list[Link]:
    """One-to-one links, the most plausible pairs first. `aspect` = photo width / height."""
    candidates = []
    for face_index, face in enumerate(faces):
        for bib_index, bib in enumerate(bibs):
            score = plausible(face, bib, aspect)
            if score is not None:
                candidates.append(Link(face_index, bib_index, round(score, 4)))
    linked, used_faces, used_bibs = [], set(), set()
    for candidate in sorted(candidates, key=lambda c: (c.score, c.face, c.bib)):
        if candidate.face not in used_faces and candidate.bib not in used_bibs:
            linked.append(candidate)
            used_faces.add(candidate.face)
            used_bibs.add(candidate.bib)
    return sorted(linked, key=lambda c: c.face)


def attach_faces(bibs: list[BibRead], faces: list[dict], width: int, height: int) -> list[BibRead]:
    """The bibs a photo's run found, each with the faceId of the runner wearing it when linked. A
    bib that arrives with a faceId (the second look read it under that face) keeps it; the others
    are linked to the remaining faces."""
    taken = {bib["faceId"] for bib in bibs if "faceId" in bib}
    free_faces = [face for face in faces if face["faceId"] not in taken]
    free_bibs = [index for index, bib in enumerate(bibs) if "faceId" not in bib]
    boxes = cast(list[Box], [bibs[index]["box"] for index in free_bibs])  # a run's reads: each has its box
    found = link([face["box"] for face in free_faces], boxes, width / height)
    by_bib = {free_bibs[pair.bib]: free_faces[pair.face]["faceId"] for pair in found}
    return [
        {**bib, "faceId": by_bib[index]} if index in by_bib else bib.copy() for index, bib in enumerate(bibs)
    ]
