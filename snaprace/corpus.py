"""Bad and awkward uploads, made by code (nothing downloaded): what photographers' cards, scripts
and sync tools really send. Each entry says what the pipeline must make of it. Used by the
end-to-end tests and the soak run."""

import io
import random
import struct
import zlib
from dataclasses import dataclass

from PIL import Image

from snaprace.samples import Runner, race_photo


@dataclass(frozen=True)
class Upload:
    name: str  # the file part of the key, under {org}/{event}/raw/
    data: bytes
    status: str  # INDEXED or REJECTED
    reason: str = ""  # words the REJECTED reason must contain


def _encoded(image: Image.Image, fmt: str, **save) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims huge dimensions, with almost no data behind it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _animated_gif() -> bytes:
    frames = [Image.new("RGB", (200, 200), (i * 60, 80, 120)) for i in range(3)]
    return _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def corpus(seed: int) -> list[Upload]:
    rng = random.Random(seed)
    photo, _ = race_photo(seed, [Runner("4242")])
    plain = Image.open(io.BytesIO(photo)).convert("RGB")
    small = plain.resize((400, 267))
    uploads = [
        Upload("empty.jpg", b"", "REJECTED", "empty"),
        Upload("random.jpg", rng.randbytes(50_000), "REJECTED", "not an image"),
        Upload(
            "page.png", b"<!doctype html><html><body>404 Not Found</body></html>", "REJECTED", "not an image"
        ),
        Upload("huge-header.png", png_claiming(60_000, 60_000), "REJECTED", "MP limit"),
        Upload("pixel.jpg", _encoded(Image.new("RGB", (1, 1)), "JPEG"), "REJECTED", "80 px"),
        Upload("icon79.png", _encoded(Image.new("RGB", (79, 79), (9, 9, 9)), "PNG"), "REJECTED", "80 px"),
        Upload("animated.jpg", _animated_gif(), "REJECTED", "GIF"),
        Upload("renamed.txt", photo, "REJECTED", "unsupported file type .txt"),
        Upload("oversized.jpg", photo[:2] + rng.randbytes(16 * 1024 * 1024), "REJECTED", "MB"),
        Upload("cmyk.jpg", _encoded(small.convert("CMYK"), "JPEG"), "INDEXED"),
        Upload("gray.jpg", _encoded(small.convert("L"), "JPEG"), "INDEXED"),
        Upload("deep16.png", _encoded(small.convert("L").convert("I;16"), "PNG"), "INDEXED"),
        Upload(
            "palette-alpha.png",
            _encoded(
                small.convert("RGBA").convert("P", palette=Image.Palette.ADAPTIVE), "PNG", transparency=0
            ),
            "INDEXED",
        ),
        Upload("with space & plus+percent%.jpg", _encoded(small, "JPEG"), "INDEXED"),
        Upload("마라톤 결승선 ✓.jpg", _encoded(small, "JPEG"), "INDEXED"),
        Upload("card 2/DCIM/" + "long-name-" * 80 + ".jpg", _encoded(small, "JPEG"), "INDEXED"),
    ]
    for cut in (10, len(photo) // 4, len(photo) // 2, len(photo) * 9 // 10):
        uploads.append(Upload(f"truncated-{cut}.jpg", photo[:cut], "REJECTED", ""))
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        uploads.append(
            Upload(f"orientation-{orientation}.jpg", _encoded(small, "JPEG", exif=exif.tobytes()), "INDEXED")
        )
    return uploads


# Keys the pipeline cannot give a photo item: outside the layouts (the upload rule never matches
# them) or with ids the collection-id rules refuse (the starter logs the reason and drops them).
IGNORED_KEYS = (
    "acme/seoul-2026/IMG_0001.jpg",
    "acme/raw/IMG_0001.jpg",
    "Acme Corp/seoul-2026/raw/IMG_0001.jpg",
    "acme/seoul_2026!/raw/IMG_0001.jpg",
)
