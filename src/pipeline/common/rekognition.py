"""The Rekognition edge: every call the functions and the operator command make goes through here,
with one retry layer per failure kind (bench/rekognition_attempts.py measures them):

- throttling: 4 attempts here, about a quota window (1 s) apart; then the state machine
  (RekognitionThrottled: 6 more runs of the step);
- 5xx and connection errors: 3 attempts here, 0.2 s x 2^n with full jitter; then the state machine
  (RekognitionUnavailable);
- a photo Rekognition cannot read: no retry, InvalidImage (the photo is REJECTED).

The boto3 client does not retry (pipeline.common.clients): its standard mode would retry throttling and
5xx a fourth time inside each of these attempts. Throttling waits a quota window rather than
backing off exponentially: the starter paces executions just under the quota, so a throttled call
has usually missed its window by a fraction of a second. The search API calls with one attempt
(`patient=False`): a runner waiting on a page is better served by the bib reads at once.
"""

import random
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from pipeline.common.errors import InvalidImage, RekognitionThrottled, RekognitionUnavailable
from pipeline.common.geometry import Box, from_rekognition

_IMAGE_ERRORS = {"InvalidImageFormatException", "ImageTooLargeException", "InvalidParameterException"}
_THROTTLING_ERRORS = {"ProvisionedThroughputExceededException", "ThrottlingException"}
_UNAVAILABLE_ERRORS = {"InternalServerError", "ServiceUnavailableException"}
DELETE_FACES_BATCH = 4096  # DeleteFaces accepts up to 4096 face ids per call
MAX_FACES = 100  # IndexFaces indexes at most 100 faces of one photo
MAX_SEARCH_FACES = 4096  # the most matches a face search returns
QUOTA_ATTEMPTS = 4
QUOTA_WINDOW_SECONDS = 1.0
UNAVAILABLE_ATTEMPTS = 3
UNAVAILABLE_BASE_SECONDS = 0.2


@dataclass(frozen=True)
class IndexedFace:
    face_id: str
    confidence: float
    box: Box

    def as_dict(self) -> dict:
        return {"faceId": self.face_id, "confidence": self.confidence, "box": self.box}


def kind_of(exc: Exception, reads_image: bool = True) -> str | None:
    """What a failed call means, decided once for the retries and the error mapping: "image" (the
    photo cannot be read: never retried), "throttled", "unavailable" (any 5xx, named or not: a 502
    BadGateway too, and connection errors), or None (a caller's mistake or a missing resource:
    raised as it is)."""
    if isinstance(exc, (ConnectionError, ReadTimeoutError)):
        return "unavailable"
    if not isinstance(exc, ClientError):
        return None
    code = exc.response.get("Error", {}).get("Code", "")
    if reads_image and code in _IMAGE_ERRORS:
        return "image"
    if code in _THROTTLING_ERRORS:
        return "throttled"
    if (
        code in _UNAVAILABLE_ERRORS
        or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500
    ):
        return "unavailable"
    return None


@contextmanager
def rekognition_errors(operation: str, reads_image: bool = True):
    """A failed call as the pipeline's error for its kind (kind_of); the state machine retries
    RekognitionThrottled and RekognitionUnavailable, and rejects the photo on InvalidImage."""
    try:
        yield
    except (ClientError, ConnectionError, ReadTimeoutError) as exc:
        kind = kind_of(exc, reads_image)
        if not isinstance(exc, ClientError):  # connection errors are always "unavailable"
            raise RekognitionUnavailable(
                f"Rekognition {operation} unreachable: {type(exc).__name__}"
            ) from exc
        error = exc.response.get("Error", {})
        code = error.get("Code") or f"HTTP {exc.response.get('ResponseMetadata', {}).get('HTTPStatusCode')}"
        if kind == "image":
            raise InvalidImage(
                f"Rekognition {operation} cannot read the photo: {error.get('Message') or code}"
            ) from exc
        if kind == "throttled":
            raise RekognitionThrottled(f"Rekognition {operation} throttled: {code}") from exc
        if kind == "unavailable":
            raise RekognitionUnavailable(f"Rekognition {operation} unavailable: {code}") from exc
        raise


def retried[T](call: Callable[..., T], *args: Any, patient: bool = True, **kwargs: Any) -> T:
    """`call(*args, **kwargs)`, the only retry layer in the process (the module's table)."""
    throttled = unavailable = 0
    while True:
        try:
            return call(*args, **kwargs)
        except (ClientError, ConnectionError, ReadTimeoutError) as exc:
            kind = kind_of(exc)
            if kind == "throttled" and patient and throttled < QUOTA_ATTEMPTS - 1:
                throttled += 1
                time.sleep(QUOTA_WINDOW_SECONDS * random.uniform(0.5, 1.5))  # noqa: S311 - jitter
            elif kind == "unavailable" and patient and unavailable < UNAVAILABLE_ATTEMPTS - 1:
                unavailable += 1
                time.sleep(random.uniform(0, UNAVAILABLE_BASE_SECONDS * 2**unavailable))  # noqa: S311
            else:
                raise


