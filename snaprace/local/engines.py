"""What the Rekognition emulator "sees" in an image: an engine returns text lines and faces.

`scripted`: every photo the project generates carries its own script — the text and faces it
shows — as JSON in its JPEG comment (PNG text chunk). Preprocessing re-encodes photos and drops
the comment, so the engine also remembers each scripted photo by a visual signature (a 16x16
mean-threshold hash of the upright image, which survives resizing and re-compression) and
recognises the processed copy by it. Images with no script and no match show nothing.

`vision` (snaprace/local/vision.py): real offline OCR and face models, from the project's
`vision` extra; asking for it without the extra fails with the command that installs it.
"""

import hashlib
import io
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from PIL import Image, ImageOps, PngImagePlugin

SCRIPT_KEY = "snaprace-scripted"
SIGNATURE_SIDE = 16
MAX_SIGNATURE_DISTANCE = 40  # of 256 bits; re-encoding moves a few, another photo ~128
MAX_ASPECT_DIFFERENCE = 0.03


@dataclass(frozen=True)
class TextLine:
    text: str
    box: tuple[float, float, float, float]  # left, top, width, height (0-1)
    confidence: float = 99.0


@dataclass(frozen=True)
class SeenFace:
    box: tuple[float, float, float, float]
    identity: str  # who the face belongs to; engines compare identities for similarity
    confidence: float = 99.9
    sharpness: float = 90.0
    brightness: float = 80.0
    embedding: tuple[float, ...] = field(default=(), repr=False)  # the vision engine's face vector


@dataclass
class Sight:
    text: list[TextLine] = field(default_factory=list)
    faces: list[SeenFace] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # operation -> error code to answer


# ---------------------------------------------------------------- scripts in images


def embed_script(image: Image.Image, script: dict, fmt: str = "JPEG", **save) -> bytes:
    """Encode `image` with its script (see tests and snaprace.samples for the shape)."""
    buffer = io.BytesIO()
    text = json.dumps(script, separators=(",", ":"))
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text(SCRIPT_KEY, text)
        image.save(buffer, "PNG", pnginfo=info, **save)
    else:
        save.setdefault("quality", 90)
        image.save(buffer, fmt, comment=f"{SCRIPT_KEY}:{text}".encode(), **save)
    return buffer.getvalue()


def read_script(data: bytes) -> dict | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            raw = image.info.get(SCRIPT_KEY) or image.info.get("comment")
    except Exception:  # noqa: BLE001 - not an image: no script
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not raw:
        return None
    raw = raw.removeprefix(f"{SCRIPT_KEY}:")
    try:
        script = json.loads(raw)
    except ValueError:
        return None
    return script if isinstance(script, dict) else None


def signature(data: bytes) -> tuple[int, float]:
    """(256-bit hash, aspect ratio) of the upright image."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("L", (SIGNATURE_SIDE * 4, SIGNATURE_SIDE * 4))
        upright = ImageOps.exif_transpose(image)
        small = upright.convert("L").resize((SIGNATURE_SIDE, SIGNATURE_SIDE), Image.Resampling.BOX)
        aspect = upright.width / upright.height
    pixels = list(small.tobytes())  # one byte per pixel in mode L
    mean = sum(pixels) / len(pixels)
    bits = 0
    for value in pixels:
        bits = (bits << 1) | (value > mean)
    return bits, aspect


def sight_from_script(script: dict) -> Sight:
    def box(item) -> tuple[float, float, float, float]:
        left, top, width, height = (float(v) for v in item["box"])
        return left, top, width, height

    return Sight(
        text=[
            TextLine(text=str(t["text"]), box=box(t), confidence=float(t.get("confidence", 99.0)))
            for t in script.get("text", [])
        ],
        faces=[
            SeenFace(
                box=box(f),
                identity=str(f["person"]),
                confidence=float(f.get("confidence", 99.9)),
                sharpness=float(f.get("sharpness", 90.0)),
                brightness=float(f.get("brightness", 80.0)),
            )
            for f in script.get("faces", [])
        ],
        failures={str(k): str(v) for k, v in script.get("fail", {}).items()},
    )


class ScriptedEngine:
    """Sees what each image's script declares; `known_images` lists (id, bytes loader) of images
    that may carry scripts (the local stack passes the bucket's objects)."""

    name = "scripted"

    def __init__(self, known_images: Callable[[], Iterable[tuple[str, Callable[[], bytes]]]] = list):
        self._known_images = known_images
        self._seen_ids: set[str] = set()
        self._registry: list[tuple[int, float, dict]] = []
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()

    def register(self, data: bytes) -> bool:
        script = read_script(data)
        if script is None:
            return False
        try:
            bits, aspect = signature(data)
        except Exception:  # noqa: BLE001 - e.g. a truncated upload that kept its script: nothing to match
            return False
        with self._lock:
            self._registry.append((bits, aspect, script))
        return True

    def _refresh(self) -> None:
        # One refresh at a time: an image is marked seen only once it is registered, so a call that
        # finds nothing new (DetectText and IndexFaces of one photo run side by side) waits for the
        # refresh that is registering the photo instead of missing it.
        with self._refresh_lock:
            for image_id, load in self._known_images():
                if image_id in self._seen_ids:
                    continue
                try:
                    self.register(load())
                finally:  # an object that cannot be read now never will be
                    self._seen_ids.add(image_id)

    def _match(self, data: bytes) -> dict | None:
        bits, aspect = signature(data)
        best, best_distance = None, MAX_SIGNATURE_DISTANCE + 1
        with self._lock:
            for known_bits, known_aspect, script in self._registry:
                if abs(known_aspect - aspect) > MAX_ASPECT_DIFFERENCE * aspect:
                    continue
                distance = (known_bits ^ bits).bit_count()
                if distance < best_distance:
                    best, best_distance = script, distance
        return best

    def see(self, data: bytes, what: tuple[str, ...] = ("text", "faces")) -> Sight:
        """What the image shows (a script declares text and faces at once, so `what` is moot)."""
        script = read_script(data)
        if script is None:
            script = self._match(data)
        if script is None:
            self._refresh()
            script = self._match(data)
        return sight_from_script(script) if script else Sight()

    @staticmethod
    def similarity(a: SeenFace, b: SeenFace) -> float:
        """Rekognition's 0-100 scale: the same person 99.0-99.9, anyone else well under 50."""
        digest = hashlib.sha256("|".join(sorted((a.identity, b.identity))).encode()).digest()
        if a.identity == b.identity:
            return round(99.0 + digest[0] % 90 / 100, 4)
        return round(digest[0] % 400 / 10, 4)


class EngineUnavailable(ValueError):
    pass
