"""Image normalisation: any accepted upload -> an upright RGB JPEG Rekognition can read, plus a thumbnail.

Rekognition reads JPEG and PNG up to 5 MB with at least 80 px a side; everything is normalised to
JPEG. JPEGs are decoded in draft mode (libjpeg's DCT scaling), which decodes a 24-45 MP photo at
1/2-1/8 size directly instead of decoding every pixel and throwing most of them away.
"""

import datetime
import struct
import warnings
from dataclasses import dataclass
from io import BytesIO

import pillow_heif
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from pipeline.common.errors import InvalidImage

pillow_heif.register_heif_opener()

ACCEPTED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "HEIF": "HEIC"}
MIN_SIDE = 80
MAX_UPLOAD_BYTES = 15 * 1024 * 1024  # the upload size cap
MAX_IMAGE_PIXELS = 120_000_000  # above: a decompression bomb, refused before decoding
TARGET_LONG_SIDE = 2048  # the processed photo Rekognition reads
THUMBNAIL_LONG_SIDE = 400
JPEG_QUALITY = 88
MAX_REKOGNITION_BYTES = 5 * 1024 * 1024
THUMBNAIL_QUALITY = 80
# After draft decoding the remaining scale is 0.5-1. Bicubic there stays 0.7-0.9 dB under Lanczos
# (41.8 / 39.9 dB against a full-decode Lanczos at 24 / 45 MP, bench/preprocess.py) and saves ~10 %
# of the whole step; Hamming falls below 38 dB at 45 MP.
RESAMPLING = Image.Resampling.BICUBIC
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)
_SIXTEEN_BIT_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N"}


@dataclass(frozen=True)
class NormalisedPhoto:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    original_width: int
    original_height: int
    source_format: str
    taken_at: str | None


