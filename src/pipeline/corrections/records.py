"""A person's corrections of a photo's bibs, applied on top of every run.

A correction is its own record (CORRECTION#{photoId} in the event, pipeline.store): the photo
content it is for (ETag), the bibs added and removed (each with who and when, and for an added bib
the box of the face it belongs to), whether a person reviewed the photo, and the history of every
change. SaveResults applies the record to each run's reads (`apply`), so a `reprocess`, a retried
step or a duplicate event never undoes it; a re-upload of new content under the same key is a new
photo: the record is left behind and the photo comes back to the review queue, "reuploaded".

Face ids change with every run, so an added bib is tied to its face by the face's box (the same
face found again in the same content overlaps it, as in pipeline.retention.erasure). `Corrector` is the
one implementation of `snaprace tag` and the organiser API's correction route.
"""

from dataclasses import dataclass, field
from typing import cast

from pipeline.common import rekognition
from pipeline.common.geometry import from_rekognition, iou
from pipeline.common.keys import collection_id, normalise_etag
from pipeline.common.models import INDEXED, BibRead
from pipeline.processing.bibs import searched_bib
from pipeline.processing.links import LINKED_FACE_THRESHOLD
from pipeline.retention.erasure import MATCH_OVERLAP

PERSON_CONFIDENCE = 100.0  # what a corrected bib's read is worth
MAX_BIBS_PER_CORRECTION = 20


class CorrectionError(ValueError):
    """A correction that cannot be made, with what to do instead."""


def updated(
    record: dict | None,
    etag: str,
    *,
    add=(),
    remove=(),
    confirm=False,
    who: str,
    at: str,
    source: str = "person",
    boxes: dict | None = None,
) -> tuple[dict, bool]:
    """(the record after this change, whether an earlier record was dropped: new content). A later
    change wins over an earlier one: adding a removed bib takes it off the removed list. A person's
    change marks the photo reviewed (it leaves the queue); a bib spread from another photo does not."""
    fresh = not record or record.get("etag") != etag
    dropped = bool(record) and fresh
    record = (
        {"etag": etag, "added": {}, "removed": {}, "history": []} if fresh or not record else dict(record)
    )
    added, removed = dict(record.get("added", {})), dict(record.get("removed", {}))
    for bib in add:
        removed.pop(bib, None)
        added[bib] = {"by": who, "at": at, "source": source}
        if boxes and boxes.get(bib):
            added[bib]["box"] = boxes[bib]
    for bib in remove:
        added.pop(bib, None)
        removed[bib] = {"by": who, "at": at}
    record.update(added=added, removed=removed)
    if source == "person":
        record["reviewed"] = {"by": who, "at": at}
    change = {
        "at": at,
        "by": who,
        "add": list(add),
        "remove": list(remove),
        "confirm": confirm,
        "source": source,
    }
    record["history"] = [*record.get("history", []), change]
    return record, dropped


def for_content(record: dict | None, etag: str) -> dict | None:
    """The record if it is for this content; None when there is none or the key holds new content."""
    return record if record and record.get("etag") == normalise_etag(etag) else None


def apply(bibs: list[BibRead], faces: list[dict], record: dict | None) -> list[BibRead]:
    """The reads with a correction on top: removed bibs gone, added bibs there (`corrected`, linked
    to the face where its box was). A bib a person added that the run also read keeps its read,
    marked corrected. `faces`: {"faceId", "box"} of this content."""
    if not record:
        return bibs
    removed, added = set(record.get("removed", {})), record.get("added", {})
    result: list[BibRead] = []
    for read in bibs:
        if read["bib"] in removed:
            continue
        result.append({**read, "corrected": added[read["bib"]]["source"]} if read["bib"] in added else read)
    present = {read["bib"] for read in result}
    for bib, how in sorted(added.items()):
        if bib in present:
            continue
        read = {"bib": bib, "confidence": PERSON_CONFIDENCE, "box": {}, "corrected": how["source"]}
        face = _face_at(faces, how.get("box"))
        if face:
            read["faceId"] = face
        result.append(read)
    return result


