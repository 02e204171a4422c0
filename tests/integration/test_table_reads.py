"""Reads of what a run has just written are strongly consistent: DynamoDB's default Query is
eventually consistent, so a retried IndexFaces's run end could miss the note of faces its first
attempt indexed and leave them in the collection with no photo (moto is always consistent, so the
request itself is what is checked here)."""

import boto3

from pipeline.store import Store

TABLE = "PhotoService-test"


class RecordingTable:
    """The moto table, remembering each Query's ConsistentRead."""

    def __init__(self, table):
        self._table, self.reads = table, []

    def query(self, **kwargs):
        self.reads.append(kwargs.get("ConsistentRead", False))
        return self._table.query(**kwargs)

    def __getattr__(self, name):
        return getattr(self._table, name)


def test_run_notes_and_event_purges_read_consistently_and_searches_do_not(aws):
    recording = RecordingTable(boto3.resource("dynamodb", region_name="ap-northeast-2").Table(TABLE))
    table = Store(recording)
    table.runs.record_faces("acme", "seoul", "p1", "run-1", ["face-a", "face-b"])

    assert table.runs.of_photo("acme", "seoul", "p1") == {"run-1": {"face-a", "face-b"}}
    assert table.runs.photos_in_flight("acme", "seoul") == {"p1"}
    assert len(table.core.event_keys("acme", "seoul", 1000)) == 1  # a purge page's read
    assert recording.reads == [True, True, True]

    recording.reads.clear()
    assert table.bibs.photos_with("acme", "seoul", "1234") == []
    assert recording.reads == [False]  # a runner's search may lag a write by a moment; half the cost


def test_a_40000_bib_participant_list_stays_out_of_the_flags_every_photo_reads(aws):
    """DynamoDB charges a read by the item's size: the flags IndexFaces, SaveResults, the starter and
    every public request read stay small; the list is read only where it is used."""
    from pipeline.events.changes import change_settings
    from pipeline.events.settings import EventSettings

    table = Store(boto3.resource("dynamodb", region_name="ap-northeast-2").Table(TABLE))
    bibs = frozenset(str(n) for n in range(10_000, 50_000))
    change_settings(
        table, None, "snaprace-test", None, "acme", "seoul", {"participants": bibs, "published": True}
    )

    flags = table.settings.get("acme", "seoul", consistent=True)
    assert len(repr(flags)) < 1_000 and flags["participantCount"] == 40_000
    read_by_every_photo = EventSettings.from_item(flags)
    assert read_by_every_photo.participants is None
    assert read_by_every_photo.summary()["participants"] == 40_000
    full = EventSettings.from_item(table.settings.get("acme", "seoul", participants=True))
    assert full.participants == bibs
    # the starter's "already processed" check compares fingerprints from the flags alone
    assert read_by_every_photo.reads_fingerprint() == full.reads_fingerprint()
    with_other_list = EventSettings(participants=bibs - {"10000"})
    assert with_other_list.reads_fingerprint() != full.reads_fingerprint()

    # a change that keeps the list (publishing) keeps it; clearing the bibs deletes its item
    change_settings(table, None, "snaprace-test", None, "acme", "seoul", {"published": False})
    kept = EventSettings.from_item(table.settings.get("acme", "seoul", participants=True))
    assert kept.participants == bibs
    change_settings(table, None, "snaprace-test", None, "acme", "seoul", {}, clear_bibs=True)
    assert (table.settings.get("acme", "seoul", participants=True) or {}).get("participantCount") is None
    assert table.core.get({"PK": "ORG#acme#EVT#seoul", "SK": "PARTICIPANTS"}) is None
    with_flags_only = EventSettings.from_item({"participantCount": 3, "participantsDigest": "x"})
    try:
        with_flags_only.to_item()
    except ValueError:
        pass
    else:
        raise AssertionError("settings without their list were written back")
