"""Configuration: every environment variable the functions read, declared in template.yaml."""

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Config:
    stage: str
    bucket_name: str
    table_name: str
    state_machine_arn: str
    upload_queue_url: str
    collection_prefix: str
    max_upload_bytes: int
    max_image_pixels: int
    target_long_side: int
    thumbnail_long_side: int
    jpeg_quality: int
    bib_min_length: int
    bib_max_length: int
    bib_min_confidence: float
    bib_min_height: float
    face_max_faces: int
    rekognition_tps: float
    starter_concurrency: int


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@cache
def get_config() -> Config:
    """Read the environment once per container (tests call get_config.cache_clear())."""
    stage = os.environ.get("STAGE", "dev")
    return Config(
        stage=stage,
        bucket_name=os.environ.get("BUCKET_NAME", f"snaprace-images-{stage}"),
        table_name=os.environ.get("TABLE_NAME", f"PhotoService-{stage}"),
        state_machine_arn=os.environ.get("STATE_MACHINE_ARN", ""),
        upload_queue_url=os.environ.get("UPLOAD_QUEUE_URL", ""),
        collection_prefix=os.environ.get("COLLECTION_PREFIX", f"snaprace-{stage}"),
        max_upload_bytes=_int("MAX_UPLOAD_BYTES", 15 * 1024 * 1024),
        max_image_pixels=_int("MAX_IMAGE_PIXELS", 120_000_000),
        target_long_side=_int("TARGET_LONG_SIDE", 2048),
        thumbnail_long_side=_int("THUMBNAIL_LONG_SIDE", 400),
        jpeg_quality=_int("JPEG_QUALITY", 88),
        bib_min_length=_int("BIB_MIN_LENGTH", 2),
        bib_max_length=_int("BIB_MAX_LENGTH", 6),
        bib_min_confidence=_float("BIB_MIN_CONFIDENCE", 80.0),
        bib_min_height=_float("BIB_MIN_HEIGHT", 0.015),
        face_max_faces=_int("FACE_MAX_FACES", 100),
        rekognition_tps=_float("REKOGNITION_TPS", 10.0),
        starter_concurrency=_int("STARTER_MAX_CONCURRENCY", 5),
    )
