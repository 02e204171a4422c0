"""A person's corrections (corrections.records) and the review queue's reasons (corrections.review),
without AWS."""

from pipeline.corrections import records as corrections
from pipeline.corrections import review
from pipeline.store.corrections import review_key

FACE_A = {"faceId": "a", "box": {"left": 0.1, "top": 0.1, "width": 0.1, "height": 0.15}}
FACE_B = {"faceId": "b", "box": {"left": 0.6, "top": 0.1, "width": 0.1, "height": 0.15}}
AT = "2026-12-01T07:00:00+00:00"


def read(bib: str, confidence: float = 98.0, face: str | None = None) -> dict:
    found = {
        "bib": bib,
        "confidence": confidence,
        "box": {"left": 0.1, "top": 0.4, "width": 0.1, "height": 0.05},
    }
    return {**found, "faceId": face} if face else found


def test_a_correction_removes_adds_and_ties_the_added_bib_to_its_face_by_place():
    record, dropped = corrections.updated(
        None, "etag-1", add=["5101"], remove=["5104"], who="op", at=AT, boxes={"5101": FACE_B["box"]}
    )
    assert not dropped and record["reviewed"] == {"by": "op", "at": AT}
    # a later run of the same content finds the faces again, with new ids, in the same places
    again = [{"faceId": "a2", "box": FACE_A["box"]}, {"faceId": "b2", "box": FACE_B["box"]}]
    bibs = corrections.apply([read("5104", face="a2"), read("5103")], again, record)
    assert bibs == [
        read("5103"),
        {"bib": "5101", "confidence": 100.0, "box": {}, "corrected": "person", "faceId": "b2"},
    ]


def test_a_later_change_wins_and_new_content_starts_fresh():
    record, _ = corrections.updated(None, "etag-1", remove=["5104"], who="op", at=AT)
    record, _ = corrections.updated(record, "etag-1", add=["5104"], who="organiser", at=AT)
    assert record["removed"] == {} and set(record["added"]) == {"5104"} and len(record["history"]) == 2
    assert corrections.apply([read("5104")], [], record) == [{**read("5104"), "corrected": "person"}]
    fresh, dropped = corrections.updated(record, "etag-2", add=["7"], who="op", at=AT)
    assert dropped and set(fresh["added"]) == {"7"} and len(fresh["history"]) == 1
    assert (
        corrections.for_content(record, '"etag-1"') is record
        and corrections.for_content(record, "etag-2") is None
    )


def test_a_spread_bib_does_not_count_as_a_persons_review():
    record, _ = corrections.updated(None, "e", add=["5101"], who="op", at=AT, source="spread:p1")
    assert "reviewed" not in record and record["added"]["5101"]["source"] == "spread:p1"


def test_an_added_bib_without_a_face_in_that_place_stays_unlinked():
    record, _ = corrections.updated(None, "e", add=["5101"], who="op", at=AT, boxes={"5101": FACE_B["box"]})
    (added,) = corrections.apply([], [FACE_A], record)
    assert "faceId" not in added


def test_faces_are_numbered_left_to_right():
    item = {"faceIds": ["b", "a"], "faceBoxes": {"a": FACE_A["box"], "b": FACE_B["box"]}}
    assert [face["faceId"] for face in corrections.faces_of(item)] == ["a", "b"]


def test_the_reasons_a_person_should_look_and_their_order():
    doubtful = [{**read("510"), "doubt": "partial"}, {**read("7777"), "doubt": "outside-event"}]
    found = review.reasons([read("5101", 84.0, face="a")], doubtful, [FACE_A, FACE_B])
    assert [r["reason"] for r in found] == ["low-confidence", "outside-event", "partial", "face-without-bib"]
    assert review_key(review.rank(found), AT, "p1") == f"02#{AT}#p1"  # the queue's order: review.REASONS
    assert review.reasons([read("5101", face="a")], [], [FACE_A]) == []  # sure, and every face has its bib
    assert review.reasons([], [], [FACE_A]) == [{"reason": "faces-no-bib"}]
    two = review.reasons([read("1", face="a"), read("2", face="a")], [], [FACE_A])
    assert two == [{"reason": "two-bibs-one-face", "bib": "1,2"}]
    corrected = {**read("5101", 84.0, face="a"), "corrected": "person"}
    assert review.reasons([corrected], [], [FACE_A]) == []  # a person's read is not doubtful
    assert review.reasons([], [], [], reuploaded=True) == [{"reason": "reuploaded"}]
