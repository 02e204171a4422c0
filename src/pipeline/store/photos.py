"""Photo items and the bib index: what an event's photos are and which bibs were read on them.

| item      | PK                          | SK                          |
| photo     | ORG#{orgId}#EVT#{eventId}   | PHOTO#{photoId}             |
| bib index | ORG#{orgId}#EVT#{eventId}   | BIB#{bib}#PHOTO#{photoId}   |  (+ faceId when linked)
| text read | ORG#{orgId}#EVT#{eventId}   | TEXT#{photoId}              |  DetectText's answer, by etag

GalleryIndex (sparse): PK, galleryKey = {createdAt}#{photoId} on INDEXED photo items only.
CameraIndex (sparse): cameraKey = ORG#{orgId}#EVT#{eventId}#CAM#{camera}, cameraTime = the camera's
own time, on INDEXED photos with a camera and an EXIF time (pipeline.timing.rules).
"""

from typing import TypeGuard, cast

from boto3.dynamodb.conditions import Key

from pipeline.common.models import BibRead, PhotoItem
from pipeline.store.core import Items, event_pk, from_dynamo, to_dynamo

PHOTO_PREFIX = "PHOTO#"
BIB_PREFIX = "BIB#"
TEXT_PREFIX = "TEXT#"
BOX_DIGITS = 5  # a text box's corners to 1e-5 of the photo: 0.02 px at 2,048 px
GALLERY_INDEX = "GalleryIndex"
LONGER_BIBS_READ = 100  # items a second look reads for the longer bibs a partial read can be


def photo_sk(photo_id: str) -> str:
    return f"{PHOTO_PREFIX}{photo_id}"


def gallery_key(created_at: str, photo_id: str) -> str:
    """GalleryIndex sort key: newest first when read backwards; the photo id keeps it unique."""
    return f"{created_at}#{photo_id}"


def camera_key(org_id: str, event_id: str, camera: str) -> str:
    """CameraIndex partition: one camera's photos of one event, by the camera's own time."""
    return f"{event_pk(org_id, event_id)}#CAM#{camera}"


def bib_prefix(bib: str) -> str:
    return f"{BIB_PREFIX}{bib}#PHOTO#"


def bib_sk(bib: str, photo_id: str) -> str:
    return f"{bib_prefix(bib)}{photo_id}"


def is_gallery_position(key: object, org_id: str, event_id: str) -> TypeGuard[dict[str, str]]:
    """Whether `key` is a position in this event's gallery (a GalleryIndex LastEvaluatedKey)."""
    return (
        isinstance(key, dict)
        and set(key) == {"PK", "SK", "galleryKey"}
        and all(isinstance(value, str) for value in key.values())
        and key["PK"] == event_pk(org_id, event_id)
    )


def is_photo(item: dict) -> bool:
    return item["SK"].startswith(PHOTO_PREFIX)


def is_bib(item: dict) -> bool:
    """A bib-index item."""
    return item["SK"].startswith(BIB_PREFIX)


