"""Rekognition emulator: collections, faces, DetectText and DetectFaces with the real API's request
validation, response shapes, limits and errors. What an image shows comes from an engine.

Limits as documented: image bytes <= 5 MB, S3 objects <= 15 MB, JPEG or PNG only, both sides >=
80 px; DetectText returns at most 100 words; IndexFaces at most 100 faces; MaxFaces 1-4096 for
searches; FaceMatchThreshold 0-100 (default 80). With `tps`, each operation answers
ProvisionedThroughputExceededException beyond an account quota of `tps` calls a second (Throttle).
"""

import base64
import binascii
import io
import os
import re
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from PIL import Image

from snaprace.local.engines import SeenFace, Sight

FACE_MODEL_VERSION = "7.0"
TEXT_MODEL_VERSION = "3.0"
MAX_BYTES = 5 * 1024 * 1024
MAX_S3_BYTES = 15 * 1024 * 1024
MIN_SIDE = 80
MAX_WORDS = 100
MAX_INDEXED_FACES = 100
MIN_FACE_PIXELS = 40
QUALITY_MIN_SHARPNESS = {"NONE": 0.0, "LOW": 10.0, "AUTO": 30.0, "MEDIUM": 45.0, "HIGH": 60.0}
_COLLECTION_ID = re.compile(r"[a-zA-Z0-9_.\-]{1,255}")
_EXTERNAL_IMAGE_ID = re.compile(r"[a-zA-Z0-9_.\-:]{1,255}")
_FACE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class RekognitionError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _invalid(message: str) -> RekognitionError:
    return RekognitionError("InvalidParameterException", message)


@dataclass
class StoredFace:
    face_id: str
    image_id: str
    external_image_id: str | None
    seen: SeenFace

    def as_face(self) -> dict:
        face = {
            "FaceId": self.face_id,
            "BoundingBox": _box(self.seen.box),
            "ImageId": self.image_id,
            "Confidence": self.seen.confidence,
            "IndexFacesModelVersion": FACE_MODEL_VERSION,
        }
        if self.external_image_id:
            face["ExternalImageId"] = self.external_image_id
        return face


@dataclass
class Collection:
    collection_id: str
    arn: str
    created: datetime
    faces: dict[str, StoredFace] = field(default_factory=dict)


def _box(box) -> dict:
    left, top, width, height = box
    return {"Width": width, "Height": height, "Left": left, "Top": top}


def _face_detail(face: SeenFace) -> dict:
    return {
        "BoundingBox": _box(face.box),
        "Confidence": face.confidence,
        "Pose": {"Roll": 0.0, "Yaw": 0.0, "Pitch": 0.0},
        "Quality": {"Brightness": face.brightness, "Sharpness": face.sharpness},
    }


class Throttle:
    """An account quota of `tps` calls a second per operation, as a token bucket: it refills at
    `tps` a second and holds at most `burst` seconds of it (at least one call). AWS does not
    publish Rekognition's burst; one second's worth is assumed, and the stack's governors do not
    count on it (they space calls 1 / (0.97 x tps) apart)."""

    def __init__(self, tps: float | None, clock=time.monotonic, burst: float = 1.0):
        self.tps, self.clock = tps, clock
        self.capacity = max(1.0, (tps or 0) * burst)
        self.buckets: dict[str, tuple[float, float]] = {}  # operation -> (tokens, at)
        self.throttled: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def admit(self, operation: str) -> bool:
        if not self.tps:
            return True
        now = self.clock()
        with self.lock:
            tokens, at = self.buckets.get(operation, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.tps)
            if tokens < 1.0:
                self.buckets[operation] = (tokens, now)
                self.throttled[operation] += 1
                return False
            self.buckets[operation] = (tokens - 1.0, now)
            return True


ENGINE_MS_HEADER = "x-snaprace-engine-ms"  # on each answer: the engine's milliseconds, waiting included


