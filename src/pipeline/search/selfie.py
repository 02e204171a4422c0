"""What a selfie must be before Rekognition is asked, and what its answer means. A selfie is
searched and forgotten: never stored, never logged."""

from pipeline.common.errors import BadRequest

LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024  # a synchronous invocation's request, API Gateway's event included
# Rekognition reads up to 5 MB of image bytes, but API Gateway hands a binary body to Lambda in
# base64 (4/3 larger): 4 MiB becomes 5.3 MiB, leaving room for the rest of the event.
MAX_SELFIE_BYTES = 4 * 1024 * 1024
SELFIE_THRESHOLD = 90.0


def image_format(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    return None


def check_selfie(selfie: bytes) -> None:
    """What Rekognition would refuse, refused first with a message a runner can act on."""
    if not selfie:
        raise BadRequest("the selfie is empty")
    if len(selfie) > MAX_SELFIE_BYTES:
        raise BadRequest(
            f"the selfie is {len(selfie) / 1048576:.1f} MB; at most 4 MB is accepted (send a smaller photo)"
        )
    if image_format(selfie) is None:
        raise BadRequest("the selfie must be a JPEG or PNG image")


def selfie_problem(message: str) -> str:
    if "no faces" in message.lower():
        return "no face was found in the selfie; take it facing the camera in good light"
    return "the selfie could not be read as an image (JPEG or PNG, at least 80 px a side)"


def best_by_photo(response: dict) -> dict[str, float]:
    """Photo id -> its best face similarity, from a face search's FaceMatches."""
    best: dict[str, float] = {}
    for match in response.get("FaceMatches", []):
        photo_id = match["Face"].get("ExternalImageId")
        if photo_id:
            best[photo_id] = max(float(match["Similarity"]), best.get(photo_id, 0.0))
    return best
