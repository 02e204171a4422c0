"""A person's correction written to moto's table (pipeline.corrections.records): one transaction, and a
run writing the same photo in between makes it read again, not record the change twice."""

import boto3
from conftest import REGION, TABLE

from pipeline.corrections.records import Corrector
from pipeline.store import Store

ORG, EVENT, PHOTO = "acme", "seoul-2026", "0123456789abcdef01234567"


def indexed(table: Store, execution: str) -> None:
    item = {
        "orgId": ORG,
        "eventId": EVENT,
        "photoId": PHOTO,
        "etag": "e1",
        "status": "INDEXED",
        "executionName": execution,
        "bibs": ["5104"],
        "faceIds": ["f1"],
        "faceBoxes": {"f1": {"left": 0.4, "top": 0.1, "width": 0.1, "height": 0.15}},
    }
    reads = [{"bib": "5104", "confidence": 84.0, "box": {}, "faceId": "f1"}]
    table.photos.replace(item, reads, table.photos.get(ORG, EVENT, PHOTO))


def test_a_run_in_between_makes_the_correction_read_again_and_record_once(aws):
    table = Store(boto3.resource("dynamodb", region_name=REGION).Table(TABLE))
    indexed(table, "run-1")
    write = table.corrections.write_corrected
    calls = []

    def a_run_lands_first(item, bibs, reviewed):
        calls.append(item["executionName"])
        if len(calls) == 1:
            indexed(table, "run-2")  # the photo is written again between the read and the write
        return write(item, bibs, reviewed)

    table.corrections.write_corrected = a_run_lands_first
    result = Corrector(table, None, "snaprace-test", lambda: "2026-12-01T08:00:00+00:00").tag(
        ORG, EVENT, PHOTO, add=["5101"], remove=["5104"], who="op"
    )
    assert calls == ["run-1", "run-2"]  # the first write was refused by its condition
    assert result.bibs == ["5101"] and result.linked == "5101"
    assert table.photos.get(ORG, EVENT, PHOTO)["bibs"] == ["5101"]
    assert [r["bib"] for r in table.bibs.of_photo(ORG, EVENT, PHOTO, ["5101", "5104"])] == ["5101"]
    assert len(table.corrections.get(ORG, EVENT, PHOTO)["history"]) == 1
