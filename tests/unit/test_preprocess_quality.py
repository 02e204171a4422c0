"""The preprocessing shortcuts (draft decoding, bicubic, rotating after resizing) keep the output
close to a full-quality naive pipeline: same size and orientation, PSNR >= 38 dB. Speed is
bench/preprocess.py's business; this checks the quality side on a photo made the same way."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "preprocess.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_preprocess", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("orientation", [1, 6, 8, 3])
def test_fast_preprocessing_matches_the_naive_output(bench, orientation):
    data = bench.camera_like(3000, 2000, orientation)  # draft decoding at 1/2 scale, then 2048 px
    reference, _ = bench.naive(data, 2048, 400, 88)
    ours = bench.ours(data)
    assert (ours.width, ours.height) == ((2048, 1365) if orientation in (1, 3) else (1365, 2048))
    assert bench.psnr(ours.jpeg, reference) >= 38.0
