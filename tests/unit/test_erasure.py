"""Which faces a later run drops for an erasure (pipeline.retention.erasure): pure rules, real box shapes."""

import pytest

from pipeline.common.geometry import iou
from pipeline.retention import erasure

LEFT_RUNNER = {"left": 0.20, "top": 0.10, "width": 0.08, "height": 0.12}
RIGHT_RUNNER = {"left": 0.60, "top": 0.12, "width": 0.07, "height": 0.11}
RECORD = erasure.record(
    ["761"],
    {
        "p1": erasure.ErasedPhoto("etag-1", (LEFT_RUNNER,)),
        "p2": erasure.ErasedPhoto("etag-2", (RIGHT_RUNNER,)),
    },
)


def test_the_record_keeps_bibs_and_positions_only():
    assert RECORD == {
        "bibs": ["761"],
        "photos": {
            "p1": {"etag": "etag-1", "boxes": [LEFT_RUNNER]},
            "p2": {"etag": "etag-2", "boxes": [RIGHT_RUNNER]},
        },
        "faces": 2,
    }


@pytest.mark.parametrize(
    ("photo_id", "etag", "expected"),
    [("p1", "etag-1", [LEFT_RUNNER]), ("p1", "etag-new", []), ("p3", "etag-1", [])],
)
def test_erased_boxes_apply_to_the_same_content_only(photo_id, etag, expected):
    assert erasure.erased_boxes([RECORD], photo_id, etag) == expected


def test_a_face_found_again_where_an_erased_face_was_is_dropped_and_a_neighbour_is_not():
    again = {"left": 0.205, "top": 0.102, "width": 0.079, "height": 0.118}  # re-detected, a little off
    faces = [{"faceId": "f-again", "box": again}, {"faceId": "f-other", "box": RIGHT_RUNNER}]
    assert erasure.faces_where_erased(faces, [LEFT_RUNNER]) == {"f-again"}
    assert iou(LEFT_RUNNER, LEFT_RUNNER) == pytest.approx(1.0)
    assert iou(LEFT_RUNNER, RIGHT_RUNNER) == 0.0


def test_a_face_linked_to_an_erased_bib_loses_its_link_and_the_read_stays():
    bibs = [
        {"bib": "761", "confidence": 99.0, "box": {}, "faceId": "f1"},
        {"bib": "762", "confidence": 98.0, "box": {}, "faceId": "f2"},
        {"bib": "763", "confidence": 97.0, "box": {}},
    ]
    faces = [{"faceId": "f1", "box": LEFT_RUNNER}, {"faceId": "f2", "box": RIGHT_RUNNER}]
    kept_bibs, kept_faces = erasure.unlink_erased_bibs(bibs, faces, erasure.erased_bibs([RECORD]))
    assert kept_bibs == [
        {"bib": "761", "confidence": 99.0, "box": {}},
        {"bib": "762", "confidence": 98.0, "box": {}, "faceId": "f2"},
        {"bib": "763", "confidence": 97.0, "box": {}},
    ]
    assert kept_faces == [{"faceId": "f2", "box": RIGHT_RUNNER}]
