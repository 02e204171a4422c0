"""A second look at a photo with the faces its run found (issue #20).

DetectText reads the whole photo at once; a small or half-turned bib is lost among the scenery,
and scenery (a finish clock, a timer) is read as bibs. With the faces (pipeline.processing.links: a bib sits
on the torso, under its face) the pipeline corrects both:

- A number no one wears is dropped: when the photo has faces and none is above the number (within
  WORN_OFFSET face widths sideways, 0 to links.MAX_DROP face heights up), it is scenery.
- Each face with no bib linked to it gets its torso cut out (1.5 face widths either side of the
  face's centre line, 0.3 to 5 face heights under the chin), enlarged to MIN_TILE_HEIGHT px (at
  most MAX_SCALE times) from the best image there is, twice: in colour and as its darkest channel
  (coloured ink as dark as black ink: red digits on white are what the first look misses most).
  Every torso of the photo goes into one sheet: one extra DetectText call per photo, whatever the
  number of runners.

What the sheet shows is mapped back to the photo's coordinates. A runner's two views are read
together with the photo's bib rules (pipeline.processing.bibs: the event's range and participant list, and
"not part of a longer number" across both views). On top of those, a second-look read must:
- not overlap a bib the first look read (the same bib read again: "21" of 621, "4847" of 847);
- sit where its runner's bib can be (links.plausible against the face it came from);
- not be only part of a participant's bib: the start or end of exactly one participant's bib is
  that bib (a half-hidden "144" of 1442), of several it is dropped (no evidence which).
Last, any read of the photo (either look) that is the start of a bib read elsewhere in the event
under a face like its runner's is that bib (same_runners_bibs: the same runner, by face search).
bench/bib_accuracy.py measures each rule (`--ablation`).
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import cast

from PIL import Image, ImageChops

from pipeline.common.geometry import Box, covered
from pipeline.common.models import BibRead
from pipeline.processing import bibs, links

MIN_TILE_HEIGHT = 1000  # px: on set 1 (colour view), 600 and 800 read one more wrong number, 1,200 the same
MAX_SCALE = 6.0  # more only enlarges the JPEG noise
MAX_TILES = 8  # runners per sheet (two views each): DetectText returns at most 100 words
WORN_OFFSET = 3.0  # face widths sideways a worn number can be from some face (links: 1.5 for its own)
MAX_SHEET_WIDTH = 4096
GUTTER = 16  # px of white between two torsos: a word never spans two
MIN_REGION = 0.01  # of the photo's side: a narrower torso (a face at the frame's edge) is skipped
OVERLAP = 0.2  # of the smaller box: a read covering this much of a first-look bib is that bib
SHEET_QUALITY = 90
MAX_SHEET_BYTES = 5 * 1024 * 1024  # DetectText's Image.Bytes limit


@dataclass(frozen=True, eq=False)  # compared by identity: a runner has one tile per view
class Tile:
    region: tuple[float, float, float, float]  # left, top, right, bottom: fractions of the photo
    face: dict  # {"box", "faceId"?}: the face it is the torso of
    view: str  # "colour" or "darkest"
    x: int  # where it sits on the sheet, px
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Sheet:
    jpeg: bytes
    tiles: tuple[Tile, ...]
    width: int
    height: int


def torso(face_box: dict) -> tuple[float, float, float, float]:
    """Where a runner's bib can be, from their face: (left, top, right, bottom) clipped to the photo."""
    centre = face_box["left"] + face_box["width"] / 2
    chin = face_box["top"] + face_box["height"]
    return (
        max(0.0, centre - 1.5 * face_box["width"]),
        max(0.0, chin + 0.3 * face_box["height"]),
        min(1.0, centre + 1.5 * face_box["width"]),
        min(1.0, chin + 5.0 * face_box["height"]),
    )


def faces_without_bib(found: list[BibRead], faces: list[dict], width: int, height: int) -> list[dict]:
    """The faces (indexed or not; not an erased runner's) no bib of the first look is linked to,
    largest first, at most MAX_TILES, each with a torso region big enough to read."""
    boxes = cast(list[Box], [b["box"] for b in found])  # the first look's reads: each has its box
    linked = {pair.face for pair in links.link([f["box"] for f in faces], boxes, width / height)}
    free = [face for index, face in enumerate(faces) if index not in linked and not face.get("erased")]
    free = [
        face
        for face in free
        if (region := torso(face["box"]))[2] - region[0] >= MIN_REGION and region[3] - region[1] >= MIN_REGION
    ]
    return sorted(free, key=lambda face: -face["box"]["width"] * face["box"]["height"])[:MAX_TILES]