def _face_at(faces: list[dict], box: dict | None) -> str | None:
    if not box:
        return None
    best = max(faces, key=lambda face: iou(face["box"], box), default=None)
    return best["faceId"] if best and iou(best["box"], box) >= MATCH_OVERLAP else None


def faces_of(item: dict) -> list[dict]:
    """The photo's faces as {"faceId", "box"}, left to right (`--face N` counts from 1)."""
    boxes = item.get("faceBoxes") or {}
    faces = [
        {"faceId": face_id, "box": boxes[face_id]} for face_id in item.get("faceIds", []) if face_id in boxes
    ]
    return sorted(faces, key=lambda face: float(face["box"]["left"]))


@dataclass
class TagResult:
    photo_id: str
    bibs: list[str]
    linked: str | None = None  # the bib linked to a face by this correction
    dropped: bool = False  # an earlier record was for other content
    spread: list[dict] = field(default_factory=list)  # {"photoId", "bib", "similarity"}

    def as_dict(self) -> dict:
        return {
            "photoId": self.photo_id,
            "bibs": self.bibs,
            "linkedToFace": self.linked,
            "earlierCorrectionsDropped": self.dropped,
            "spread": self.spread,
        }


def parse_bibs(values) -> list[str]:
    bibs = []
    for value in values or ():
        try:
            bibs.append(searched_bib(str(value)))
        except ValueError as exc:
            raise CorrectionError(str(exc)) from None
    if len(bibs) > MAX_BIBS_PER_CORRECTION:
        raise CorrectionError(f"at most {MAX_BIBS_PER_CORRECTION} bibs in one correction")
    return list(dict.fromkeys(bibs))


