"""Face data on the table's items: face ids on photo items, face links on bib items, and the
face matches a bib search keeps. Every deletion path (erasure, face search off, retention, purge)
goes through `FaceData.forget`, which also clears the cached matches.

| face matches | ORG#{orgId}#EVT#{eventId} | FACEMATCH#{bib} |  linkedFaces, matches, expiresAt
"""

from pipeline.store.core import Items, event_pk, item_key, to_dynamo
from pipeline.store.photos import is_photo

FACE_MATCHES_PREFIX = "FACEMATCH#"


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

    def forget(self, org_id: str, event_id: str, face_ids: set[str], items: list[dict] | None = None) -> int:
        """Remove these faces from photo items and their links from bib items (a runner's
        erasure); the number of items changed. `items`: the event's items, when just read."""
        changed = 0
        for item in self.core.event_items(org_id, event_id) if items is None else items:
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

    def forget_all(self, org_id: str, event_id: str) -> int:
        """No face ids on the event's photos and no face links on its bibs (face search turned
        off, or retention passed); the number of items changed."""
        items = self.core.event_items(org_id, event_id)
        faces = {face for item in items for face in item.get("faceIds", [])}
        faces |= {item["faceId"] for item in items if item.get("faceId")}
        return self.forget(org_id, event_id, faces, items) if faces else 0
