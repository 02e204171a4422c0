"""When an event's face data must go (pipeline.retention.faces): pure decisions, real dates."""

import datetime

import pytest

from pipeline.events.settings import EventSettings
from pipeline.retention.faces import due, to_sweep

NOW = datetime.datetime(2026, 12, 1, 5, 0, tzinfo=datetime.UTC)
UPLOADED = {"lastUploadAt": "2026-09-01T08:00:00+00:00"}


def test_faces_are_kept_90_days_from_the_last_upload_by_default():
    assert due(UPLOADED, EventSettings()) == datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC)
    assert to_sweep(UPLOADED, EventSettings(), NOW)
    assert not to_sweep(UPLOADED, EventSettings(face_retention_days=120), NOW)


def test_the_organisers_date_replaces_the_last_upload():
    settings = EventSettings(face_retention_days=30, retention_from="2026-11-15")
    assert due(UPLOADED, settings) == datetime.datetime(2026, 12, 15, tzinfo=datetime.UTC)
    assert not to_sweep(UPLOADED, settings, NOW)


@pytest.mark.parametrize(
    ("item", "swept"),
    [
        ({**UPLOADED, "facesDeletedAt": "2026-11-30T09:00:00+00:00"}, False),  # swept already
        # an upload after the sweep indexed faces again: past their retention too, they go
        ({"lastUploadAt": "2026-11-30T10:00:00+00:00", "facesDeletedAt": "2026-11-30T09:00:00+00:00"}, True),
        ({}, False),  # never an indexed upload
    ],
)
def test_an_event_is_swept_once_per_upload_and_only_with_uploads(item, swept):
    assert to_sweep(item, EventSettings(face_retention_days=0), NOW) is swept


def test_an_event_without_face_search_has_nothing_to_keep():
    assert due(UPLOADED, EventSettings(faces=False)) is None


@pytest.mark.parametrize(
    ("item", "swept"),
    [
        (UPLOADED, True),  # turned off before the off was noted: its links may be left, cleared once
        ({**UPLOADED, "facesOffAt": "2026-11-01T00:00:00+00:00"}, True),  # its scrub never finished
        (
            {
                **UPLOADED,
                "facesOffAt": "2026-11-01T00:00:00+00:00",
                "facesDeletedAt": "2026-11-01T00:05:00+00:00",
            },
            False,
        ),
        # on again, then off again: the new faces' links go too
        (
            {
                **UPLOADED,
                "facesOffAt": "2026-11-20T00:00:00+00:00",
                "facesDeletedAt": "2026-11-01T00:05:00+00:00",
            },
            True,
        ),
        ({**UPLOADED, "facesDeletedAt": "2026-11-01T00:05:00+00:00"}, False),  # cleared; nothing new indexed
    ],
)
def test_an_event_with_face_search_off_is_swept_until_its_scrub_finished(item, swept):
    """Turning face search off deletes the collection and starts a scrub; the sweep finishes one
    that stopped (its job's pages went to the DLQ), whatever the event's retention."""
    assert to_sweep(item, EventSettings(faces=False, face_retention_days=9999), NOW) is swept
