"""Real human faces for the demo's runners, from public-domain portraits that pinned packages ship
(requirements-vision.txt): Grace Hopper (US Navy photo, in matplotlib's sample data) and Eileen
Collins (NASA photo, scikit-image's `astronaut`). Nothing comes from ../shared: a fresh clone has
no datasets.

`head(name, width, height, rng)` is the portrait's head and shoulders, cropped a little
differently each time (margin, offset, mirror, light), to paste over a runner's drawn head; a
selfie is another such crop of the same portrait, so the demo's selfie search compares crops of one
photo (docs/accuracy.md measures selfie search on real race photos).
"""

import random
from dataclasses import dataclass
from functools import cache
from importlib import metadata

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps


@dataclass(frozen=True)
class Portrait:
    distribution: str  # the installed package that ships it
    path: str  # inside that distribution
    face: tuple[int, int, int, int]  # left, top, width, height in pixels (YuNet's box on the portrait)


PORTRAITS = {
    "hopper": Portrait(
        "matplotlib", "matplotlib/mpl-data/sample_data/grace_hopper.jpg", (183, 120, 170, 213)
    ),
    "collins": Portrait("scikit-image", "skimage/data/astronaut.png", (178, 63, 90, 114)),
}


class PortraitMissing(RuntimeError):
    """The package that ships a portrait is not installed (make venv installs it)."""


@cache
def portrait(name: str) -> Image.Image:
    found = PORTRAITS[name]
    try:
        path = metadata.distribution(found.distribution).locate_file(found.path)
    except metadata.PackageNotFoundError:
        raise PortraitMissing(
            f"the {name} portrait ships with {found.distribution}: `make venv` installs it "
            "(requirements-vision.txt)"
        ) from None
    with Image.open(str(path)) as image:
        return image.convert("RGB")


def head(name: str, width: int, height: int, rng: random.Random) -> tuple[Image.Image, Image.Image]:
    """(the portrait's head, an oval mask) at `width` x `height`: the face box with a margin of
    30-45 % around it, shifted by up to 6 % of the face, mirrored half the time, lit 85-115 %."""
    image = portrait(name)
    left, top, face_width, face_height = PORTRAITS[name].face
    margin = rng.uniform(0.30, 0.45)
    shift_x, shift_y = (rng.uniform(-0.06, 0.06) * face_width for _ in range(2))
    box = (
        max(0, round(left - margin * face_width + shift_x)),
        max(0, round(top - margin * face_height + shift_y)),
        min(image.width, round(left + (1 + margin) * face_width + shift_x)),
        min(image.height, round(top + (1 + margin) * face_height + shift_y)),
    )
    cropped = image.crop(box).resize((width, height), Image.Resampling.LANCZOS)
    if rng.random() < 0.5:
        cropped = ImageOps.mirror(cropped)
    cropped = ImageEnhance.Brightness(cropped).enhance(rng.uniform(0.85, 1.15))
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, width - 1, height - 1), fill=255)
    return cropped, mask.filter(ImageFilter.GaussianBlur(max(1, width // 40)))
