"""What SaveResults decides: a run's reads become the photo's results.

In order: the faces are linked to the bibs they wear (pipeline.processing.links); a person's
corrections of this content are applied on top (they hold against every run; new content drops
them, pipeline.corrections.records); an erased runner's face found again is dropped with its link
(pipeline.retention.erasure); faces turned off while the run indexed are left out; the reasons a
person should look at the photo are worked out (pipeline.corrections.review). Then the results
replace whatever an earlier run wrote (pipeline.processing.results), and the event's last upload
is noted: face retention counts from it (pipeline.retention.faces).
"""

from dataclasses import dataclass
from typing import cast

from pipeline.common.keys import RawPhoto
from pipeline.common.models import INDEXED, BibRead, StepState
from pipeline.corrections import records as corrections
from pipeline.corrections import review
from pipeline.events.settings import result_fingerprint
from pipeline.processing import links, results
from pipeline.retention import erasure
from pipeline.store import Store
from pipeline.store.corrections import review_key

IMAGE_ATTRIBUTES = ("processedKey", "thumbnailKey", "width", "height", "bytes", "takenAt", "photographer")


@dataclass(frozen=True)
class Saved:
    status: str
    bibs: int
    faces: int
    linked: int


def save_run(store: Store, photo: RawPhoto, state: StepState, now: str | None = None) -> Saved:
    """The run's results saved (or SUPERSEDED when the upload changed since): what was stored."""
    image, detections = state["image"], state["detections"]
    now = now or results.now_iso()
    ids = (photo.org_id, photo.event_id)
    # what people decided, read consistently: a correction, an erasure or faces off hold at once
    record = store.corrections.get(*ids, photo.photo_id)
    erasures = store.erasures.of_event(*ids)
    faces_on = store.settings.faces_on(*ids)

    linked = links.attach_faces(detections["bibs"], detections["faces"], image["width"], image["height"])
    correction = corrections.for_content(record, state["photo"]["etag"])
    linked = corrections.apply(linked, detections["faces"], correction)
    bibs, faces = erasure.unlink_erased_bibs(linked, detections["faces"], erasure.erased_bibs(erasures))
    if not faces_on:  # turned off while this run indexed
        bibs, faces = [cast(BibRead, {k: v for k, v in bib.items() if k != "faceId"}) for bib in bibs], []
    attributes = {name: image[name] for name in IMAGE_ATTRIBUTES if image.get(name) is not None}
    # what a re-run of this content uses instead of calling IndexFaces again (pipeline.processing.faces)
    attributes["facesIndexed"] = bool(detections.get("facesIndexed")) and faces_on
    attributes["otherFaceBoxes"] = [o["box"] for o in detections.get("otherFaces", []) if not o.get("erased")]
    fingerprint = result_fingerprint(detections.get("settings"), faces_on)
    if fingerprint:  # an identical re-upload under the same settings keeps this result (StartProcessing)
        attributes["settingsFingerprint"] = fingerprint
    if correction and correction.get("reviewed"):
        attributes["reviewed"] = correction["reviewed"]  # a person looked at this content
    else:
        reuploaded = record is not None and correction is None
        found = review.reasons(bibs, detections.get("doubtful", []), faces, reuploaded)
        if found:
            attributes["review"] = found
            attributes["reviewKey"] = review_key(review.rank(found), now, photo.photo_id)

    outcome = results.Outcome(status=INDEXED, attributes=attributes, bibs=bibs, faces=faces)
    status = results.default_store(store).save(photo, state["photo"], state["executionName"], outcome, now)
    if status == INDEXED:
        store.registry.note_upload(*ids, now)
    return Saved(status, len(bibs), len(faces), sum(1 for bib in bibs if "faceId" in bib))
