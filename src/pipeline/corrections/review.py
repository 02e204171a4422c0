"""The review queue: photos whose reads a person should look at, each with its reasons.

SaveResults works the reasons out from what its run found (pure: `reasons`) and stores them on the
photo item with a `reviewKey`, the sort key of the sparse ReviewIndex (pipeline.store.corrections), so an
event's queue is one Query, most useful first. A person's correction or confirmation
(pipeline.corrections.records) takes the photo out of the queue for that content; a re-upload of new
content comes back with reason "reuploaded".

REASONS lists the reasons in the queue's order, most useful first.
"""

from pipeline.common.keys import file_name_of
from pipeline.common.models import BibRead

REVIEW_CONFIDENCE = 90.0  # reads below this are doubtful (the bib rules accept from 80)
# code -> what a person reads. The order is the queue's: by the share of flagged photos that held
# a reading error on RBNR set 1 (bench/review_queue.py, docs/accuracy.md). A runner's face over no
# bib at all was a missed bib every time; a face without a bib beside readable ones is mostly a
# runner further back whose bib no one could read, so it comes last.
REASONS = {
    "faces-no-bib": "faces, and no bib read",
    "reuploaded": "new content under the same name: earlier corrections were dropped",
    "low-confidence": f"a read below {REVIEW_CONFIDENCE:.0f}% confidence",
    "outside-event": "a number outside the event's bib range or participant list",
    "partial": "a number that is the start or end of a participant's bib (half hidden?)",
    "two-bibs-one-face": "two bibs linked to one face",
    "face-without-bib": "a runner's face with no bib linked, in a photo with readable bibs",
}


def reasons(
    bibs: list[BibRead], doubtful: list[dict], faces: list[dict], reuploaded: bool = False
) -> list[dict]:
    """Why a person should look at a photo: [{"reason", "bib"?}], most useful first; [] when the
    reads look sure. `bibs` are the photo's reads after corrections (a face link as `faceId`),
    `doubtful` the numbers the event refused (pipeline.processing.bibs.doubtful_reads), `faces` this run's."""
    found: list[dict] = [{"reason": read["doubt"], "bib": read["bib"]} for read in doubtful]
    by_face: dict[str, list[str]] = {}
    for read in bibs:
        if read.get("faceId"):
            by_face.setdefault(read["faceId"], []).append(read["bib"])
    found += [
        {"reason": "two-bibs-one-face", "bib": ",".join(sorted(b))} for b in by_face.values() if len(b) > 1
    ]
    found += [
        {"reason": "low-confidence", "bib": read["bib"]}
        for read in bibs
        if not read.get("corrected") and float(read.get("confidence", 0)) < REVIEW_CONFIDENCE
    ]
    unlinked = [face for face in faces if face["faceId"] not in by_face]
    if unlinked and bibs:
        found.append({"reason": "face-without-bib"})
    if faces and not bibs:
        found.append({"reason": "faces-no-bib"})
    if reuploaded:
        found.append({"reason": "reuploaded"})
    order = list(REASONS)
    return sorted(found, key=lambda reason: order.index(reason["reason"]))


def rank(found: list[dict]) -> int:
    """Where a photo with these reasons (most useful first) goes in the queue: its first reason's
    place in REASONS (pipeline.store.corrections.review_key puts it in the ReviewIndex's key)."""
    return list(REASONS).index(found[0]["reason"])


def describe(found: list[dict]) -> list[str]:
    return [REASONS[r["reason"]] + (f": {r['bib']}" if r.get("bib") else "") for r in found]


def entry(item: dict) -> dict:
    """A queued photo as the CLI and the organiser API show it (no face ids)."""
    found = item.get("review", [])
    return {
        "photoId": item["photoId"],
        "name": file_name_of(item.get("rawKey", "")),
        "bibs": list(item.get("bibs", [])),
        "reasons": [{k: v for k, v in reason.items()} for reason in found],
        "why": describe(found),
    }