def s3_image(bucket: str, key: str) -> dict:
    return {"S3Object": {"Bucket": bucket, "Name": key}}


def detect_text(client, image: dict) -> list[dict]:
    """DetectText on `image`: s3_image(...) for a stored photo, {"Bytes": ...} for one built in
    memory (the second look's sheet, at most 5 MB)."""
    with rekognition_errors("DetectText"):
        return retried(client.detect_text, Image=image).get("TextDetections", [])


def index_faces(
    client, collection_id: str, bucket: str, key: str, photo_id: str, max_faces: int = MAX_FACES
) -> tuple[list[IndexedFace], list[dict]]:
    """Index the photo's faces; create the event's collection on first use.

    Returns the indexed faces and the boxes of those Rekognition left out (UnindexedFaces: too
    small, blurred, over MaxFaces): where the runners are whose faces are not searchable.
    """
    request: dict[str, Any] = {
        "CollectionId": collection_id,
        "Image": s3_image(bucket, key),
        "ExternalImageId": photo_id,
        "MaxFaces": max_faces,
        "QualityFilter": "AUTO",
        "DetectionAttributes": ["DEFAULT"],
    }
    with rekognition_errors("IndexFaces"):
        try:
            response = retried(client.index_faces, **request)
        except client.exceptions.ResourceNotFoundException:
            ensure_collection(client, collection_id)
            response = retried(client.index_faces, **request)
    faces = [
        IndexedFace(
            face_id=record["Face"]["FaceId"],
            confidence=round(float(record["Face"].get("Confidence", 0.0)), 2),
            box=from_rekognition(record["Face"]["BoundingBox"]),
        )
        for record in response.get("FaceRecords", [])
    ]
    others = [
        {"box": from_rekognition(face["FaceDetail"]["BoundingBox"])}
        for face in response.get("UnindexedFaces", [])
        if face.get("FaceDetail", {}).get("BoundingBox")
    ]
    return faces, others


def listed_faces(client, collection_id: str, face_ids: list[str]) -> dict[str, tuple[str, Box]]:
    """Face id -> (its photo id, its box in the photo), by ListFaces filtered by FaceIds."""
    boxes: dict[str, tuple[str, Box]] = {}
    face_ids = sorted(set(face_ids))
    for start in range(0, len(face_ids), DELETE_FACES_BATCH):
        request: dict[str, Any] = {
            "CollectionId": collection_id,
            "FaceIds": face_ids[start : start + DELETE_FACES_BATCH],
        }
        with rekognition_errors("ListFaces", reads_image=False):
            while True:
                page = retried(client.list_faces, MaxResults=4096, **request)
                for face in page["Faces"]:
                    boxes[face["FaceId"]] = (
                        face.get("ExternalImageId", ""),
                        from_rekognition(face["BoundingBox"]),
                    )
                if not page.get("NextToken"):
                    break
                request["NextToken"] = page["NextToken"]
    return boxes


def ensure_collection(client, collection_id: str) -> None:
    """Create the collection; another execution creating it at the same moment is fine."""
    with suppress(client.exceptions.ResourceAlreadyExistsException):
        client.create_collection(CollectionId=collection_id)


def delete_faces(client, collection_id: str, face_ids: list[str]) -> None:
    """Delete faces from the collection; faces or a collection already gone are not an error."""
    face_ids = sorted(set(face_ids))
    for start in range(0, len(face_ids), DELETE_FACES_BATCH):
        with rekognition_errors("DeleteFaces", reads_image=False):
            try:
                retried(
                    client.delete_faces,
                    CollectionId=collection_id,
                    FaceIds=face_ids[start : start + DELETE_FACES_BATCH],
                )
            except client.exceptions.ResourceNotFoundException:
                return


def search_faces(client, collection_id: str, face_id: str, threshold: float, patient: bool = True) -> dict:
    """SearchFaces: the collection's faces like one of its faces (the face itself left out)."""
    with rekognition_errors("SearchFaces", reads_image=False):
        return retried(
            client.search_faces,
            CollectionId=collection_id,
            FaceId=face_id,
            FaceMatchThreshold=threshold,
            MaxFaces=MAX_SEARCH_FACES,
            patient=patient,
        )


def search_faces_by_image(
    client, collection_id: str, image: bytes, threshold: float, patient: bool = True
) -> dict:
    """SearchFacesByImage: the collection's faces like the largest face in the image."""
    with rekognition_errors("SearchFacesByImage"):
        return retried(
            client.search_faces_by_image,
            CollectionId=collection_id,
            Image={"Bytes": image},
            FaceMatchThreshold=threshold,
            MaxFaces=MAX_SEARCH_FACES,
            patient=patient,
        )