class Photos(Items):
    def get(self, org_id: str, event_id: str, photo_id: str) -> PhotoItem | None:
        item = self.core.get({"PK": event_pk(org_id, event_id), "SK": photo_sk(photo_id)}, consistent=True)
        return cast(PhotoItem | None, item)

    def get_many(self, org_id: str, event_id: str, photo_ids, consistent: bool = False) -> dict[str, dict]:
        """Photo items by id (BatchGetItem in 100s); ids with no item are left out. `consistent`:
        for an item about to be rewritten from what was read (an erasure)."""
        pk = event_pk(org_id, event_id)
        keys = [{"PK": pk, "SK": photo_sk(photo_id)} for photo_id in sorted(set(photo_ids))]
        return {item["photoId"]: item for item in self.core.batch_get(keys, consistent)}

    def of_event(self, org_id: str, event_id: str) -> list[dict]:
        """Every photo item of one event, whatever its status."""
        return self.core.query_prefix(event_pk(org_id, event_id), PHOTO_PREFIX)

    def page_of_event(self, org_id: str, event_id: str, limit: int, start_key: dict | None = None):
        """One page of the event's photo items, in photo id order: (items, key to continue from)."""
        page = self.core.table.query(
            KeyConditionExpression=Key("PK").eq(event_pk(org_id, event_id))
            & Key("SK").begins_with(PHOTO_PREFIX),
            Limit=limit,
            **({"ExclusiveStartKey": start_key} if start_key else {}),
        )
        return page.get("Items", []), page.get("LastEvaluatedKey")

    def gallery(self, org_id: str, event_id: str, limit: int, start_key: dict | None = None):
        """One page of the event's indexed photos, newest first: (items, key to continue from)."""
        page = self.core.table.query(
            IndexName=GALLERY_INDEX,
            KeyConditionExpression=Key("PK").eq(event_pk(org_id, event_id)),
            ScanIndexForward=False,
            Limit=limit,
            **({"ExclusiveStartKey": start_key} if start_key else {}),
        )
        return page.get("Items", []), page.get("LastEvaluatedKey")

    def replace(self, photo: PhotoItem, bibs: list[BibRead], previous: PhotoItem | None) -> None:
        """Write the photo item and its bib items; remove bib items an earlier run left behind.

        ``photo`` has orgId, eventId, photoId and the photo attributes; ``bibs`` are
        {"bib", "confidence", "box"} dicts.
        """
        pk = event_pk(photo["orgId"], photo["eventId"])
        photo_id = photo["photoId"]
        puts = [
            {"PK": pk, "SK": bib_sk(found["bib"], photo_id), "photoId": photo_id, **found} for found in bibs
        ]
        puts.append({"PK": pk, "SK": photo_sk(photo_id), **photo})
        stale = set((previous or {}).get("bibs", [])) - {found["bib"] for found in bibs}
        deletes = [{"PK": pk, "SK": bib_sk(bib, photo_id)} for bib in sorted(stale)]
        self.core.batch_write(
            [{"PutRequest": {"Item": to_dynamo(item)}} for item in puts]
            + [{"DeleteRequest": {"Key": key}} for key in deletes]
        )

    def delete(self, org_id: str, event_id: str, photo_id: str, previous: PhotoItem | None) -> None:
        pk = event_pk(org_id, event_id)
        keys = [{"PK": pk, "SK": bib_sk(bib, photo_id)} for bib in (previous or {}).get("bibs", [])]
        keys += [{"PK": pk, "SK": photo_sk(photo_id)}, {"PK": pk, "SK": f"{TEXT_PREFIX}{photo_id}"}]
        self.core.delete_items(keys)

    def text_read(self, org_id: str, event_id: str, photo_id: str, etag: str) -> list[dict] | None:
        """DetectText's answer kept for this content (`etag`: the upload's), or None. It stays
        apart from the photo item, which the gallery and the searches read: 3-10 KB that only a
        re-run reads (pipeline.processing.reading). It goes with the photo (`delete`, a purge) and
        is replaced by the next content's."""
        item = self.core.get({"PK": event_pk(org_id, event_id), "SK": f"{TEXT_PREFIX}{photo_id}"})
        if not item or item.get("etag") != etag:
            return None
        return from_dynamo(item["detections"])

    def has_text_read(self, org_id: str, event_id: str, photo_id: str, etag: str) -> bool:
        """Whether DetectText's answer for this content is kept (its etag only is read back)."""
        item = self.core.table.get_item(
            Key={"PK": event_pk(org_id, event_id), "SK": f"{TEXT_PREFIX}{photo_id}"},
            ProjectionExpression="etag",
        ).get("Item")
        return bool(item) and item.get("etag") == etag

    def keep_text_read(
        self, org_id: str, event_id: str, photo_id: str, etag: str, detections: list[dict]
    ) -> None:
        """DetectText's TextDetections without their polygons (the boxes say as much for a bib)."""
        kept = [
            {
                **{k: v for k, v in detection.items() if k != "Geometry"},
                "Geometry": {
                    "BoundingBox": {
                        side: round(float(value), BOX_DIGITS)
                        for side, value in detection.get("Geometry", {}).get("BoundingBox", {}).items()
                    }
                },
            }
            for detection in detections
        ]
        self.core.table.put_item(
            Item=to_dynamo(
                {
                    "PK": event_pk(org_id, event_id),
                    "SK": f"{TEXT_PREFIX}{photo_id}",
                    "photoId": photo_id,
                    "etag": etag,
                    "detections": kept,
                }
            )
        )


class BibIndex(Items):
    def photos_with(self, org_id: str, event_id: str, bib: str) -> list[dict]:
        """All bib-index items of a bib in one event."""
        return self.core.query_prefix(event_pk(org_id, event_id), bib_prefix(bib))

    def longer(self, org_id: str, event_id: str, bib: str, limit: int = LONGER_BIBS_READ) -> list[dict]:
        """Bib-index items of the bibs that start with `bib` and go on with a digit ("10264" for
        "1026"), at most `limit`: one page, bib, photoId and faceId only."""
        page = self.core.table.query(
            KeyConditionExpression=Key("PK").eq(event_pk(org_id, event_id))
            & Key("SK").between(f"BIB#{bib}0", f"BIB#{bib}9~"),
            ProjectionExpression="bib, photoId, faceId",
            Limit=limit,
        )
        return page.get("Items", [])

    def of_photo(self, org_id: str, event_id: str, photo_id: str, bibs) -> list[dict]:
        """The bib items of one photo (its item's `bibs`), read consistently."""
        pk = event_pk(org_id, event_id)
        keys = [{"PK": pk, "SK": bib_sk(bib, photo_id)} for bib in sorted(set(bibs))]
        items = self.core.batch_get(keys, consistent=True)
        return [{k: v for k, v in item.items() if k not in ("PK", "SK", "photoId")} for item in items]