def source_long_side(faces: list[dict], width: int, height: int, original: tuple[int, int]) -> int | None:
    """The long side to decode the upload at so that its smallest torso reaches MIN_TILE_HEIGHT
    without enlarging (capped at the upload's own); None when the processed copy is enough."""
    smallest = min(torso(face["box"])[3] - torso(face["box"])[1] for face in faces)
    wanted = min(max(original), round(MIN_TILE_HEIGHT / smallest / height * max(width, height)))
    return wanted if wanted > max(width, height) * 1.1 else None


def darkest_channel(image: Image.Image) -> Image.Image:
    """Each pixel's darkest channel, as grey: red, blue or black ink on a white bib all turn dark."""
    red, green, blue = image.split()
    return Image.merge("RGB", [ImageChops.darker(ImageChops.darker(red, green), blue)] * 3)


VIEWS = ("colour", "darkest")


def sheet(image: Image.Image, faces: list[dict], views: tuple[str, ...] = VIEWS) -> Sheet:
    """The faces' torsos cut from `image` (upright RGB), enlarged, each in colour and as its
    darkest channel (`views`), in rows of at most MAX_SHEET_WIDTH."""
    width, height = image.size
    sides = (width, height, width, height)
    crops, tiles, x, y, row_height = [], [], 0, 0, 0
    for face in faces:
        region = torso(face["box"])
        left, top, right, bottom = (round(value * side) for value, side in zip(region, sides, strict=True))
        crop = image.crop((left, top, right, bottom))
        factor = min(MAX_SCALE, max(1.0, MIN_TILE_HEIGHT / max(crop.height, 1)))
        size = (max(1, round(crop.width * factor)), max(1, round(crop.height * factor)))
        crop = crop.resize(size, Image.Resampling.LANCZOS) if factor > 1.0 else crop
        for view in views:
            shown = darkest_channel(crop) if view == "darkest" else crop
            if x and x + shown.width > MAX_SHEET_WIDTH:
                x, y, row_height = 0, y + row_height + GUTTER, 0
            crops.append((shown, x, y))
            tiles.append(Tile(region, face, view, x, y, shown.width, shown.height))
            x, row_height = x + shown.width + GUTTER, max(row_height, shown.height)
    canvas = Image.new(
        "RGB", (max(80, max(t.x + t.width for t in tiles)), max(80, y + row_height)), (255, 255, 255)
    )
    for crop, left, top in crops:
        canvas.paste(crop, (left, top))
    quality = SHEET_QUALITY
    while True:
        buffer = io.BytesIO()
        canvas.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= MAX_SHEET_BYTES or quality <= 50:
            return Sheet(buffer.getvalue(), tuple(tiles), canvas.width, canvas.height)
        quality -= 10


def in_photo(detections: list[dict], layout: Sheet) -> list[tuple[dict, Tile]]:
    """The sheet's TextDetections with their boxes in the photo's coordinates, each with the tile
    its centre is in (words on the gutter belong to no runner and are left out)."""
    mapped = []
    for detection in detections:
        box = detection.get("Geometry", {}).get("BoundingBox", {})
        left, top = box.get("Left", 0.0) * layout.width, box.get("Top", 0.0) * layout.height
        w, h = box.get("Width", 0.0) * layout.width, box.get("Height", 0.0) * layout.height
        centre = (left + w / 2, top + h / 2)
        for tile in layout.tiles:
            if tile.x <= centre[0] < tile.x + tile.width and tile.y <= centre[1] < tile.y + tile.height:
                region_width, region_height = tile.region[2] - tile.region[0], tile.region[3] - tile.region[1]
                moved = {
                    "Left": tile.region[0] + (left - tile.x) / tile.width * region_width,
                    "Top": tile.region[1] + (top - tile.y) / tile.height * region_height,
                    "Width": w / tile.width * region_width,
                    "Height": h / tile.height * region_height,
                }
                mapped.append(({**detection, "Geometry": {"BoundingBox": moved}}, tile))
                break
    return mapped


@dataclass(frozen=True)
class SecondLookRules:
    """Each rule on top of the photo's bib rules, switchable for the ablation."""

    worn: bool = True
    same_runner_partials: bool = True
    not_first_look: bool = True
    placed_under_face: bool = True
    participant_partials: bool = True


def worn(
    found: list[BibRead], faces: list[dict], aspect: float, extra: SecondLookRules = SecondLookRules()
) -> list[BibRead]:
    """The first look's bibs someone can be wearing: all of them when the photo has no faces (no
    way to tell), else those with a face above them (a finish clock or a timer has none). An
    erased runner's face box counts: their bib is worn."""
    if not extra.worn or not faces:
        return list(found)
    return [bib for bib in found if any(_under(face["box"], cast(Box, bib["box"]), aspect) for face in faces)]


