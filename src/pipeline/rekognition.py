"""The Rekognition edge: DetectText, collections, IndexFaces and DeleteFaces, and its errors.

Rekognition errors that mean "this photo can never be read" become InvalidImage (the photo is
REJECTED); throttling or 5xx answers that outlived the client's retries become RekognitionThrottled
or RekognitionUnavailable (the state machine retries both with backoff); everything else
propagates as a failure.

Throttling is retried here first, about one quota window (1 s, jittered) apart: the starter paces
executions just under the quota, so a throttled call has usually missed its window by a fraction
of a second, and the state machine's exponential backoff (up to a minute) would leave the quota
idle while photos wait.
"""

import random
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from botocore.exceptions import ClientError

from pipeline.errors import InvalidImage, RekognitionThrottled, RekognitionUnavailable

_IMAGE_ERRORS = {"InvalidImageFormatException", "ImageTooLargeException", "InvalidParameterException"}
_THROTTLING_ERRORS = {"ProvisionedThroughputExceededException", "ThrottlingException"}
_UNAVAILABLE_ERRORS = {"InternalServerError", "ServiceUnavailableException"}
DELETE_FACES_BATCH = 4096  # DeleteFaces accepts up to 4096 face ids per call
MAX_FACES = 100  # IndexFaces indexes at most 100 faces of one photo
QUOTA_ATTEMPTS = 4
QUOTA_WINDOW_SECONDS = 1.0


@dataclass(frozen=True)
class IndexedFace:
    face_id: str
    confidence: float
    box: dict

    def as_dict(self) -> dict:
        return {"faceId": self.face_id, "confidence": self.confidence, "box": self.box}


@contextmanager
def rekognition_errors(operation: str, reads_image: bool = True):
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        if reads_image and code in _IMAGE_ERRORS:
            raise InvalidImage(f"Rekognition {operation} cannot read the photo: {message or code}") from exc
        if code in _THROTTLING_ERRORS:
            raise RekognitionThrottled(f"Rekognition {operation} throttled: {code}") from exc
        if code in _UNAVAILABLE_ERRORS:
            raise RekognitionUnavailable(f"Rekognition {operation} unavailable: {code}") from exc
        raise


def within_quota(call, *args, **kwargs):
    """`call(*args, **kwargs)`, again in the next quota window when Rekognition throttles it."""
    for _ in range(QUOTA_ATTEMPTS - 1):
        try:
            return call(*args, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _THROTTLING_ERRORS:
                raise
        time.sleep(QUOTA_WINDOW_SECONDS * random.uniform(0.5, 1.5))  # noqa: S311 - jitter, not secrets
    return call(*args, **kwargs)


def s3_image(bucket: str, key: str) -> dict:
    return {"S3Object": {"Bucket": bucket, "Name": key}}


def detect_text(client, bucket: str, key: str) -> list[dict]:
    with rekognition_errors("DetectText"):
        return within_quota(client.detect_text, Image=s3_image(bucket, key)).get("TextDetections", [])


def index_faces(
    client, collection_id: str, bucket: str, key: str, photo_id: str, max_faces: int = MAX_FACES
) -> tuple[list[IndexedFace], int]:
    """Index the photo's faces; create the event's collection on first use.

    Returns the indexed faces and the number Rekognition left out (UnindexedFaces: too small,
    blurred, over MaxFaces).
    """
    request = {
        "CollectionId": collection_id,
        "Image": s3_image(bucket, key),
        "ExternalImageId": photo_id,
        "MaxFaces": max_faces,
        "QualityFilter": "AUTO",
        "DetectionAttributes": ["DEFAULT"],
    }
    with rekognition_errors("IndexFaces"):
        try:
            response = within_quota(client.index_faces, **request)
        except client.exceptions.ResourceNotFoundException:
            ensure_collection(client, collection_id)
            response = within_quota(client.index_faces, **request)
    faces = [
        IndexedFace(
            face_id=record["Face"]["FaceId"],
            confidence=round(float(record["Face"].get("Confidence", 0.0)), 2),
            box={k.lower(): round(float(v), 4) for k, v in record["Face"]["BoundingBox"].items()},
        )
        for record in response.get("FaceRecords", [])
    ]
    return faces, len(response.get("UnindexedFaces", []))


def listed_faces(client, collection_id: str, face_ids: list[str]) -> dict[str, tuple[str, dict]]:
    """Face id -> (its photo id, its box in the photo), by ListFaces filtered by FaceIds."""
    boxes, face_ids = {}, sorted(set(face_ids))
    for start in range(0, len(face_ids), DELETE_FACES_BATCH):
        request = {"CollectionId": collection_id, "FaceIds": face_ids[start : start + DELETE_FACES_BATCH]}
        with rekognition_errors("ListFaces", reads_image=False):
            while True:
                page = within_quota(client.list_faces, MaxResults=4096, **request)
                for face in page["Faces"]:
                    box = {k.lower(): round(float(v), 4) for k, v in face["BoundingBox"].items()}
                    boxes[face["FaceId"]] = (face.get("ExternalImageId", ""), box)
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
                within_quota(
                    client.delete_faces,
                    CollectionId=collection_id,
                    FaceIds=face_ids[start : start + DELETE_FACES_BATCH],
                )
            except client.exceptions.ResourceNotFoundException:
                return
