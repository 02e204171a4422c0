"""What Preprocess does: the upload, in the version its event announced, becomes the processed JPEG
and thumbnail Rekognition and the pages read (pipeline.processing.images), or InvalidImage with the
reason; the raw object is tagged for the archive tiers."""

from botocore.exceptions import ClientError

from pipeline.common import keys
from pipeline.common.errors import PhotoSuperseded
from pipeline.common.keys import RawPhoto
from pipeline.common.models import PhotoState
from pipeline.processing import images

MAX_PHOTOGRAPHER_LENGTH = 100
ARCHIVE_TAG = {"Key": "snaprace-class", "Value": "raw"}


def preprocess(s3, bucket: str, photo: RawPhoto, source: PhotoState) -> dict:
    """The step's answer: where the derived objects are and what the image is."""
    raw = get_raw_object(s3, bucket, photo.raw_key, source)
    images.check_upload_size(raw["ContentLength"])
    normalised = images.normalise(raw["Body"].read())
    for key, body in ((photo.processed_key, normalised.jpeg), (photo.thumbnail_key, normalised.thumbnail)):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="image/jpeg")
    tag_for_archive(s3, bucket, photo.raw_key)
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


def get_raw_object(s3, bucket: str, key: str, source: PhotoState) -> dict:
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
