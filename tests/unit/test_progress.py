"""An event's progress (pipeline.events.progress): what the organiser's page and `audit` count."""

from pipeline.common import keys
from pipeline.events.progress import summary


def item(raw_key: str, status: str, etag: str, reason: str | None = None) -> dict:
    found = {"photoId": keys.photo_id_for(raw_key), "status": status, "etag": etag}
    return {**found, "reason": reason} if reason else found


def test_each_upload_counts_once_by_the_status_of_its_current_content():
    objects = {
        "acme/race/raw/a.jpg": "e1",
        "acme/race/raw/b.jpg": "e2",
        "acme/race/raw/c.txt": "e3",
        "acme/race/raw/d.jpg": "e4-new",  # uploaded again: the old result does not count
        "acme/race/raw/e.jpg": "e5",  # no result yet
        "raw/acme/race/f.jpg": "e6",  # the other layout
    }
    items = [
        item("acme/race/raw/a.jpg", "INDEXED", "e1"),
        item("acme/race/raw/b.jpg", "REJECTED", "e2", "not an image"),
        item("acme/race/raw/c.txt", "REJECTED", "e3", "not an image"),
        item("acme/race/raw/d.jpg", "INDEXED", "e4-old"),
        item("raw/acme/race/f.jpg", "FAILED", "e6"),
    ]
    assert summary(objects, items) == {
        "raw": 6,
        "indexed": 1,
        "rejected": 2,
        "failed": 1,
        "inFlight": 2,
        "rejectedReasons": {"not an image": 2},
    }
