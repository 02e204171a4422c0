"""Race photos made by code, each carrying its script for the `scripted` engine.

A photo shows runners (a head, a shirt, a white bib with its number drawn on it) in front of a
background of random blocks, so every photo looks different at a glance (the scripted engine
recognises processed copies by a visual signature). The script declares what a perfect
recogniser would report: each bib's number and box, each face's box and who it belongs to.
Everything is seeded: the same call makes the same bytes.
"""

import io
import random
from dataclasses import dataclass, field
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw, ImageFont

from snaprace import portraits
from snaprace.local.engines import embed_script


@dataclass(frozen=True)
class Runner:
    bib: str
    show_bib: bool = True
    show_face: bool = True
    portrait: str | None = None  # a real face (snaprace.portraits) instead of a drawn head

    @property
    def person(self) -> str:
        return f"runner-{self.bib}"


@dataclass(frozen=True)
class SamplePhoto:
    name: str
    data: bytes
    bibs: tuple[str, ...] = ()  # the bibs a perfect reader finds
    people: tuple[str, ...] = ()  # whose faces are visible
    expect: str = "INDEXED"  # the final status the pipeline should give it
    script: dict = field(default_factory=dict)


def _background(rng: random.Random, width: int, height: int) -> Image.Image:
    cols, rows = 8, 6
    small = Image.new("RGB", (cols, rows))
    small.putdata(
        [(rng.randrange(30, 230), rng.randrange(30, 230), rng.randrange(30, 230)) for _ in range(cols * rows)]
    )
    image = small.resize((width, height), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(image)
    for _ in range(300):  # texture, so it is not a flat drawing
        x, y = rng.randrange(width), rng.randrange(height)
        shade = rng.randrange(256)
        draw.rectangle((x, y, x + 3, y + 3), fill=(shade, shade, shade))
    return image


def race_photo(
    seed: int,
    runners: list[Runner],
    width: int = 1600,
    height: int = 1067,
    fmt: str = "JPEG",
    orientation: int | None = None,
    fail: dict | None = None,
    taken_at: str | None = None,
) -> tuple[bytes, dict]:
    """Draw the runners left to right; return the encoded photo (script embedded) and the script.

    With `orientation`, the pixels are stored rotated and the EXIF tag says how to turn them
    upright; the script describes the upright photo, as a viewer (and the pipeline) sees it.
    `taken_at`: the camera's EXIF DateTimeOriginal, "YYYY:MM:DD HH:MM:SS".
    """
    rng = random.Random(seed)
    image = _background(rng, width, height)
    draw = ImageDraw.Draw(image)
    script: dict = {"text": [], "faces": []}
    slot = width / max(len(runners), 1)
    for index, runner in enumerate(runners):
        centre = slot * (index + 0.5) + rng.uniform(-slot * 0.1, slot * 0.1)
        head = min(slot * 0.35, height * 0.2)
        top = height * rng.uniform(0.12, 0.22)
        head_box = (centre - head / 2, top, centre + head / 2, top + head * 1.2)
        body_box = (centre - head, head_box[3] + head * 0.1, centre + head, height)
        draw.rectangle(body_box, fill=(rng.randrange(256), rng.randrange(80), rng.randrange(256)))
        if runner.show_face and runner.portrait:
            size = (round(head_box[2] - head_box[0]), round(head_box[3] - head_box[1]))
            face, mask = portraits.head(runner.portrait, *size, rng)
            image.paste(face, (round(head_box[0]), round(head_box[1])), mask)
            script["faces"].append({"person": runner.person, "box": _normalised(head_box, width, height)})
        elif runner.show_face:
            draw.ellipse(head_box, fill=(224, 172, 105), outline=(60, 40, 20), width=3)
            script["faces"].append({"person": runner.person, "box": _normalised(head_box, width, height)})
        else:  # seen from behind
            draw.ellipse(head_box, fill=(50, 35, 20))
        bib_box = (
            centre - head * 0.8,
            body_box[1] + head * 0.5,
            centre + head * 0.8,
            body_box[1] + head * 1.5,
        )
        if runner.show_bib:
            draw.rectangle(bib_box, fill=(250, 250, 250), outline=(0, 0, 0), width=2)
            font = ImageFont.load_default(size=int(head * 0.6))
            draw.text(
                ((bib_box[0] + bib_box[2]) / 2, (bib_box[1] + bib_box[3]) / 2),
                runner.bib,
                fill=(0, 0, 0),
                font=font,
                anchor="mm",
            )
            text_box = (
                bib_box[0] + head * 0.15,
                bib_box[1] + head * 0.2,
                bib_box[2] - head * 0.15,
                bib_box[3] - head * 0.2,
            )
            script["text"].append(
                {"text": runner.bib, "box": _normalised(text_box, width, height), "confidence": 98.5}
            )
    if fail:
        script["fail"] = fail
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
        image = image.transpose(_STORE_ROTATED[orientation])
    if taken_at:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken_at
    save = {"exif": exif.tobytes()} if fmt == "JPEG" else {}
    return embed_script(image, script, fmt, **save), script


# How to store upright pixels so that the EXIF orientation turns them upright again.
_STORE_ROTATED = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


def runner_groups(count: int, seed: int, sizes=(1, 1, 2, 3)) -> list[list[Runner]]:
    """Who is in each of `count` photos: 1-3 runners drawn from a field of about count / 4 bibs,
    so runners appear in several photos, as at a race (the benchmarks' batches)."""
    rng = random.Random(seed)
    bibs = [str(n) for n in rng.sample(range(100, 9999), max(10, count // 4))]
    return [[Runner(b) for b in rng.sample(bibs, rng.choice(sizes))] for _ in range(count)]


def _normalised(box, width, height) -> list[float]:
    left, top, right, bottom = box
    left, top = max(left, 0), max(top, 0)
    right, bottom = min(right, width), min(bottom, height)
    return [
        round(left / width, 4),
        round(top / height, 4),
        round((right - left) / width, 4),
        round((bottom - top) / height, 4),
    ]


def selfie(bib: str, seed: int = 0, portrait: str | None = None) -> bytes:
    """A close-up of the runner with this bib (no bib visible), as a runner's phone would take it;
    a runner with a real face (`portrait`): another crop of that portrait."""
    runner = Runner(bib, show_bib=False, portrait=portrait)
    data, _ = race_photo(10_000 + seed, [runner], width=600, height=800)
    return data


# the demo's two runners with real faces: the first's bib cannot be seen in one photo
DEMO_PORTRAITS = ("hopper", "collins")


def demo_set() -> list[SamplePhoto]:
    """The photos `make demo` uploads: one event's worth of runners, and the uploads that go wrong."""
    rng, bibs = demo_bibs()
    faces = demo_faces(bibs)
    photos = []
    for index in range(18):
        group = [Runner(b, portrait=faces.get(b)) for b in rng.sample(bibs, rng.choice((1, 1, 2, 3)))]
        if any(runner.portrait for runner in group):  # where faces are found, a bib with none above it
            group = [runner for runner in group if runner.portrait]  # is not worn (a sign): no drawn heads
        data, script = race_photo(index, group)
        photos.append(
            SamplePhoto(
                f"IMG_{1000 + index}.jpg",
                data,
                bibs=tuple(r.bib for r in group),
                people=tuple(r.person for r in group),
                script=script,
            )
        )
    hidden = Runner(bibs[0], show_bib=False, portrait=faces[bibs[0]])  # bib not seen: found by face
    data, script = race_photo(100, [hidden, Runner(bibs[1], portrait=faces.get(bibs[1]))])
    photos.append(
        SamplePhoto("IMG_1100.jpg", data, (bibs[1],), (hidden.person, f"runner-{bibs[1]}"), script=script)
    )
    turned = Runner(bibs[2], portrait=faces.get(bibs[2]))
    data, script = race_photo(101, [turned], width=1067, height=1600, orientation=6)
    photos.append(SamplePhoto("IMG_1101_portrait.jpg", data, (turned.bib,), (turned.person,), script=script))
    data, script = race_photo(102, [], fmt="PNG")
    photos.append(SamplePhoto("finish_line.png", data, script=script))
    broken, _ = race_photo(103, [Runner(bibs[3])])
    photos.append(SamplePhoto("IMG_1103_card_error.jpg", broken[: len(broken) // 3], expect="REJECTED"))
    tiny = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 30, 30)).save(tiny, "JPEG")
    photos.append(SamplePhoto("icon.jpg", tiny.getvalue(), expect="REJECTED"))
    photos.append(SamplePhoto("notes.txt", b"camera 2 battery swap at km 30\n", expect="REJECTED"))
    return photos


def demo_bibs() -> tuple[random.Random, list[str]]:
    """The demo's 12 bibs, and the generator that goes on to make its photos."""
    rng = random.Random(2026)
    return rng, [str(n) for n in rng.sample(range(100, 9999), 12)]


def demo_faces(bibs: list[str]) -> dict[str, str]:
    """bib -> portrait: the demo's first bibs are the runners with real faces."""
    return dict(zip(bibs, DEMO_PORTRAITS, strict=False))


def demo_selfie(bib: str) -> bytes:
    """The demo runner's selfie: another crop of their portrait when they have one."""
    return selfie(bib, portrait=demo_faces(demo_bibs()[1]).get(bib))


def write_demo_set(folder: Path) -> list[SamplePhoto]:
    folder.mkdir(parents=True, exist_ok=True)
    photos = demo_set()
    for sample in photos:
        (folder / sample.name).write_bytes(sample.data)
    return photos
