"""SecondLookFunction: the photo's bibs looked at again with its faces (pipeline.processing.second_look):
numbers no one wears dropped, the torsos of runners left without a bib read again in one
DetectText call, a partial read resolved by its runner's face. Returns the photo's bibs."""

from io import BytesIO

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError
from PIL import Image

from pipeline.common import clients, rekognition
from pipeline.common.config import get_config
from pipeline.common.keys import collection_id
from pipeline.common.models import StepState
from pipeline.handlers import step_photo
from pipeline.handlers.detect_text import bib_rules, event_settings
from pipeline.processing import images, links, second_look
from pipeline.store import Store

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: StepState, context) -> list[dict]:
    photo = step_photo(event, logger)
    image, found = event["image"], event["detections"]
    everyone, aspect = found["faces"] + found.get("otherFaces", []), image["width"] / image["height"]
    first = second_look.worn(found["bibs"], everyone, aspect)
    faces = second_look.faces_without_bib(first, everyone, image["width"], image["height"])
    rules, added, words = bib_rules(), [], 0
    if faces:
        settings = event_settings(photo.org_id, photo.event_id)
        rules = rules.for_event(settings.bib_range, settings.participants)
        layout = second_look.sheet(best_image(event, faces), faces)
        detections = rekognition.detect_text(clients.rekognition(), {"Bytes": layout.jpeg})
        added = second_look.reads(second_look.in_photo(detections, layout), first, rules, aspect)
        words = len(detections)
    table = Store(clients.dynamodb_table(get_config().table_name))
    bibs = second_look.same_runners_bibs(
        first + added,
        found["faces"],
        (image["width"], image["height"]),
        lambda bib: table.bibs.longer(photo.org_id, photo.event_id, bib),
        lambda face_id: same_runner(photo, face_id),
        photo.photo_id,
        rules.max_length,
    )
    metrics.add_metric(name="SecondLookBibs", unit=MetricUnit.Count, value=len(added))
    logger.info(
        "Second look",
        extra={
            "notWorn": len(found["bibs"]) - len(first),
            "torsos": len(faces),
            "words": words,
            "bibs": len(added),
            "resolvedByFace": sum("read" in bib for bib in bibs)
            - sum("read" in bib for bib in first + added),
        },
    )
    return bibs


def same_runner(photo, face_id: str) -> set[str]:
    """The event's faces like this one (the same runner), by SearchFaces at the linked faces'
    threshold; none when the face or the collection is gone."""
    config, client = get_config(), clients.rekognition()
    collection = collection_id(config.collection_prefix, photo.org_id, photo.event_id)
    try:
        response = rekognition.search_faces(client, collection, face_id, links.LINKED_FACE_THRESHOLD)
    except (client.exceptions.ResourceNotFoundException, client.exceptions.InvalidParameterException):
        return set()
    return {match["Face"]["FaceId"] for match in response.get("FaceMatches", [])}


def best_image(event: StepState, faces: list[dict]) -> Image.Image:
    """The upload, decoded as large as the smallest torso needs, when it is larger than the
    processed copy and still the run's version; else the processed copy."""
    config, s3, image = get_config(), clients.s3(), event["image"]
    long_side = second_look.source_long_side(
        faces,
        image["width"],
        image["height"],
        (image.get("originalWidth", image["width"]), image.get("originalHeight", image["height"])),
    )
    if long_side:
        try:
            raw = s3.get_object(
                Bucket=config.bucket_name, Key=event["photo"]["rawKey"], IfMatch=f'"{event["photo"]["etag"]}"'
            )
            return images.upright(raw["Body"].read(), long_side)
        except ClientError as exc:  # gone or replaced: that upload's own run reads it
            logger.info(
                "Upload not readable, the processed copy is read",
                extra={"code": exc.response["Error"]["Code"]},
            )
    processed = s3.get_object(Bucket=config.bucket_name, Key=image["processedKey"])["Body"].read()
    return Image.open(BytesIO(processed)).convert("RGB")
