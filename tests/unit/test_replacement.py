"""The replacement decision (pipeline.processing.replacement) as a table: what each situation a run meets
must do to the table, the faces and the derived objects. No AWS: these are the rules the soak found."""

import pytest

from pipeline.common.keys import parse_raw_key
from pipeline.common.models import FAILED, INDEXED, SUPERSEDED
from pipeline.processing.replacement import Outcome, plan_removal, plan_save

PHOTO = parse_raw_key("acme/seoul/raw/IMG_0001.jpg")
SOURCE = {"etag": '"etag-2"', "versionId": "v2"}
NOW = "2026-12-01T05:00:00+00:00"
FIRST = "p-etag-1-0001A"  # execution names end in the event's sequencer: later sorts after
SECOND = "p-etag-2-0002B"
THIRD = "p-etag-2-0003C"
INDEXED_BEFORE = {
    "etag": "etag-1",
    "executionName": FIRST,
    "faceIds": ["old-1", "old-2"],
    "createdAt": "2026-11-30T08:00:00+00:00",
}


def indexed(*faces: str, bibs=("1234",)) -> Outcome:
    return Outcome(
        status=INDEXED,
        attributes={"width": 2048, "height": 1365},
        bibs=[{"bib": b, "confidence": 99.0, "box": {}} for b in bibs],
        faces=[{"faceId": f, "confidence": 99.9, "box": {}} for f in faces],
    )


CASES = {
    "first run of a new photo": dict(
        run=SECOND,
        outcome=indexed("new-1"),
        previous={},
        notes={SECOND: {"new-1"}},
        current=True,
        status=INDEXED,
        doomed=set(),
        faces=["new-1"],
        derived=False,
        forget=(SECOND,),
    ),
    "a re-upload replaces the old faces": dict(
        run=SECOND,
        outcome=indexed("new-1"),
        previous=INDEXED_BEFORE,
        notes={SECOND: {"new-1"}},
        current=True,
        status=INDEXED,
        doomed={"old-1", "old-2"},
        faces=["new-1"],
        derived=False,
        forget=(SECOND,),
    ),
    "a retried IndexFaces left faces the answer lost": dict(
        run=SECOND,
        outcome=indexed("new-2"),
        previous={},
        notes={SECOND: {"new-1", "new-2"}},
        current=True,
        status=INDEXED,
        doomed={"new-1"},
        faces=["new-2"],
        derived=False,
        forget=(SECOND,),
    ),
    "an earlier run died before its end": dict(
        run=SECOND,
        outcome=indexed("new-1"),
        previous={},
        notes={FIRST: {"dead-1"}, SECOND: {"new-1"}},
        current=True,
        status=INDEXED,
        doomed={"dead-1"},
        faces=["new-1"],
        derived=False,
        forget=(SECOND, FIRST),
    ),
    "a later run's note is not this run's to clear": dict(
        run=SECOND,
        outcome=indexed("new-1"),
        previous={},
        notes={SECOND: {"new-1"}, THIRD: {"later-1"}},
        current=True,
        status=INDEXED,
        doomed=set(),
        faces=["new-1"],
        derived=False,
        forget=(SECOND,),
    ),
    "a failure keeps no faces and no derived objects": dict(
        run=SECOND,
        outcome=Outcome(status=FAILED, attributes={"reason": "boom"}, faces=[{"faceId": "new-1", "box": {}}]),
        previous=INDEXED_BEFORE,
        notes={SECOND: {"new-1"}},
        current=True,
        status=FAILED,
        doomed={"old-1", "old-2", "new-1"},
        faces=[],
        derived=True,
        forget=(SECOND,),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_run_that_owns_the_photo(case):
    plan = plan_save(
        PHOTO,
        SOURCE,
        case["run"],
        case["outcome"],
        previous=case["previous"],
        notes=case["notes"],
        current=case["current"],
        now=NOW,
    )
    assert plan.status == case["status"]
    assert plan.delete_faces == plan.note_faces == case["doomed"]  # noted before the table is written
    assert plan.item["faceIds"] == case["faces"]
    assert plan.delete_derived is case["derived"]
    assert plan.forget_runs == case["forget"]
    assert plan.item["etag"] == "etag-2" and plan.item["executionName"] == case["run"]
    assert ("galleryKey" in plan.item) is (case["status"] == INDEXED)
    assert plan.item["createdAt"] == case["previous"].get("createdAt", NOW)


@pytest.mark.parametrize(
    ("previous", "current", "deleted"),
    [
        # a later event saved first; "kept-1" is in its result, so it stays
        ({"etag": "etag-2", "executionName": THIRD, "faceIds": ["kept-1"]}, True, {"new-1", "stray-1"}),
        # the upload was deleted or replaced since: all this run's faces go
        ({}, False, {"new-1", "kept-1", "stray-1"}),
    ],
    ids=["a later event's run saved first", "the upload is gone"],
)
def test_a_superseded_run_writes_nothing_and_removes_only_its_own_faces(previous, current, deleted):
    plan = plan_save(
        PHOTO,
        SOURCE,
        SECOND,
        indexed("new-1", "kept-1"),
        previous=previous,
        notes={SECOND: {"new-1", "stray-1"}},
        current=current,
        now=NOW,
    )
    assert plan.status == SUPERSEDED and plan.item is None and not plan.note_faces
    assert plan.delete_faces == deleted  # never the faces the stored result owns
    assert plan.forget_runs == (SECOND,) and not plan.delete_derived


def test_a_deletion_removes_the_items_every_noted_face_and_the_derived_objects():
    plan = plan_removal("p-deleted-0004D", previous=INDEXED_BEFORE, notes={FIRST: {"dead-1"}})
    assert plan.delete_item and plan.delete_derived
    assert plan.delete_faces == plan.note_faces == {"old-1", "old-2", "dead-1"}
    assert plan.forget_runs == (FIRST, "p-deleted-0004D")
