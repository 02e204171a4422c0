"""Preprocess speed, memory and quality against naive Pillow, on camera-like 24 MP and 45 MP JPEGs.

    python bench/preprocess.py [--repeat 5] [--json]

Makes two photos in memory (gradients, noise, edges and text; quality 92; the 24 MP one carries
EXIF orientation 6, as a camera held upright writes it), then times, in this process:
  naive: full decode, exif_transpose, LANCZOS resize to the target size, save, thumbnail, save;
  ours:  pipeline.processing.images.normalise with the functions' default configuration.
Ratios are ours / naive (best of --repeat runs each, interleaved); decode_only_ratio is the
scaled JPEG decode alone, the floor any pipeline here stands on. Peak memory is the growth of the
resident set while one image is normalised, measured in a fresh child process per image. PSNR
compares our processed photo with the naive one. --json prints the figures as one object on the
last line.
"""

import argparse
import io
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from pipeline.processing import images

ROOT = Path(__file__).resolve().parent.parent

SIZES = {"24mp": (6000, 4000), "45mp": (8256, 5504)}
ORIENTATION = {"24mp": 6, "45mp": 1}
QUALITY = 92


def camera_like(width: int, height: int, orientation: int, seed: int = 7) -> bytes:
    """A JPEG with what makes camera photos slow to code: smooth gradients, sensor noise, hard
    edges and small text, at quality 92."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            120 + 100 * np.sin(x / width * 3.1) * np.cos(y / height * 2.3),
            110 + 90 * np.cos(x / width * 5.0 + 1.0),
            100 + 80 * np.sin((x + y) / (width + height) * 6.0),
        ],
        axis=-1,
    )
    del x, y
    base += rng.normal(0, 6, size=base.shape).astype(np.float32)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    del base
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(24, height // 40))
    for index in range(60):  # edges: blocks and lines; text: bib-like numbers and words
        left, top = int(rng.integers(0, width - 400)), int(rng.integers(0, height - 300))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.rectangle((left, top, left + 300, top + 200), outline=colour, width=6)
        draw.line((left, top + 250, left + 390, top + 260), fill=colour, width=3)
        draw.text((left + 20, top + 40), f"{1000 + index * 37} FINISH", fill=(10, 10, 10), font=font)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY, exif=exif.tobytes())
    return buffer.getvalue()


def naive(data: bytes, target: int, thumbnail: int, quality: int) -> tuple[bytes, bytes]:
    """What most code does: decode every pixel, rotate, LANCZOS down, save."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)).convert("RGB"))
    scale = target / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    small = image.copy()
    small.thumbnail((thumbnail, thumbnail), Image.Resampling.LANCZOS)
    thumb = io.BytesIO()
    small.save(thumb, "JPEG", quality=images.THUMBNAIL_QUALITY)
    return out.getvalue(), thumb.getvalue()


def ours(data: bytes) -> images.NormalisedPhoto:
    # the function's own settings; the benchmark measures speed, not the upload limit
    return images.normalise(data, max_bytes=len(data) + 1)


def decode_only(data: bytes, target: int) -> None:
    """The floor: libjpeg's scaled decode to at least the target size, nothing else."""
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (target, target))
    image.load()


def psnr(a: bytes, b: bytes) -> float:
    first = np.asarray(Image.open(io.BytesIO(a)).convert("RGB"), dtype=np.float64)
    second = np.asarray(Image.open(io.BytesIO(b)).convert("RGB"), dtype=np.float64)
    if first.shape != second.shape:
        raise SystemExit(f"output sizes differ: {first.shape} vs {second.shape}")
    mse = float(np.mean((first - second) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def peak_mb(data: bytes) -> float:
    """Resident-set growth while normalising one image, in a fresh process that only reads the
    file (making it here takes far more memory than normalising it), in MB."""
    with tempfile.NamedTemporaryFile(suffix=".jpg") as photo:
        photo.write(data)
        photo.flush()
        child = subprocess.run(  # noqa: S603 - this interpreter, this script
            [sys.executable, __file__, "--peak-of", photo.name], capture_output=True, text=True, check=True
        )
    return float(child.stdout.strip().splitlines()[-1])


def measure_peak(path: str) -> None:
    data = Path(path).read_bytes()
    warm_up = io.BytesIO()
    Image.new("RGB", (1200, 800), (90, 120, 30)).save(warm_up, "JPEG")
    ours(warm_up.getvalue())  # imports and first-use allocations, not the image
    before = high_water_kib()
    ours(data)
    print(round((high_water_kib() - before) / 1024, 1))


def high_water_kib() -> int:
    """This process's peak resident set (VmHWM). Not ru_maxrss: Linux carries that over exec from
    the parent that started the child, and this parent is large."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--peak-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_of:
        measure_peak(args.peak_of)
        return 0
    figures: dict = {}
    for name, (width, height) in SIZES.items():
        data = camera_like(width, height, ORIENTATION[name])
        sizes = (images.TARGET_LONG_SIDE, images.THUMBNAIL_LONG_SIDE, images.JPEG_QUALITY)
        naive_out, _ = naive(data, *sizes)
        result = ours(data)
        naive_times, our_times, decode_times = [], [], []
        for _ in range(args.repeat):  # interleaved, so drift in the machine hits both alike
            naive_times.append(timed(naive, data, *sizes))
            our_times.append(timed(ours, data))
            decode_times.append(timed(decode_only, data, images.TARGET_LONG_SIDE))
        figures[name] = {
            "megapixels": round(width * height / 1e6, 1),
            "file_mb": round(len(data) / 2**20, 1),
            "naive_s": round(min(naive_times), 3),
            "ours_s": round(min(our_times), 3),
            "ratio": round(min(our_times) / min(naive_times), 3),
            "decode_only_ratio": round(min(decode_times) / min(naive_times), 3),
            "psnr_db": round(psnr(result.jpeg, naive_out), 1),
            "output": f"{result.width}x{result.height}",
            "peak_mb": peak_mb(data),
        }
        del data
    summary = {
        "ratio_24mp": figures["24mp"]["ratio"],
        "ratio_45mp": figures["45mp"]["ratio"],
        "peak_mb_45mp": figures["45mp"]["peak_mb"],
        "psnr_db": min(figures["24mp"]["psnr_db"], figures["45mp"]["psnr_db"]),
        "target_long_side": images.TARGET_LONG_SIDE,
        "details": figures,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        heads = ("MP", "file MB", "naive s", "ours s", "ratio", "decode", "PSNR dB", "peak MB")
        print(f"{'':6} " + " ".join(f"{head:>8}" for head in heads))
        for name, row in figures.items():
            print(
                f"{name:6} "
                + " ".join(
                    f"{row[k]:>8}"
                    for k in (
                        "megapixels",
                        "file_mb",
                        "naive_s",
                        "ours_s",
                        "ratio",
                        "decode_only_ratio",
                        "psnr_db",
                        "peak_mb",
                    )
                )
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
