"""Test data made by code: real image bytes, and Rekognition/S3/EventBridge shapes as AWS sends them."""

import io
import json
import random
import uuid

from PIL import Image, ImageDraw

REGION = "ap-northeast-2"


def photo(width=640, height=480, fmt="JPEG", mode="RGB", orientation=None, taken_at=None, **save) -> bytes:
    """A camera-like picture: a gradient, noise and a dark block in the top-left corner (the marker
    tests use to check orientation)."""
    gradient = (
        Image.linear_gradient("L").resize((width, height)).point(lambda value: 100 + value * 155 // 255)
    )
    image = gradient.convert("RGB")
    draw = ImageDraw.Draw(image)
    rng = random.Random(width * height)
    for _ in range(200):
        x, y = rng.randrange(width), rng.randrange(height)
        draw.point((x, y), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw.rectangle((0, 0, width // 4, height // 4), fill=(10, 10, 10))
    if mode != "RGB":
        image = image.convert(mode)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if taken_at:
        exif.get_ifd(0x8769)[0x9003] = taken_at
    buffer = io.BytesIO()
    if fmt == "JPEG":
        save.setdefault("quality", 90)
        image.save(buffer, fmt, exif=exif.tobytes(), **save)
    else:
        image.save(buffer, fmt, **save)
    return buffer.getvalue()


def text_detection(
    text, kind="WORD", confidence=99.0, left=0.4, top=0.5, width=0.1, height=0.05, ident=0, parent=0
):
    """One DetectText TextDetection, shaped like the real API's."""
    return {
        "DetectedText": text,
        "Type": kind,
        "Id": ident,
        **({"ParentId": parent} if kind == "WORD" else {}),
        "Confidence": confidence,
        "Geometry": {
            "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
            "Polygon": [
                {"X": left, "Y": top},
                {"X": left + width, "Y": top},
                {"X": left + width, "Y": top + height},
                {"X": left, "Y": top + height},
            ],
        },
    }


def face_record(photo_id, left=0.3, top=0.2, width=0.1, height=0.15, confidence=99.9):
    face_id = str(uuid.uuid4())
    box = {"Width": width, "Height": height, "Left": left, "Top": top}
    return {
        "Face": {
            "FaceId": face_id,
            "BoundingBox": box,
            "ImageId": str(uuid.uuid4()),
            "ExternalImageId": photo_id,
            "Confidence": confidence,
        },
        "FaceDetail": {
            "BoundingBox": box,
            "Confidence": confidence,
            "Quality": {"Brightness": 80.0, "Sharpness": 90.0},
        },
    }


def unindexed_face(reason="SMALL_BOUNDING_BOX"):
    return {
        "Reasons": [reason],
        "FaceDetail": {
            "BoundingBox": {"Width": 0.01, "Height": 0.02, "Left": 0.9, "Top": 0.1},
            "Confidence": 60.0,
        },
    }


def s3_eventbridge_event(
    bucket,
    key,
    detail_type="Object Created",
    etag="d41d8cd98f00b204e9800998ecf8427e",
    sequencer="00617F08299329D189",
    size=1024,
):
    """An S3 event as EventBridge delivers it (the key URL-encoded as S3 writes it)."""
    obj = {"key": key, "sequencer": sequencer, "version-id": "3Rl5x_2.AKa6dNR0p0Vj8s5H9FPxLxyz"}
    if detail_type == "Object Created":
        obj.update({"size": size, "etag": etag})
    detail = {
        "version": "0",
        "bucket": {"name": bucket},
        "object": obj,
        "request-id": "N4N7GDK58NMKJ12R",
        "requester": "123456789012",
        "source-ip-address": "1.2.3.4",
        "reason": "PutObject" if detail_type == "Object Created" else "DeleteObject",
    }
    if detail_type == "Object Deleted":
        detail["deletion-type"] = "Delete Marker Created"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-01T08:15:30Z",
        "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": detail,
    }


def sqs_batch(*bodies) -> dict:
    """An SQS event for Lambda carrying the given message bodies (dicts are JSON-encoded)."""
    records = []
    for index, body in enumerate(bodies):
        records.append(
            {
                "messageId": f"059f36b4-87a3-44ab-83d2-66197508{index:04d}",
                "receiptHandle": f"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a{index}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1545082649183",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1545082649185",
                },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:image-upload-test",
                "awsRegion": REGION,
            }
        )
    return {"Records": records}
