"""What people decided about photos: corrections, the review queue, and runners' erasures.

| correction| ORG#{orgId}#EVT#{eventId}   | CORRECTION#{photoId}        |  pipeline.corrections.records
| erasure   | ORG#{orgId}#EVT#{eventId}   | ERASURE#{erasedAt}#{id}     |  pipeline.retention.erasure

ReviewIndex (sparse): PK, reviewKey = {rank}#{createdAt}#{photoId} on photos a person should look
at (pipeline.corrections.review), removed when one has.
"""

from boto3.dynamodb.conditions import Key

from pipeline.store.core import Items, event_pk, to_dynamo
from pipeline.store.photos import bib_sk

CORRECTION_PREFIX = "CORRECTION#"
ERASURE_PREFIX = "ERASURE#"
REVIEW_INDEX = "ReviewIndex"


def review_key(rank: int, created_at: str, photo_id: str) -> str:
    """The ReviewIndex sort key: the most useful reason's rank, then the oldest photo first."""
    return f"{rank:02d}#{created_at}#{photo_id}"


class Corrections(Items):
    def get(self, org_id: str, event_id: str, photo_id: str) -> dict | None:
        """The photo's correction record, read consistently: a person's correction holds from the
        moment it is written."""
        key = {"PK": event_pk(org_id, event_id), "SK": f"{CORRECTION_PREFIX}{photo_id}"}
        return self.core.get(key, consistent=True)

    def put(self, org_id: str, event_id: str, photo_id: str, record: dict) -> None:
        key = {"PK": event_pk(org_id, event_id), "SK": f"{CORRECTION_PREFIX}{photo_id}"}
        self.core.table.put_item(Item=to_dynamo({**record, **key, "photoId": photo_id}))

    def write_corrected(self, photo: dict, bibs: list[dict], reviewed: dict | None) -> bool:
        """A corrected photo's bib items and its item's `bibs` in one transaction, only if no run
        wrote the photo since it was read (False then: read it again); `reviewed` takes it out of
        the review queue."""
        pk, photo_id, name = photo["PK"], photo["photoId"], self.core.table.name
        names = {"#bibs": "bibs", "#exec": "executionName"}
        values = {":bibs": [read["bib"] for read in bibs], ":exec": photo.get("executionName", "")}
        update = "SET #bibs = :bibs"
        if reviewed:
            update += ", reviewed = :reviewed REMOVE reviewKey"
            values[":reviewed"] = reviewed
        # the resource's client (un)marshals attribute values itself, as for batch_get_item
        actions = [
            {
                "Update": {
                    "TableName": name,
                    "Key": {"PK": pk, "SK": photo["SK"]},
                    "UpdateExpression": update,
                    "ConditionExpression": "#exec = :exec",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": to_dynamo(values),
                }
            }
        ]
        for read in bibs:
            item = to_dynamo({"PK": pk, "SK": bib_sk(read["bib"], photo_id), "photoId": photo_id, **read})
            actions.append({"Put": {"TableName": name, "Item": item}})
        for bib in sorted(set(photo.get("bibs", [])) - {read["bib"] for read in bibs}):
            actions.append({"Delete": {"TableName": name, "Key": {"PK": pk, "SK": bib_sk(bib, photo_id)}}})
        try:
            self.core.client.transact_write_items(TransactItems=actions)
        except self.core.client.exceptions.TransactionCanceledException:
            return False
        return True

    def review_queue(self, org_id: str, event_id: str, limit: int) -> list[dict]:
        """The event's photos a person should look at, most useful first (ReviewIndex)."""
        page = self.core.table.query(
            IndexName=REVIEW_INDEX,
            KeyConditionExpression=Key("PK").eq(event_pk(org_id, event_id)),
            Limit=limit,
        )
        return page.get("Items", [])


class Erasures(Items):
    def of_event(self, org_id: str, event_id: str) -> list[dict]:
        """The event's erasure records, read consistently: an erasure must hold from the moment
        it is recorded."""
        return self.core.query_prefix(event_pk(org_id, event_id), ERASURE_PREFIX, consistent=True)

    def put(self, org_id: str, event_id: str, erased_at: str, request_id: str, attributes: dict) -> None:
        key = {"PK": event_pk(org_id, event_id), "SK": f"{ERASURE_PREFIX}{erased_at}#{request_id}"}
        self.core.table.put_item(Item=to_dynamo({**key, "erasedAt": erased_at, **attributes}))
