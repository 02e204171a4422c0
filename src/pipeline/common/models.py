"""The shapes that cross a boundary: the state the steps share, the table's photo and bib items,
and the photo statuses. Everything that reads or writes one of these names its type here."""

from typing import NotRequired, TypedDict

from pipeline.common.geometry import Box

INDEXED, REJECTED, FAILED = "INDEXED", "REJECTED", "FAILED"  # a photo item's final statuses
SUPERSEDED = "SUPERSEDED"  # a run that wrote nothing: a newer event's run owns the photo
FINAL_STATUSES = (INDEXED, REJECTED, FAILED)


class PhotoState(TypedDict):
    """The state's "photo": which upload a run is for (pipeline.processing.uploads.photo_state)."""

    bucket: str
    rawKey: str
    etag: str
    orgId: str
    eventId: str
    photoId: str
    versionId: NotRequired[str]  # a versioned bucket's object version


class StepState(TypedDict):
    """An execution's input, and what the steps add to it on the way."""

    action: str  # "process" | "reject" | "delete"
    executionName: str
    photo: PhotoState
    reason: NotRequired[str]  # "reject": why
    image: NotRequired[
        dict
    ]  # Preprocess: processedKey, thumbnailKey, width, height, bytes, takenAt, photographer
    detections: NotRequired[dict]  # Analyse: bibs, faces, errors
    error: NotRequired[dict]  # a step's Catch (ResultPath $.error): Error, Cause
    turns: NotRequired[dict]  # "process": the first calls' booked turns (pipeline.processing.pacing)
    retryCount: NotRequired[int]  # DetectText, IndexFaces: the state machine's $$.State.RetryCount
    fresh: NotRequired[bool]  # "process": call Rekognition even where answers were kept


class BibRead(TypedDict):
    """A bib read on a photo (DetectText), and the face linked to it (pipeline.processing.links)."""

    bib: str
    confidence: float
    box: Box | dict  # a Box; {} for a bib a person added with no box (pipeline.corrections.records)
    faceId: NotRequired[str]
    look: NotRequired[int]  # 2: read by the second look (pipeline.processing.second_look)
    read: NotRequired[str]  # what was read, when part of the bib (pipeline.processing.second_look)
    corrected: NotRequired[str]  # a person's correction added or kept it: its source


class PhotoItem(TypedDict, total=False):
    """The table's photo item (pipeline.store, docs/data-model.md)."""

    PK: str
    SK: str
    orgId: str
    eventId: str
    photoId: str
    rawKey: str
    etag: str
    status: str
    reason: str
    executionName: str
    bibs: list[str]
    faceIds: list[str]
    faceBoxes: dict[str, Box]  # face id -> where it is (pipeline.processing.replacement)
    processedKey: str
    thumbnailKey: str
    width: int
    height: int
    bytes: int
    takenAt: str
    photographer: str
    createdAt: str
    updatedAt: str
    galleryKey: str  # INDEXED photos only (GalleryIndex is sparse)
    camera: str  # the photographer metadata, else the upload's first folder (pipeline.timing.rules)
    cameraKey: str  # CameraIndex (sparse): INDEXED photos with a camera and an EXIF time
    cameraTime: str  # the camera's own clock, YYYY-MM-DDTHH:MM:SS
    review: list[dict]  # the reasons a person should look (pipeline.corrections.review)
    reviewKey: str  # ReviewIndex (sparse)
    reviewed: dict  # who and when a person did, for this content
    settingsFingerprint: str  # what the result was made under (pipeline.events.settings)
    facesIndexed: bool  # this content's faces are indexed: a re-run uses them (pipeline.processing.faces)
    otherFaceBoxes: list[Box]  # faces IndexFaces left out, for a re-run's second look