class RekognitionEmulator:
    """`handle(operation, request)` answers like Rekognition's JSON API or raises RekognitionError.

    `read_object(bucket, key, version)` returns an S3 object's bytes or None when it does not exist.
    """

    def __init__(
        self,
        engine,
        read_object,
        region: str,
        account: str,
        tps: float | None = None,
        engine_slots: int | None = None,
    ):
        self.engine, self.read_object = engine, read_object
        self.region, self.account = region, account
        self.throttle = Throttle(tps)
        self.collections: dict[str, Collection] = {}
        self.calls: dict[str, int] = defaultdict(int)
        self.spans: dict[str, list[float]] = {}  # operation -> [first, last] answered call (epoch s)
        self.lock = threading.RLock()
        # Rekognition's compute is AWS's, not the caller's: here it is this machine's, so the engine
        # looks at one image per core at a time (more only make each call slower), and each call
        # says how long it waited for and used the engine (engine_seconds), which the local Lambda
        # runtime does not count as the calling function's time (snaprace.local.functions)
        self.slot_count = engine_slots or os.cpu_count() or 1
        self.engine_slots = threading.BoundedSemaphore(self.slot_count)
        self._spent = threading.local()
        self.closing = False

    def quiesce(self, timeout: float = 20.0) -> bool:
        """The stack is stopping: no engine call starts from now on (a call answers
        ServiceUnavailable), and every slot is taken once the calls at work end, so the process
        never exits with a model's native threads mid-image ("terminate called without an active
        exception"). False when a call was still at work after `timeout` seconds."""
        self.closing = True
        deadline = time.monotonic() + timeout
        return all(
            self.engine_slots.acquire(timeout=max(0.0, deadline - time.monotonic()))
            for _ in range(self.slot_count)
        )

    def engine_seconds(self) -> float:
        """The seconds the call this thread answered last waited for the engine and used it."""
        return getattr(self._spent, "seconds", 0.0)

    def handle(self, operation: str, request: dict) -> dict:
        self._spent.seconds = 0.0
        method = getattr(self, f"_{operation}", None)
        if method is None or not operation[:1].isupper():
            raise RekognitionError("UnknownOperationException", f"{operation} is not emulated", 400)
        if not self.throttle.admit(operation):
            raise RekognitionError(
                "ProvisionedThroughputExceededException",
                f"The rate of {operation} requests exceeds the emulated quota of {self.throttle.tps}/s",
            )
        with self.lock:
            self.calls[operation] += 1
            now = time.time()
            self.spans.setdefault(operation, [now, now])[1] = now
        return method(request)

    # ---------------------------------------------------------------- request checks

    def _collection(self, request: dict) -> Collection:
        collection_id = self._collection_id(request)
        try:
            return self.collections[collection_id]
        except KeyError:
            raise RekognitionError(
                "ResourceNotFoundException", f"The collection id: {collection_id} does not exist"
            ) from None

    @staticmethod
    def _collection_id(request: dict) -> str:
        collection_id = request.get("CollectionId")
        if not isinstance(collection_id, str) or not _COLLECTION_ID.fullmatch(collection_id):
            raise RekognitionError(
                "ValidationException",
                f"1 validation error detected: Value '{collection_id}' at 'collectionId' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-]+",
            )
        return collection_id

    @staticmethod
    def _int(request: dict, name: str, default: int, low: int, high: int) -> int:
        value = request.get(name, default)
        if not isinstance(value, int) or not low <= value <= high:
            raise RekognitionError(
                "ValidationException",
                f"1 validation error detected: Value '{value}' at '{name[0].lower() + name[1:]}' failed to "
                f"satisfy constraint: Member must have value between {low} and {high}",
            )
        return value

    @staticmethod
    def _threshold(request: dict) -> float:
        value = request.get("FaceMatchThreshold", 80.0)
        if not isinstance(value, int | float) or not 0 <= value <= 100:
            raise _invalid(f"FaceMatchThreshold must be between 0 and 100, got {value}")
        return float(value)

    def _image(self, request: dict, failing_operation: str) -> tuple[Image.Image, Sight]:
        image = request.get("Image")
        if not isinstance(image, dict) or ("Bytes" in image) == ("S3Object" in image):
            raise _invalid("Image must have exactly one of Bytes or S3Object")
        if "Bytes" in image:
            try:
                data = base64.b64decode(image["Bytes"], validate=True)
            except (binascii.Error, TypeError):
                raise _invalid("Image.Bytes is not valid base64") from None
            if len(data) > MAX_BYTES:
                raise RekognitionError("ImageTooLargeException", "Image size is too large.")
        else:
            location = image["S3Object"]
            bucket, name = location.get("Bucket"), location.get("Name")
            if not bucket or not name:
                raise _invalid("S3Object must name a Bucket and a Name")
            data = self.read_object(bucket, name, location.get("Version"))
            if data is None:
                raise RekognitionError(
                    "InvalidS3ObjectException", "Unable to get object metadata from S3. Check object key."
                )
            if len(data) > MAX_S3_BYTES:
                raise RekognitionError("ImageTooLargeException", "Image size is too large.")
        try:
            with Image.open(io.BytesIO(data)) as opened:
                picture = opened
                fmt, width, height = opened.format, opened.width, opened.height
        except Exception:  # noqa: BLE001 - anything Pillow cannot open is not an image
            raise RekognitionError(
                "InvalidImageFormatException", "Request has invalid image format"
            ) from None
        if fmt not in ("JPEG", "PNG"):
            raise RekognitionError("InvalidImageFormatException", "Request has invalid image format")
        if width < MIN_SIDE or height < MIN_SIDE:
            raise _invalid(f"Image dimensions {width}x{height} are under the minimum of {MIN_SIDE} pixels")
        if self.closing:
            raise RekognitionError("ServiceUnavailableException", "the local stack is stopping", 503)
        started = time.monotonic()
        try:
            with self.engine_slots:
                sight = self.engine.see(data, ("text",) if failing_operation == "DetectText" else ("faces",))
        finally:  # a call that fails after the engine looked still spent the engine's time
            self._spent.seconds += time.monotonic() - started
        failure = sight.failures.get(failing_operation)
        if failure:
            status = 500 if failure in ("InternalServerError", "ServiceUnavailable") else 400
            raise RekognitionError(failure, f"{failing_operation} failed (scripted)", status)
        return picture, sight

    # ---------------------------------------------------------------- collections

    def _CreateCollection(self, request: dict) -> dict:
        collection_id = self._collection_id(request)
        with self.lock:
            if collection_id in self.collections:
                raise RekognitionError(
                    "ResourceAlreadyExistsException", f"The collection id: {collection_id} already exists"
                )
            arn = f"aws:rekognition:{self.region}:{self.account}:collection/{collection_id}"
            self.collections[collection_id] = Collection(collection_id, arn, datetime.now(UTC))
        return {"StatusCode": 200, "CollectionArn": arn, "FaceModelVersion": FACE_MODEL_VERSION}

    def _DescribeCollection(self, request: dict) -> dict:
        collection = self._collection(request)
        return {
            "FaceCount": len(collection.faces),
            "UserCount": 0,
            "FaceModelVersion": FACE_MODEL_VERSION,
            "CollectionARN": collection.arn,
            "CreationTimestamp": collection.created.timestamp(),
        }

    def _ListCollections(self, request: dict) -> dict:
        limit = self._int(request, "MaxResults", 1000, 0, 4096)
        ids = sorted(self.collections)
        start = int(request.get("NextToken") or 0)
        page = ids[start : start + limit]
        response = {"CollectionIds": page, "FaceModelVersions": [FACE_MODEL_VERSION] * len(page)}
        if start + limit < len(ids):
            response["NextToken"] = str(start + limit)
        return response

    def _DeleteCollection(self, request: dict) -> dict:
        collection = self._collection(request)
        with self.lock:
            self.collections.pop(collection.collection_id, None)
        return {"StatusCode": 200}

    # ---------------------------------------------------------------- faces

    def _IndexFaces(self, request: dict) -> dict:
        collection = self._collection(request)
        external = request.get("ExternalImageId")
        if external is not None and not _EXTERNAL_IMAGE_ID.fullmatch(str(external)):
            raise _invalid("ExternalImageId must match [a-zA-Z0-9_.\\-:]+")
        max_faces = self._int(request, "MaxFaces", MAX_INDEXED_FACES, 1, 2**31 - 1)
        quality = request.get("QualityFilter", "AUTO")
        if quality not in QUALITY_MIN_SHARPNESS:
            raise _invalid(f"QualityFilter must be one of {', '.join(QUALITY_MIN_SHARPNESS)}")
        picture, sight = self._image(request, "IndexFaces")
        image_id = str(uuid.uuid4())
        largest_first = sorted(sight.faces, key=lambda f: f.box[2] * f.box[3], reverse=True)
        records, unindexed = [], []
        for face in largest_first:
            reasons = []
            if quality != "NONE" and min(face.box[2] * picture.width, face.box[3] * picture.height) < (
                MIN_FACE_PIXELS
            ):
                reasons.append("SMALL_BOUNDING_BOX")
            if face.sharpness < QUALITY_MIN_SHARPNESS[quality]:
                reasons.append("LOW_SHARPNESS")
            if not reasons and len(records) >= min(max_faces, MAX_INDEXED_FACES):
                reasons.append("EXCEEDS_MAX_FACES")
            if reasons:
                unindexed.append({"Reasons": reasons, "FaceDetail": _face_detail(face)})
                continue
            stored = StoredFace(str(uuid.uuid4()), image_id, external, face)
            records.append({"Face": stored.as_face(), "FaceDetail": _face_detail(face)})
            with self.lock:
                collection.faces[stored.face_id] = stored
        return {"FaceRecords": records, "FaceModelVersion": FACE_MODEL_VERSION, "UnindexedFaces": unindexed}

    def _ListFaces(self, request: dict) -> dict:
        collection = self._collection(request)
        limit = self._int(request, "MaxResults", 1000, 0, 4096)
        faces = sorted(collection.faces.values(), key=lambda f: f.face_id)
        wanted = request.get("FaceIds")
        if wanted is not None:
            if not isinstance(wanted, list) or not 1 <= len(wanted) <= 4096:
                raise _invalid("FaceIds must list 1 to 4096 face ids")
            faces = [face for face in faces if face.face_id in set(wanted)]
        start = int(request.get("NextToken") or 0)
        response = {
            "Faces": [f.as_face() for f in faces[start : start + limit]],
            "FaceModelVersion": FACE_MODEL_VERSION,
        }
        if start + limit < len(faces):
            response["NextToken"] = str(start + limit)
        return response

    def _DeleteFaces(self, request: dict) -> dict:
        collection = self._collection(request)
        face_ids = request.get("FaceIds")
        if not isinstance(face_ids, list) or not 1 <= len(face_ids) <= 4096:
            raise _invalid("FaceIds must list 1 to 4096 face ids")
        deleted, unsuccessful = [], []
        with self.lock:
            for face_id in face_ids:
                if not isinstance(face_id, str) or not _FACE_ID.fullmatch(face_id):
                    raise _invalid(f"{face_id!r} is not a face id")
                if collection.faces.pop(face_id, None):
                    deleted.append(face_id)
                else:
                    unsuccessful.append({"FaceId": face_id, "Reasons": ["FACE_NOT_FOUND"]})
        return {"DeletedFaces": deleted, "UnsuccessfulFaceDeletions": unsuccessful}

    def _matches(self, collection: Collection, probe: SeenFace, request: dict, skip: str = "") -> list[dict]:
        threshold = self._threshold(request)
        limit = self._int(request, "MaxFaces", 4096, 1, 4096)
        matches = []
        for stored in list(collection.faces.values()):
            if stored.face_id == skip:
                continue
            similarity = self.engine.similarity(probe, stored.seen)
            if similarity >= threshold:
                matches.append({"Similarity": similarity, "Face": stored.as_face()})
        matches.sort(key=lambda m: m["Similarity"], reverse=True)
        return matches[:limit]

    def _SearchFaces(self, request: dict) -> dict:
        collection = self._collection(request)
        face_id = request.get("FaceId")
        if not isinstance(face_id, str) or not _FACE_ID.fullmatch(face_id):
            raise _invalid(f"{face_id!r} is not a face id")
        stored = collection.faces.get(face_id)
        if stored is None:
            raise _invalid(f"Face {face_id} is not in collection {collection.collection_id}")
        return {
            "SearchedFaceId": face_id,
            "FaceMatches": self._matches(collection, stored.seen, request, skip=face_id),
            "FaceModelVersion": FACE_MODEL_VERSION,
        }

    def _SearchFacesByImage(self, request: dict) -> dict:
        collection = self._collection(request)
        _, sight = self._image(request, "SearchFacesByImage")
        if not sight.faces:
            raise _invalid("There are no faces in the image. Should be at least 1.")
        probe = max(sight.faces, key=lambda f: f.box[2] * f.box[3])
        return {
            "SearchedFaceBoundingBox": _box(probe.box),
            "SearchedFaceConfidence": probe.confidence,
            "FaceMatches": self._matches(collection, probe, request),
            "FaceModelVersion": FACE_MODEL_VERSION,
        }

    def _DetectFaces(self, request: dict) -> dict:
        _, sight = self._image(request, "DetectFaces")
        faces = sorted(sight.faces, key=lambda f: f.box[2] * f.box[3], reverse=True)[:MAX_INDEXED_FACES]
        return {"FaceDetails": [_face_detail(f) for f in faces]}

    # ---------------------------------------------------------------- text

    def _DetectText(self, request: dict) -> dict:
        _, sight = self._image(request, "DetectText")
        word_filter = (request.get("Filters") or {}).get("WordFilter") or {}
        min_confidence = float(word_filter.get("MinConfidence", 0))
        min_height = float(word_filter.get("MinBoundingBoxHeight", 0))
        min_width = float(word_filter.get("MinBoundingBoxWidth", 0))
        lines, words = [], []
        for line in sight.text:
            line_words = _split_words(line)
            line_words = [
                w
                for w in line_words
                if w.confidence >= min_confidence and w.box[3] >= min_height and w.box[2] >= min_width
            ]
            if not line_words or len(words) + len(line_words) > MAX_WORDS:
                continue
            line_id = len(lines)
            lines.append(_text_detection(line, "LINE", line_id))
            words.extend((w, line_id) for w in line_words)
        detections = lines + [
            _text_detection(word, "WORD", len(lines) + index, parent)
            for index, (word, parent) in enumerate(words)
        ]
        return {"TextDetections": detections, "TextModelVersion": TEXT_MODEL_VERSION}