def normalise(
    data: bytes,
    *,
    target_long_side: int = TARGET_LONG_SIDE,
    thumbnail_long_side: int = THUMBNAIL_LONG_SIDE,
    max_pixels: int = MAX_IMAGE_PIXELS,
    max_bytes: int = MAX_UPLOAD_BYTES,
    quality: int = JPEG_QUALITY,
) -> NormalisedPhoto:
    """Validate and normalise one upload; raise InvalidImage with the reason when it cannot be."""
    check_upload_size(len(data), max_bytes)
    image = _open(data, max_pixels)
    assert image.format is not None  # _open accepts only ACCEPTED_FORMATS
    source_format = ACCEPTED_FORMATS[image.format]
    original_width, original_height = image.size
    taken_at = _taken_at(image)

    scale = min(1.0, target_long_side / max(image.size))
    out_size = _scaled(image.size, scale)
    if min(out_size) < MIN_SIDE:
        raise InvalidImage(
            f"image is {original_width}x{original_height} px: too narrow to fit "
            f"{target_long_side} px on the long side with {MIN_SIDE} px on the short side"
        )
    if source_format == "JPEG":
        image.draft("RGB", out_size)
    try:
        image.load()
    except _DECODE_ERRORS as exc:
        raise InvalidImage(f"{source_format} image data is truncated or corrupt") from exc

    # resize, then turn upright: the rotation moves the (smaller) output's pixels, not the input's
    image = _to_rgb(image)
    scale = min(1.0, target_long_side / max(image.size))
    if scale < 1.0:
        image = image.resize(_scaled(image.size, scale), RESAMPLING)
    image = ImageOps.exif_transpose(image)
    jpeg = _encode_under(image, quality, MAX_REKOGNITION_BYTES)

    # resized straight from the processed photo (thumbnail() would copy it first); the 2x box
    # reduction before the filter is what Image.thumbnail does too
    thumb_scale = min(1.0, thumbnail_long_side / max(image.size))
    thumbnail = image.resize(_scaled(image.size, thumb_scale), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return NormalisedPhoto(
        jpeg=jpeg,
        thumbnail=_encode_under(thumbnail, THUMBNAIL_QUALITY, MAX_REKOGNITION_BYTES),
        width=image.width,
        height=image.height,
        original_width=original_width,
        original_height=original_height,
        source_format=source_format,
        taken_at=taken_at,
    )


def upright(data: bytes, long_side: int | None = None, max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """An accepted image as upright RGB, at about `long_side` px on its long side when smaller
    than the image (a JPEG is decoded at that size in draft mode); InvalidImage when it cannot be."""
    image = _open(data, max_pixels)
    if long_side and image.format in ("JPEG", "MPO"):
        image.draft("RGB", _scaled(image.size, min(1.0, long_side / max(image.size))))
    try:
        image.load()
    except _DECODE_ERRORS as exc:
        raise InvalidImage("image data is truncated or corrupt") from exc
    image = _to_rgb(image)
    if long_side and max(image.size) > long_side:
        image = image.resize(_scaled(image.size, long_side / max(image.size)), RESAMPLING)
    return ImageOps.exif_transpose(image)


def check_upload_size(size: int, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """Reject empty and oversized uploads (called before the body is even read)."""
    if size == 0:
        raise InvalidImage("empty file (0 bytes)")
    if size > max_bytes:
        raise InvalidImage(f"file is {_megabytes(size)}; the limit is {_megabytes(max_bytes)}")


def _megabytes(size: int) -> str:
    return f"{round(size / 2**20, 1):g} MB"


def _open(data: bytes, max_pixels: int) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():  # the size is checked below, with a readable reason
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise InvalidImage(f"image dimensions exceed the {max_pixels / 1e6:.0f} MP limit") from exc
    except UnidentifiedImageError as exc:
        raise InvalidImage("not an image: the content is not JPEG, PNG or HEIC") from exc
    except _DECODE_ERRORS as exc:
        raise InvalidImage("image header is truncated or corrupt") from exc
    if image.format not in ACCEPTED_FORMATS:
        raise InvalidImage(f"content is {image.format}, not JPEG, PNG or HEIC")
    width, height = image.size
    if width * height > max_pixels:
        raise InvalidImage(
            f"image is {width}x{height} px ({width * height / 1e6:.0f} MP); "
            f"the limit is {max_pixels / 1e6:.0f} MP"
        )
    if min(width, height) < MIN_SIDE:
        raise InvalidImage(f"image is {width}x{height} px; at least {MIN_SIDE} px a side is needed")
    return image


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in _SIXTEEN_BIT_MODES:
        # Pillow clips 16-bit values at 255 when converting; scale them to 8 bits first.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        flattened = Image.new("RGB", rgba.size, "white")
        flattened.paste(rgba, mask=rgba.getchannel("A"))
        return flattened
    return image if image.mode == "RGB" else image.convert("RGB")


def _encode_under(image: Image.Image, quality: int, limit: int) -> bytes:
    while True:
        buffer = BytesIO()
        # No metadata travels to the photos runners see: Pillow would copy the upload's JPEG
        # comment (camera notes, names) from image.info unless told otherwise; EXIF is not passed.
        image.save(buffer, "JPEG", quality=quality, comment=b"")
        if buffer.tell() < limit or quality <= 40:
            return buffer.getvalue()
        quality -= 10


def _taken_at(image: Image.Image) -> str | None:
    """EXIF DateTimeOriginal (camera local time, with its offset when the camera wrote one)."""
    try:
        exif = image.getexif()
        details = exif.get_ifd(ExifTags.IFD.Exif)
    except _DECODE_ERRORS:
        return None
    raw = details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if not isinstance(raw, str):
        return None
    try:
        taken = datetime.datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = details.get(ExifTags.Base.OffsetTimeOriginal)
    if isinstance(offset, str) and len(offset) == 6 and offset[0] in "+-":
        return taken.isoformat() + offset
    return taken.isoformat()
