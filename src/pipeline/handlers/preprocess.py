"""PreprocessFunction: raw upload -> processed JPEG and thumbnail, or InvalidImage with the reason."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from botocore.exceptions import ClientError

from pipeline.common import clients, keys
from pipeline.common.config import get_config
from pipeline.common.errors import PhotoSuperseded
from pipeline.common.models import StepState
from pipeline.handlers import step_photo
from pipeline.processing import images

logger = Logger()
tracer = Tracer()
metrics = Metrics()
MAX_PHOTOGRAPHER_LENGTH = 100
ARCHIVE_TAG = {"Key": "snaprace-class", "Value": "raw"}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: StepState, context) -> dict:
    config = get_config()
    s3 = clients.s3()
    photo = step_photo(event, logger)
    raw = get_raw_object(s3, config.bucket_name, photo.raw_key, event["photo"])
    images.check_upload_size(raw["ContentLength"])
    normalised = images.normalise(raw["Body"].read())
    for key, body in ((photo.processed_key, normalised.jpeg), (photo.thumbnail_key, normalised.thumbnail)):
        s3.put_object(Bucket=config.bucket_name, Key=key, Body=body, ContentType="image/jpeg")
    tag_for_archive(s3, config.bucket_name, photo.raw_key)
    logger.info(
        "Photo normalised", extra={"sourceFormat": normalised.source_format, "bytes": raw["ContentLength"]}
    )
    return {
        "processedKey": photo.processed_key,
        "thumbnailKey": photo.thumbnail_key,
        "width": normalised.width,
        "height": normalised.height,
        "originalWidth": normalised.original_width,
        "originalHeight": normalised.original_height,
        "bytes": raw["ContentLength"],
        "sourceFormat": normalised.source_format,
        "takenAt": normalised.taken_at,
        "photographer": photographer(raw.get("Metadata", {})),
    }


def get_raw_object(s3, bucket: str, key: str, source: dict) -> dict:
    """The raw object in the version the event announced (``source``: the state's "photo");
    PhotoSuperseded when it is gone or replaced, even by an upload of the same content."""
    try:
        raw = s3.get_object(Bucket=bucket, Key=key, IfMatch=f'"{source["etag"]}"')
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("NoSuchKey", "404", "PreconditionFailed", "412"):
            raise PhotoSuperseded("the raw object was deleted or replaced since the event") from exc
        raise
    if not keys.is_same_upload(source, raw):
        raw["Body"].close()
        raise PhotoSuperseded("the key was uploaded again since the event")
    return raw


def tag_for_archive(s3, bucket: str, key: str) -> None:
    """Tag the raw object so the lifecycle rule moves it to Intelligent-Tiering with archive tiers.

    S3 lifecycle filters cannot match ``*/*/raw/*``; a tag set here covers both upload layouts.
    Existing tags are kept.
    """
    tags = s3.get_object_tagging(Bucket=bucket, Key=key).get("TagSet", [])
    if ARCHIVE_TAG not in tags:
        s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": [*tags, ARCHIVE_TAG][:10]})


def photographer(metadata: dict) -> str | None:
    """x-amz-meta-photographer, printable and bounded (it is shown to runners)."""
    name = "".join(ch for ch in metadata.get("photographer", "") if ch.isprintable()).strip()
    return name[:MAX_PHOTOGRAPHER_LENGTH] or None