def _split_words(line):
    """A line's words, each with its share of the line's box by character count."""
    tokens = line.text.split()
    total = sum(len(t) for t in tokens) + max(len(tokens) - 1, 0)
    left, top, width, height = line.box
    words, offset = [], 0
    for token in tokens:
        share = width * len(token) / max(total, 1)
        words.append(
            type(line)(token, (left + width * offset / max(total, 1), top, share, height), line.confidence)
        )
        offset += len(token) + 1
    return words


def _text_detection(line, kind: str, ident: int, parent: int | None = None) -> dict:
    left, top, width, height = line.box
    detection = {
        "DetectedText": line.text,
        "Type": kind,
        "Id": ident,
        "Confidence": line.confidence,
        "Geometry": {
            "BoundingBox": _box(line.box),
            "Polygon": [
                {"X": left, "Y": top},
                {"X": left + width, "Y": top},
                {"X": left + width, "Y": top + height},
                {"X": left, "Y": top + height},
            ],
        },
    }
    if parent is not None:
        detection["ParentId"] = parent
    return detection


def answer_in_process(client, emulator: RekognitionEmulator) -> None:
    """Let `emulator` answer a boto3 Rekognition client without HTTP (tests and benchmarks on moto,
    which has no SearchFacesByImage): the request as the wire carries it, the real error shapes."""
    import json

    from botocore.awsrequest import AWSResponse

    def answer(model, params, **_):  # the Stubber's hook: a response here skips the HTTP layer
        request = json.loads(params["body"] or b"{}")
        try:
            status, parsed = 200, emulator.handle(model.name, request)
        except RekognitionError as exc:
            status, parsed = exc.status, {"Error": {"Code": exc.code, "Message": exc.message}}
        parsed["ResponseMetadata"] = {"HTTPStatusCode": status}
        return AWSResponse(None, status, {}, None), parsed

    client.meta.events.register("before-call.rekognition", answer)  # after the governor's turn