class Corrector:
    """Corrections made now: the record first, then the photo's items (one transaction, only if no
    run wrote the photo in between; a run that did has applied the record itself)."""

    ATTEMPTS = 3

    def __init__(self, table, rekognition_client, collection_prefix: str, now):
        self.table, self.rekognition, self.collection_prefix, self.now = (
            table,
            rekognition_client,
            collection_prefix,
            now,
        )

    def tag(
        self,
        org_id: str,
        event_id: str,
        photo_id: str,
        *,
        add=(),
        remove=(),
        confirm: bool = False,
        face: int | None = None,
        spread: bool = False,
        who: str,
    ) -> TagResult:
        add, remove = parse_bibs(add), parse_bibs(remove)
        if set(add) & set(remove):
            raise CorrectionError(
                f"a bib cannot be added and removed at once: {sorted(set(add) & set(remove))}"
            )
        if not (add or remove or confirm):
            raise CorrectionError("say what to change: --add BIB, --remove BIB, or --confirm")
        if (spread or face is not None) and len(add) != 1:
            raise CorrectionError(
                "--face and --spread need exactly one --add BIB: the runner whose face it is"
            )
        result = self._correct(org_id, event_id, photo_id, add, remove, confirm, face, who, "person", None)
        if spread:
            result.spread = self._spread(org_id, event_id, photo_id, add[0], result.linked, who)
        return result

    def _correct(self, org_id, event_id, photo_id, add, remove, confirm, face, who, source, box) -> TagResult:
        """Record the change once, then write the photo's items from it; when a run wrote the photo
        in between (the transaction's condition), read the photo again and write again."""
        item = self._indexed_photo(org_id, event_id, photo_id)
        reads = self.table.bibs.of_photo(org_id, event_id, photo_id, item.get("bibs", []))
        if len(add) == 1 and box is None:
            box = self._face_box(faces_of(item), [r for r in reads if r["bib"] not in remove], face)
        boxes = {add[0]: box} if len(add) == 1 and box is not None else {}
        record, dropped = updated(
            self.table.corrections.get(org_id, event_id, photo_id),
            item["etag"],
            add=add,
            remove=remove,
            confirm=confirm,
            who=who,
            at=self.now(),
            source=source,
            boxes=boxes,
        )
        self.table.corrections.put(org_id, event_id, photo_id, record)
        reviewed = record.get("reviewed") if source == "person" else None
        for _ in range(self.ATTEMPTS):
            machine_reads = [cast(BibRead, {k: v for k, v in r.items() if k != "corrected"}) for r in reads]
            bibs = apply(machine_reads, faces_of(item), record)
            if self.table.corrections.write_corrected(item, bibs, reviewed):
                linked = next((b["bib"] for b in bibs if b["bib"] in boxes and b.get("faceId")), None)
                return TagResult(photo_id, [b["bib"] for b in bibs], linked, dropped)
            item = self._indexed_photo(org_id, event_id, photo_id)
            reads = self.table.bibs.of_photo(org_id, event_id, photo_id, item.get("bibs", []))
        raise CorrectionError(
            f"photo {photo_id} is being processed again right now: the correction is recorded and its "
            "next run applies it; try again in a minute to see it"
        )

    def _indexed_photo(self, org_id: str, event_id: str, photo_id: str) -> dict:
        item = self.table.photos.get(org_id, event_id, photo_id)
        if not item:
            raise CorrectionError(f"no photo {photo_id} in {org_id}/{event_id} (see `snaprace photos`)")
        if item.get("status") != INDEXED:
            raise CorrectionError(
                f"photo {photo_id} is {item.get('status')} ({item.get('reason', 'not indexed')}): "
                "only an indexed photo has reads to correct"
            )
        return item

    def _face_box(self, faces: list[dict], reads: list[dict], face: int | None) -> dict | None:
        """The box of the face an added bib belongs to: `face` (1 = leftmost), else the photo's one
        face no remaining read is linked to; None when that is not clear (the bib is added without
        a face)."""
        if face is not None:
            if not 1 <= face <= len(faces):
                raise CorrectionError(f"--face {face}: the photo has {len(faces)} faces (1 = leftmost)")
            return faces[face - 1]["box"]
        linked = {read.get("faceId") for read in reads}
        unlinked = [f for f in faces if f["faceId"] not in linked]
        return unlinked[0]["box"] if len(unlinked) == 1 else None

    def _spread(self, org_id, event_id, photo_id, bib, linked, who) -> list[dict]:
        """The bib added to the other photos where its face appears (SearchFaces at the linked-face
        threshold), each a correction of its own ("spread from" this photo)."""
        if linked is None:
            raise CorrectionError(
                f"bib {bib} was added, but not to a face, so it cannot spread: give --face N "
                "(1 = leftmost face) when the photo shows several runners"
            )
        face_id = next(
            read["faceId"]
            for read in self.table.bibs.of_photo(org_id, event_id, photo_id, [bib])
            if read.get("faceId")
        )
        collection = collection_id(self.collection_prefix, org_id, event_id)
        response = rekognition.search_faces(self.rekognition, collection, face_id, LINKED_FACE_THRESHOLD)
        seen: dict[str, dict] = {}
        for match in response.get("FaceMatches", []):
            other = match["Face"].get("ExternalImageId")
            if (
                other
                and other != photo_id
                and float(match["Similarity"]) > seen.get(other, {}).get("similarity", 0)
            ):
                seen[other] = {
                    "similarity": float(match["Similarity"]),
                    "box": from_rekognition(match["Face"]["BoundingBox"]),
                }
        changed = []
        for other, found in sorted(seen.items()):
            item = self.table.photos.get(org_id, event_id, other)
            if not item or item.get("status") != INDEXED or bib in item.get("bibs", []):
                continue
            self._correct(
                org_id, event_id, other, [bib], [], False, None, who, f"spread:{photo_id}", found["box"]
            )
            changed.append({"photoId": other, "bib": bib, "similarity": round(found["similarity"], 2)})
        return changed
