"""SaveResultsFunction: the photo item and its bib items, replacing whatever an earlier run wrote;
a person's corrections on top (pipeline.corrections.records), and the reasons a person should look at the
photo (pipeline.corrections.review)."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.common.models import StepState
from pipeline.corrections import records as corrections
from pipeline.corrections import review
from pipeline.events.settings import result_fingerprint
from pipeline.handlers import step_photo
from pipeline.processing import links, results
from pipeline.retention import erasure

logger = Logger()
metrics = Metrics()
IMAGE_ATTRIBUTES = ("processedKey", "thumbnailKey", "width", "height", "bytes", "takenAt", "photographer")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: StepState, context) -> dict:
    photo = step_photo(event, logger)
    image, detections = event["image"], event["detections"]
    store = results.default_store()
    linked = links.attach_faces(detections["bibs"], detections["faces"], image["width"], image["height"])
    # a person's corrections of this content hold against every run; new content drops them
    record = store.table.corrections.get(photo.org_id, photo.event_id, photo.photo_id)
    correction = corrections.for_content(record, event["photo"]["etag"])
    linked = corrections.apply(linked, detections["faces"], correction)
    # an erased runner's face in a photo indexed later is dropped with its link (pipeline.retention.erasure)
    erased = erasure.erased_bibs(store.table.erasures.of_event(photo.org_id, photo.event_id))
    bibs, faces = erasure.unlink_erased_bibs(linked, detections["faces"], erased)
    faces_on = store.table.settings.faces_on(photo.org_id, photo.event_id)
    if not faces_on:  # turned off while this run indexed
        bibs, faces = [{k: v for k, v in bib.items() if k != "faceId"} for bib in bibs], []
    attributes = {name: image[name] for name in IMAGE_ATTRIBUTES if image.get(name) is not None}
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
            attributes["reviewKey"] = review.review_key(found, results.now_iso(), photo.photo_id)
    outcome = results.Outcome(
        status=results.INDEXED,
        attributes=attributes,
        bibs=bibs,
        faces=faces,
    )
    status = store.save(photo, event["photo"], event["executionName"], outcome)
    if status == results.INDEXED:
        metrics.add_metric(name="PhotosIndexed", unit=MetricUnit.Count, value=1)
        # face retention counts from the event's last upload (pipeline.retention.faces)
        store.table.registry.note_upload(photo.org_id, photo.event_id, results.now_iso())
    linked = sum(1 for bib in outcome.bibs if "faceId" in bib)
    logger.info(
        "Results saved",
        extra={"status": status, "bibs": len(outcome.bibs), "faces": len(outcome.faces), "linked": linked},
    )
    return {"status": status, "bibs": len(outcome.bibs), "faces": len(outcome.faces)}