def reads(
    mapped: list[tuple[dict, Tile]],
    first: list[BibRead],
    rules: bibs.BibRules,
    aspect: float,
    extra: SecondLookRules = SecondLookRules(),
) -> list[BibRead]:
    """The bibs the second look adds, each as the first look's dicts are, with `look: 2` and the
    faceId of the face it came from when that face is indexed."""
    seen = {bib["bib"] for bib in first}
    added: dict[str, BibRead] = {}
    for face in _runners(mapped):
        for bib, value in _candidates([d for d, t in mapped if t.face is face], rules, extra):
            if value in seen or value in added:
                continue
            if extra.not_first_look and any(covered(bib.box, other["box"]) > OVERLAP for other in first):
                continue
            if extra.placed_under_face and links.plausible(face["box"], bib.box, aspect) is None:
                continue
            read: BibRead = {**bib.as_dict(), "bib": value, "look": 2}
            if value != bib.bib:
                read["read"] = bib.bib
            if "faceId" in face:
                read["faceId"] = face["faceId"]
            added[value] = read
    return sorted(added.values(), key=lambda found: (-found["confidence"], found["bib"]))


def same_runners_bibs(
    found: list[BibRead],
    faces: list[dict],
    size: tuple[int, int],
    longer_bibs: Callable[[str], list[dict]],
    same_runner: Callable[[str], set[str]],
    photo_id: str,
    max_length: int,
    extra: SecondLookRules = SecondLookRules(),
) -> list[BibRead]:
    """The photo's bibs, a partial read resolved by its runner's face: a read linked to an indexed
    face that is the start of bibs read in other photos of the event ("1026" of 10264,
    `longer_bibs`) is that bib when the faces like its own (`same_runner`: face ids) wear exactly
    one of them. A face search is made only for a read some longer bib starts with."""
    if not extra.same_runner_partials or not faces:
        return list(found)
    linked = links.attach_faces(found, faces, *size)
    values = {bib["bib"] for bib in found}
    out: list[BibRead] = []
    for bib, link in zip(found, linked, strict=True):
        face_id = link.get("faceId")
        longer = []
        if face_id and len(bib["bib"]) < max_length:
            longer = [
                item
                for item in longer_bibs(bib["bib"])
                if item.get("faceId") and item.get("photoId") != photo_id  # not this photo's last run
            ]
        if face_id and longer:  # longer bibs are looked up only for a read linked to a face
            matched = same_runner(face_id)
            wearing = {item["bib"] for item in longer if item["faceId"] in matched}
            if len(wearing) == 1:
                (value,) = wearing
                if value in values:  # read in full in this photo too
                    continue
                out.append({**bib, "bib": value, "read": bib["bib"]})
                values.add(value)
                continue
        out.append(bib)
    return out


def _candidates(
    words: list[dict], rules: bibs.BibRules, extra: SecondLookRules
) -> list[tuple[bibs.Bib, str]]:
    """(read, the bib it is) for one runner: the reads the photo's rules accept, then, with a
    participant list, the others that are the start or end of exactly one participant's bib."""
    found = [(bib, bib.bib) for bib in bibs.read_bibs(words, rules)]
    if extra.participant_partials and rules.participants:
        known = {value for _, value in found}
        free = replace(rules, participants=None, drop_partials=False)
        for bib in bibs.read_bibs(words, free):
            value = _resolved(bib.bib, rules.participants)
            if value and value not in known:
                found.append((bib, value))
                known.add(value)
    return found


def _runners(mapped: list[tuple[dict, Tile]]) -> list[dict]:
    """The faces the mapped words came from, each once, in sheet order."""
    faces: list[dict] = []
    for _, tile in mapped:
        if not any(face is tile.face for face in faces):
            faces.append(tile.face)
    return faces


def _under(face: Box, bib: Box, aspect: float) -> bool:
    measured = links.measure(face, bib, aspect)
    return measured is not None and 0.0 <= measured[0] <= links.MAX_DROP and abs(measured[1]) <= WORN_OFFSET


def _resolved(read: str, participants: frozenset[str]) -> str | None:
    """A participant's bib the read is, or is the start or end of when only one; else None."""
    if read in participants:
        return read
    longer = [p for p in participants if p != read and (p.startswith(read) or p.endswith(read))]
    return longer[0] if len(longer) == 1 else None
