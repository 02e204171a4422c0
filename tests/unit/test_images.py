"""Image normalisation on real bytes, including the bad and awkward uploads photographers send."""

import io

import pytest
from photos import photo
from PIL import Image, ImageSequence

from pipeline.common.errors import InvalidImage
from pipeline.processing.images import MAX_REKOGNITION_BYTES, MIN_SIDE, normalise
from snaprace.corpus import png_claiming

LIMITS = dict(
    target_long_side=2048,
    thumbnail_long_side=400,
    max_pixels=120_000_000,
    max_bytes=15 * 1024 * 1024,
    quality=88,
)


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_large_jpeg_becomes_target_size_rgb_jpeg_and_thumbnail():
    result = normalise(photo(4000, 3000, taken_at="2026:11:01 08:15:30"), **LIMITS)
    processed, thumbnail = decoded(result.jpeg), decoded(result.thumbnail)
    assert (processed.format, processed.mode, processed.size) == ("JPEG", "RGB", (2048, 1536))
    assert (result.width, result.height, result.original_width, result.original_height) == (
        2048,
        1536,
        4000,
        3000,
    )
    assert thumbnail.size == (400, 300)
    assert len(result.jpeg) < MAX_REKOGNITION_BYTES
    assert result.taken_at == "2026-11-01T08:15:30"


def test_small_photo_is_not_enlarged():
    result = normalise(photo(640, 480), **LIMITS)
    assert decoded(result.jpeg).size == (640, 480)


# EXIF orientation -> where the dark top-left marker of the stored pixels must end up.
ORIENTATIONS = {
    1: ("top-left", (640, 480)),
    2: ("top-right", (640, 480)),
    3: ("bottom-right", (640, 480)),
    4: ("bottom-left", (640, 480)),
    5: ("top-left", (480, 640)),
    6: ("top-right", (480, 640)),
    7: ("bottom-right", (480, 640)),
    8: ("bottom-left", (480, 640)),
}


@pytest.mark.parametrize("orientation", sorted(ORIENTATIONS))
def test_every_exif_orientation_is_applied(orientation):
    corner, size = ORIENTATIONS[orientation]
    image = decoded(normalise(photo(640, 480, orientation=orientation), **LIMITS).jpeg)
    assert image.size == size
    width, height = image.size
    probes = {
        "top-left": (5, 5),
        "top-right": (width - 6, 5),
        "bottom-left": (5, height - 6),
        "bottom-right": (width - 6, height - 6),
    }
    dark = [name for name, xy in probes.items() if sum(image.getpixel(xy)) < 100]
    assert dark == [corner]


def test_cmyk_jpeg_becomes_rgb():
    image = decoded(normalise(photo(400, 300, mode="CMYK"), **LIMITS).jpeg)
    assert image.mode == "RGB"
    assert sum(image.getpixel((5, 5))) < 100  # the dark marker stays dark (no inverted channels)


def test_sixteen_bit_png_keeps_its_tones():
    gradient = Image.linear_gradient("L").resize((300, 200)).convert("I")
    sixteen = gradient.point(lambda value: value * 257).convert("I;16")
    buffer = io.BytesIO()
    sixteen.save(buffer, "PNG")
    image = decoded(normalise(buffer.getvalue(), **LIMITS).jpeg)
    top, bottom = image.getpixel((150, 2)), image.getpixel((150, 197))
    assert top[0] < 20 and bottom[0] > 230  # not clipped to white


def test_transparent_png_is_flattened_on_white():
    image = Image.new("RGBA", (200, 200), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (50, 50, 150, 150))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    result = decoded(normalise(buffer.getvalue(), **LIMITS).jpeg)
    assert result.getpixel((10, 10))[0] > 240 and result.getpixel((10, 10))[2] > 240  # white, not red
    assert result.getpixel((100, 100))[2] > 200  # the opaque blue square


def test_palette_png_with_transparency_is_flattened():
    image = Image.new("P", (120, 120), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)
    assert decoded(normalise(buffer.getvalue(), **LIMITS).jpeg).getpixel((5, 5))[1] > 240


def test_heic_is_accepted():
    import pillow_heif

    heif = pillow_heif.from_pillow(Image.open(io.BytesIO(photo(800, 600))))
    buffer = io.BytesIO()
    heif.save(buffer, quality=80)
    result = normalise(buffer.getvalue(), **LIMITS)
    assert (result.source_format, result.width, result.height) == ("HEIC", 800, 600)


def truncated_jpeg(fraction: float) -> bytes:
    data = photo(1200, 900)
    return data[: int(len(data) * fraction)]


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (120, 120), color) for color in ("red", "green")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert len(list(ImageSequence.Iterator(Image.open(io.BytesIO(buffer.getvalue()))))) == 2
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty file (0 bytes)"),
        (bytes(range(256)) * 40, "not an image"),
        (b"<!doctype html><html><body>404 Not Found</body></html>", "not an image"),
        (truncated_jpeg(0.5), "truncated or corrupt"),
        (truncated_jpeg(0.02), "truncated or corrupt"),
        (png_claiming(100_000, 100_000), "exceed the 120 MP limit"),
        (png_claiming(12_000, 11_000), "(132 MP); the limit is 120 MP"),
        (photo(10, 10), "image is 10x10 px; at least 80 px a side"),
        (photo(79, 79), "image is 79x79 px"),
        (photo(6000, 100), "too narrow"),
        (animated_gif(), "content is GIF, not JPEG, PNG or HEIC"),
    ],
    ids=[
        "zero-bytes",
        "random-bytes",
        "html",
        "truncated-half",
        "truncated-header",
        "bomb-header",
        "over-pixel-cap",
        "10x10",
        "79x79",
        "panorama-strip",
        "animated-gif",
    ],
)
def test_bad_uploads_are_rejected_with_a_reason(data, reason):
    with pytest.raises(InvalidImage) as raised:
        normalise(data, **LIMITS)
    assert reason in raised.value.reason


def test_files_over_the_size_cap_are_rejected_before_decoding():
    with pytest.raises(InvalidImage, match=r"file is 16 MB; the limit is 15 MB"):
        normalise(b"\xff\xd8" + b"\x00" * (16 * 1024 * 1024 - 2), **LIMITS)


def test_minimum_side_matches_rekognition():
    assert MIN_SIDE == 80
    assert normalise(photo(80, 80), **LIMITS).width == 80


def test_no_upload_metadata_reaches_the_processed_photo_or_thumbnail():
    upload = photo(1200, 900, comment=b"shot by Kim Min-jun, card 2", taken_at="2026:11:01 08:15:30")
    assert decoded(upload).info.get("comment")  # the upload carries a comment and EXIF
    result = normalise(upload, **LIMITS)
    for output in (result.jpeg, result.thumbnail):
        image = decoded(output)
        assert "comment" not in image.info
        assert not image.getexif()
    assert result.taken_at  # the capture time is read before the metadata is dropped
