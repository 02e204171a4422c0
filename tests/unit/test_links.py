"""Face-to-bib links by geometry: each runner's face to their own bib, never every face to every bib."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.processing import links
from pipeline.processing.links import link

ROOT = Path(__file__).resolve().parents[2]
RBNR = ROOT.parent / "shared" / "datasets" / "rbnr-set1"


def runner(centre_x: float, face_top: float = 0.2, face: float = 0.08, drop: float = 2.5, shift: float = 0.0):
    """A face box and the bib on the same runner's chest (normalised, square photo)."""
    face_box = {"left": centre_x - face / 2, "top": face_top, "width": face, "height": face}
    bib_width = face * 1.2
    bib_box = {
        "left": centre_x + shift * face - bib_width / 2,
        "top": face_top + face + drop * face,
        "width": bib_width,
        "height": face * 0.6,
    }
    return face_box, bib_box


def test_each_runner_in_a_group_photo_gets_their_own_bib():
    people = [runner(x) for x in (0.15, 0.3, 0.45, 0.6, 0.75)]
    faces = [face for face, _ in people]
    bibs = [bib for _, bib in reversed(people)]  # bibs in another order than faces
    links = link(faces, bibs)
    assert [(found.face, found.bib) for found in links] == [(0, 4), (1, 3), (2, 2), (3, 1), (4, 0)]


def test_a_bib_without_its_face_is_not_given_to_a_neighbour():
    (face_a, bib_a), (_, bib_b) = runner(0.3), runner(0.5)  # runner B turned away: no face
    links = link([face_a], [bib_b, bib_a])
    assert [(found.face, found.bib) for found in links] == [(0, 1)]
    assert link([face_a], [bib_b]) == []  # B's bib is 2.5 face widths away: nobody's


@pytest.mark.parametrize(
    "drop, shift, expected",
    [(2.5, 0.0, 1), (0.2, 0.0, 0), (7.0, 0.0, 0), (2.5, 2.0, 0), (-1.0, 0.0, 0)],
)
def test_implausible_placements_are_not_linked(drop, shift, expected):
    face, bib = runner(0.5, drop=drop, shift=shift)
    assert len(link([face], [bib])) == expected


def test_sizes_are_compared_in_one_unit_on_wide_photos():
    face = {"left": 0.45, "top": 0.2, "width": 0.05, "height": 0.08}  # square on a 16:10 photo
    bib = {"left": 0.44, "top": 0.45, "width": 0.07, "height": 0.06}
    assert len(link([face], [bib], aspect=1.6)) == 1
    huge = {"left": 0.3, "top": 0.45, "width": 0.4, "height": 0.3}
    assert link([face], [huge], aspect=1.6) == []


@pytest.mark.skipif(not RBNR.is_dir(), reason="../shared/datasets/rbnr-set1 is not on this machine")
@pytest.mark.skipif(
    importlib.util.find_spec("scipy") is None, reason="scipy (requirements-dev.txt) reads .mat"
)
def test_rbnr_set1_labelled_pairs_are_linked():
    result = subprocess.run(  # noqa: S603 - the benchmark, as the README runs it
        [sys.executable, str(ROOT / "bench" / "link_accuracy.py"), str(RBNR), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["pairs"] == 100
    assert measured["precision"] >= 0.97 and measured["recall"] >= 0.95


def test_a_bib_the_second_look_read_under_a_face_keeps_that_face():
    faces = [
        {"faceId": "left", "box": {"left": 0.30, "top": 0.10, "width": 0.08, "height": 0.10}},
        {"faceId": "right", "box": {"left": 0.42, "top": 0.10, "width": 0.08, "height": 0.10}},
    ]
    between = {"left": 0.37, "top": 0.45, "width": 0.06, "height": 0.05}  # plausible under either
    first_look = {"bib": "1234", "box": between}
    second_look = {"bib": "311", "box": between, "faceId": "left"}
    linked = links.attach_faces([first_look, second_look], faces, 1000, 1000)
    assert [bib.get("faceId") for bib in linked] == ["right", "left"]
    alone = links.attach_faces([first_look], faces, 1000, 1000)
    assert alone[0]["faceId"] in {"left", "right"}
