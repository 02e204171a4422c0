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
    assert len(table.core.event_items("acme", "seoul")) == 1
    assert recording.reads == [True, True, True]

    recording.reads.clear()
    assert table.bibs.photos_with("acme", "seoul", "1234") == []
    assert recording.reads == [False]  # a runner's search may lag a write by a moment; half the cost
