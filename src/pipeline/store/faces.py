"""Face data on the table's items: face ids on photo items, face links on bib items, and the
face matches a bib search keeps. Every deletion path clears the cached matches: a runner's erasure
(`forget_on`, over the photos their faces are on), face search off and retention (`scrub`, page by
page in a background job, pipeline.jobs.scrub), a purge (every item goes).

| face matches | ORG#{orgId}#EVT#{eventId} | FACEMATCH#{bib} |  linkedFaces, matches, expiresAt
"""

from concurrent.futures import ThreadPoolExecutor

from boto3.dynamodb.conditions import Attr, Key

from pipeline.store.core import Items, event_pk, item_key, to_dynamo
from pipeline.store.photos import BIB_PREFIX, PHOTO_PREFIX, bib_sk, is_photo

FACE_MATCHES_PREFIX = "FACEMATCH#"
HOLDING_FACES = (PHOTO_PREFIX, BIB_PREFIX)  # the item kinds a face id or link can be on
SCRUB_WRITERS = 8  # UpdateItem calls in flight while a page of items loses its faces


class FaceData(Items):
    def matches(self, org_id: str, event_id: str, bib: str) -> dict | None:
        """A bib search's cached face matches (pipeline.search.photos), None when there are none."""
        return self.core.get({"PK": event_pk(org_id, event_id), "SK": f"{FACE_MATCHES_PREFIX}{bib}"})

    def put_matches(
        self, org_id: str, event_id: str, bib: str, linked: list[str], matches: list, expires_at: int
    ) -> None:
        """Cache a bib's face matches ([photoId, faceId, similarity]) for the faces linked to it."""
        self.core.table.update_item(  # UpdateItem: the search's role writes its counters the same way
            Key={"PK": event_pk(org_id, event_id), "SK": f"{FACE_MATCHES_PREFIX}{bib}"},
            UpdateExpression="SET linkedFaces = :linked, matches = :matches, expiresAt = :expires",
            ExpressionAttributeValues=to_dynamo(
                {":linked": linked, ":matches": matches, ":expires": expires_at}
            ),
        )

    def forget_matches(self, org_id: str, event_id: str) -> None:
        """Delete the event's cached face matches: erasure, face search off and retention clear
        them before the faces go, never waiting for their TTL (a new run or a deleted photo needs
        not: the search checks each match against the photo item, rewritten first). As many items
        as bibs searched in the last FACE_MATCHES_SECONDS, until TTL tidies."""
        keys = self.core.query_prefix(event_pk(org_id, event_id), FACE_MATCHES_PREFIX, keys_only=True)
        self.core.delete_items(keys)

    def forget(self, org_id: str, event_id: str, face_ids: set[str], items: list[dict]) -> int:
        """Remove these faces from the photo items and their links from the bib items among
        `items`; the number of items changed."""
        changed = 0
        for item in items:
            if is_photo(item) and face_ids & set(item.get("faceIds", [])):
                kept = sorted(set(item["faceIds"]) - face_ids)
                boxes = {face: box for face, box in (item.get("faceBoxes") or {}).items() if face in kept}
                self.core.table.update_item(
                    Key=item_key(item),
                    # a re-run indexes the photo again rather than trust what is left (processing.faces)
                    UpdateExpression="SET faceIds = :kept, faceBoxes = :boxes REMOVE facesIndexed",
                    ExpressionAttributeValues={":kept": kept, ":boxes": boxes},
                )
                changed += 1
            elif item.get("faceId") in face_ids:
                self.core.table.update_item(Key=item_key(item), UpdateExpression="REMOVE faceId")
                changed += 1
        self.forget_matches(org_id, event_id)  # any a search kept while the faces went
        return changed

    def forget_on(self, org_id: str, event_id: str, face_ids: set[str], photos: dict[str, dict]) -> int:
        """`forget` over these photo items and their bib items only (a runner's erasure knows the
        photos its faces are on: a few hundred reads, whatever the event's size)."""
        pk = event_pk(org_id, event_id)
        bib_keys = [
            {"PK": pk, "SK": bib_sk(bib, photo_id)}
            for photo_id, photo in photos.items()
            for bib in sorted(set(photo.get("bibs", [])))
        ]
        items = list(photos.values()) + self.core.batch_get(bib_keys, consistent=True)
        return self.forget(org_id, event_id, face_ids, items)

    def page_holding_faces(
        self, org_id: str, event_id: str, prefix: str, limit: int, start_key: dict | None = None
    ) -> tuple[list[dict], dict | None]:
        """Of `limit` items of one kind (a prefix of HOLDING_FACES), those with a face id or link,
        keys and face attributes only: (items, key to continue from, None at the end)."""
        page = self.core.table.query(
            KeyConditionExpression=Key("PK").eq(event_pk(org_id, event_id)) & Key("SK").begins_with(prefix),
            FilterExpression=Attr("faceIds").exists() | Attr("faceId").exists(),
            ProjectionExpression="PK, SK, faceIds, faceId",
            Limit=limit,
            ConsistentRead=True,
            **({"ExclusiveStartKey": start_key} if start_key else {}),
        )
        # a photo with no face keeps an empty faceIds (and moto cannot take size() of a missing one)
        holding = [item for item in page.get("Items", []) if item.get("faceIds") or item.get("faceId")]
        return holding, page.get("LastEvaluatedKey")

    def scrub(self, items: list[dict]) -> int:
        """Every face id, box and link off these items (face search off, or retention passed); an
        item deleted meanwhile stays deleted. The number changed."""
        client, name = self.core.client, self.core.table.name  # a client is thread-safe, a resource not

        def scrub_one(item: dict) -> bool:
            photo = is_photo(item)
            try:
                client.update_item(
                    TableName=name,
                    Key=item_key(item),
                    UpdateExpression="SET faceIds = :none, faceBoxes = :nobox REMOVE facesIndexed"
                    if photo
                    else "REMOVE faceId",
                    ConditionExpression="attribute_exists(PK)",
                    **({"ExpressionAttributeValues": {":none": [], ":nobox": {}}} if photo else {}),
                )
            except client.exceptions.ConditionalCheckFailedException:
                return False
            return True

        with ThreadPoolExecutor(SCRUB_WRITERS) as writers:
            return sum(writers.map(scrub_one, items))
