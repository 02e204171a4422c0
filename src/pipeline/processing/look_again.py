"""What SecondLook does with a photo and the faces its run found (the rules are in
pipeline.processing.second_look): numbers no one wears dropped, the torsos of runners left without
a bib read again in one DetectText call on a sheet of them (from the upload itself when it is
larger than the processed copy), and a partial read resolved by its runner's face elsewhere."""

from dataclasses import dataclass
from io import BytesIO

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from PIL import Image

from pipeline.common import rekognition
from pipeline.common.keys import RawPhoto, rerun_started_at
from pipeline.common.models import BibRead, StepState
from pipeline.processing import images, links, second_look
from pipeline.processing.reading import event_settings, rules_for, stack_rules
from pipeline.store import Store

logger = Logger(child=True)  # a shared module: the handler's Logger sets the output up


@dataclass(frozen=True)
class Looked:
    bibs: list[BibRead]
    not_worn: int
    torsos: int
    words: int
    added: int
    resolved_by_face: int


def look_again(
    store: Store, s3, client, bucket: str, collection: str, photo: RawPhoto, state: StepState
) -> Looked:
    image, found = state["image"], state["detections"]
    everyone, aspect = found["faces"] + found.get("otherFaces", []), image["width"] / image["height"]
    first = second_look.worn(found["bibs"], everyone, aspect)
    faces = second_look.faces_without_bib(first, everyone, image["width"], image["height"])
    rules, added, words = stack_rules(), [], 0
    if faces:  # the event's settings are read only for a photo that is read again
        rules = rules_for(
            event_settings(photo.org_id, photo.event_id, rerun_started_at(state["executionName"]))
        )
        layout = second_look.sheet(best_image(s3, bucket, state, faces), faces)
        detections = rekognition.detect_text(client, {"Bytes": layout.jpeg})
        added = second_look.reads(second_look.in_photo(detections, layout), first, rules, aspect)
        words = len(detections)

    def same_runner(face_id: str) -> set[str]:
        """The event's faces like this one, by SearchFaces at the linked faces' threshold; none
        when the face or the collection is gone."""
        try:
            response = rekognition.search_faces(client, collection, face_id, links.LINKED_FACE_THRESHOLD)
        except (client.exceptions.ResourceNotFoundException, client.exceptions.InvalidParameterException):
            return set()
        return {match["Face"]["FaceId"] for match in response.get("FaceMatches", [])}

    bibs = second_look.same_runners_bibs(
        first + added,
        found["faces"],
        (image["width"], image["height"]),
        lambda bib: store.bibs.longer(photo.org_id, photo.event_id, bib),
        same_runner,
        photo.photo_id,
        rules.max_length,
    )
    resolved = sum("read" in bib for bib in bibs) - sum("read" in bib for bib in first + added)
    return Looked(bibs, len(found["bibs"]) - len(first), len(faces), words, len(added), resolved)


def best_image(s3, bucket: str, state: StepState, faces: list[dict]) -> Image.Image:
    """The upload, decoded as large as the smallest torso needs, when it is larger than the
    processed copy and still the run's version; else the processed copy."""
    image = state["image"]
    long_side = second_look.source_long_side(
        faces,
        image["width"],
        image["height"],
        (image.get("originalWidth", image["width"]), image.get("originalHeight", image["height"])),
    )
    if long_side:
        try:
            raw = s3.get_object(
                Bucket=bucket, Key=state["photo"]["rawKey"], IfMatch=f'"{state["photo"]["etag"]}"'
            )
            return images.upright(raw["Body"].read(), long_side)
        except ClientError as exc:  # gone or replaced: that upload's own run reads it
            logger.info(
                "Upload not readable, the processed copy is read",
                extra={"code": exc.response["Error"]["Code"]},
            )
    processed = s3.get_object(Bucket=bucket, Key=image["processedKey"])["Body"].read()
    return Image.open(BytesIO(processed)).convert("RGB")
