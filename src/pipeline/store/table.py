"""The DynamoDB single table: the only code that knows its keys (docs/data-model.md).

| item      | PK                          | SK                             |
| photo     | ORG#{orgId}#EVT#{eventId}   | PHOTO#{photoId}                |
| bib index | ORG#{orgId}#EVT#{eventId}   | BIB#{bib}#PHOTO#{photoId}      |  (+ faceId when linked)
| run faces | ORG#{orgId}#EVT#{eventId}   | FACES#{photoId}#{execution}    |  a run's faces until it ends
| settings  | ORG#{orgId}#EVT#{eventId}   | SETTINGS                       |  bibFirst, bibLast, participants
| erasure   | ORG#{orgId}#EVT#{eventId}   | ERASURE#{erasedAt}#{id}        |  pipeline.retention.erasure
| correction| ORG#{orgId}#EVT#{eventId}   | CORRECTION#{photoId}           |  pipeline.corrections.records
| timing    | ORG#{orgId}#EVT#{eventId}   | TIMING                         |  current import (timing_table)
| runner    | ORG#{orgId}#EVT#{eventId}   | TIMING#{import}#BIB#{bib}      |  name, passings
| name      | ORG#{orgId}#EVT#{eventId}   | TIMING#{import}#NAME#{w}#{bib} |  name search
| camera    | ORG#{orgId}#EVT#{eventId}   | CAMERA#{camera}                |  checkpoint, clock offset
| org key   | ORG#{orgId}                 | KEY#{keyId}                    |  pipeline.access.org_keys
| rate      | RATE#{client}               | {org}#{event}#{kind}#{window}  |  pipeline.access.ratelimit (TTL)
| registry  | EVENTS                      | ORG#{orgId}#EVT#{eventId}      |  pipeline.retention.faces
GalleryIndex (sparse): PK, galleryKey = {createdAt}#{photoId} on INDEXED photo items only.
ReviewIndex (sparse): PK, reviewKey = {rank}#{createdAt}#{photoId} on photos a person should look
at (pipeline.corrections.review), removed when one has.
CameraIndex (sparse): cameraKey = ORG#{orgId}#EVT#{eventId}#CAM#{camera}, cameraTime = the camera's
own time, on INDEXED photos with a camera and an EXIF time (pipeline.timing.rules).

The org is part of every partition key, so no query of one organiser can reach another's items.
"""

import random
import time
from decimal import Decimal

from boto3.dynamodb.conditions import Key

from pipeline.common.models import BibRead, PhotoItem

BATCH_SIZE = 25
GET_BATCH_SIZE = 100
GALLERY_INDEX = "GalleryIndex"
MAX_BATCH_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 5.0
PHOTO_PREFIX = "PHOTO#"
SETTINGS_SK = "SETTINGS"
RUN_FACES_PREFIX = "FACES#"
LONGER_BIBS_READ = 100  # items a second look reads for the longer bibs a partial read can be
ERASURE_PREFIX = "ERASURE#"
CORRECTION_PREFIX = "CORRECTION#"
REVIEW_INDEX = "ReviewIndex"
ORG_KEY_PREFIX = "KEY#"
REGISTRY_PK = "EVENTS"
CAMERA_INDEX = "CameraIndex"
TIMING_SK = "TIMING"
TIMING_PREFIX = "TIMING#"
CAMERA_PREFIX = "CAMERA#"
FACE_MATCHES_PREFIX = "FACEMATCH#"


def event_pk(org_id: str, event_id: str) -> str:
    return f"ORG#{org_id}#EVT#{event_id}"


def photo_sk(photo_id: str) -> str:
    return f"{PHOTO_PREFIX}{photo_id}"


def gallery_key(created_at: str, photo_id: str) -> str:
    """GalleryIndex sort key: newest first when read backwards; the photo id keeps it unique."""
    return f"{created_at}#{photo_id}"


def camera_key(org_id: str, event_id: str, camera: str) -> str:
    """CameraIndex partition: one camera's photos of one event, by the camera's own time."""
    return f"{event_pk(org_id, event_id)}#CAM#{camera}"


def timing_runner_sk(import_id: str, bib: str) -> str:
    return f"{TIMING_PREFIX}{import_id}#BIB#{bib}"


def timing_name_sk(import_id: str, word: str, bib: str = "") -> str:
    return f"{TIMING_PREFIX}{import_id}#NAME#{word}" + (f"#{bib}" if bib else "")


def run_faces_sk(photo_id: str, execution_name: str) -> str:
    return f"{RUN_FACES_PREFIX}{photo_id}#{execution_name}"


def bib_prefix(bib: str) -> str:
    return f"BIB#{bib}#PHOTO#"


def bib_sk(bib: str, photo_id: str) -> str:
    return f"{bib_prefix(bib)}{photo_id}"


def to_dynamo(value):
    """Floats become Decimal (DynamoDB's number type), recursively."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: to_dynamo(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [to_dynamo(inner) for inner in value]
    return value


class PhotoTable:
    def __init__(self, table, sleep=time.sleep):
        self.table = table
        self._sleep = sleep

    def get_photo(self, org_id: str, event_id: str, photo_id: str) -> dict | None:
        response = self.table.get_item(
            Key={"PK": event_pk(org_id, event_id), "SK": photo_sk(photo_id)}, ConsistentRead=True
        )
        return response.get("Item")

    def photos_with_bib(self, org_id: str, event_id: str, bib: str) -> list[dict]:
        """All bib-index items of a bib in one event."""
        return self._query_prefix(event_pk(org_id, event_id), bib_prefix(bib))

    def longer_bibs(self, org_id: str, event_id: str, bib: str, limit: int = LONGER_BIBS_READ) -> list[dict]:
        """Bib-index items of the bibs that start with `bib` and go on with a digit ("10264" for
        "1026"), at most `limit`: one page, bib, photoId and faceId only."""
        page = self.table.query(
            KeyConditionExpression=Key("PK").eq(event_pk(org_id, event_id))
            & Key("SK").between(f"BIB#{bib}0", f"BIB#{bib}9~"),
            ProjectionExpression="bib, photoId, faceId",
            Limit=limit,
        )
        return page.get("Items", [])

    def event_photos(self, org_id: str, event_id: str) -> list[dict]:
        """Every photo item of one event, whatever its status."""
        return self._query_prefix(event_pk(org_id, event_id), PHOTO_PREFIX)

    def record_run_faces(self, org_id: str, event_id: str, photo_id: str, execution: str, face_ids) -> None:
        """Note the faces a run indexed before the run uses them: if the step's answer is lost (a
        timeout) and it runs again, the run's end still finds and deletes the first faces."""
        if face_ids:
            self.table.update_item(
                Key={"PK": event_pk(org_id, event_id), "SK": run_faces_sk(photo_id, execution)},
                UpdateExpression="ADD faceIds :ids",
                ExpressionAttributeValues={":ids": set(face_ids)},
            )

    def run_notes(self, org_id: str, event_id: str, photo_id: str) -> dict[str, set[str]]:
        """Execution name -> face ids, for every run of the photo whose note is still there."""
        prefix = run_faces_sk(photo_id, "")
        return {
            item["SK"][len(prefix) :]: set(item.get("faceIds", set()))
            for item in self._query_prefix(event_pk(org_id, event_id), prefix, consistent=True)
        }

    def photos_with_runs_in_flight(self, org_id: str, event_id: str) -> set[str]:
        """Photo ids with a run-faces note: a run that indexed faces and has not finished."""
        notes = self._query_prefix(event_pk(org_id, event_id), RUN_FACES_PREFIX, consistent=True)
        return {item["SK"][len(RUN_FACES_PREFIX) :].split("#", 1)[0] for item in notes}

    def forget_runs(self, org_id: str, event_id: str, photo_id: str, executions) -> None:
        """Drop the face notes of runs that have ended."""
        pk = event_pk(org_id, event_id)
        self.delete_items(
            [{"PK": pk, "SK": run_faces_sk(photo_id, name)} for name in sorted(set(executions))]
        )

    def event_settings(self, org_id: str, event_id: str, consistent: bool = False) -> dict | None:
        """The event's settings item (pipeline.events.settings), None when it has none."""
        key = {"PK": event_pk(org_id, event_id), "SK": SETTINGS_SK}
        return self.table.get_item(Key=key, ConsistentRead=consistent).get("Item")

    def face_matches(self, org_id: str, event_id: str, bib: str) -> dict | None:
        """A bib search's cached face matches (pipeline.search.photos), None when there are none."""
        key = {"PK": event_pk(org_id, event_id), "SK": f"{FACE_MATCHES_PREFIX}{bib}"}
        return self.table.get_item(Key=key).get("Item")

    def put_face_matches(
        self, org_id: str, event_id: str, bib: str, linked: list[str], matches: list, expires_at: int
    ) -> None:
        """Cache a bib's face matches ([photoId, faceId, similarity]) for the faces linked to it."""
        self.table.update_item(  # UpdateItem: the search's role writes its counters the same way
            Key={"PK": event_pk(org_id, event_id), "SK": f"{FACE_MATCHES_PREFIX}{bib}"},
            UpdateExpression="SET linkedFaces = :linked, matches = :matches, expiresAt = :expires",
            ExpressionAttributeValues=to_dynamo(
                {":linked": linked, ":matches": matches, ":expires": expires_at}
            ),
        )

    def note_upload(self, org_id: str, event_id: str, at: str) -> None:
        """The event's last indexed upload (the event registry, pipeline.retention.faces)."""
        self.table.update_item(
            Key={"PK": REGISTRY_PK, "SK": event_pk(org_id, event_id)},
            UpdateExpression="SET lastUploadAt = :at, orgId = :org, eventId = :event",
            ExpressionAttributeValues={":at": at, ":org": org_id, ":event": event_id},
        )

    def note_faces_deleted(self, org_id: str, event_id: str, at: str) -> None:
        self.table.update_item(
            Key={"PK": REGISTRY_PK, "SK": event_pk(org_id, event_id)},
            UpdateExpression="SET facesDeletedAt = :at",
            ExpressionAttributeValues={":at": at},
        )

    def registered_events(self) -> list[dict]:
        """Every event that has had an indexed upload, with its retention dates."""
        return self._query_prefix(REGISTRY_PK, "")

    def count_hit(self, client: str, scope: str, window: int, limit: int, expires_at: int) -> bool:
        """One more request of a client in a time window (pipeline.access.ratelimit); False once `limit`
        requests were counted in it. The counter item expires with DynamoDB's TTL."""
        try:
            self.table.update_item(
                Key={"PK": f"RATE#{client}", "SK": f"{scope}#{window}"},
                UpdateExpression="ADD hits :one SET expiresAt = if_not_exists(expiresAt, :expires)",
                ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
                ExpressionAttributeValues={":one": 1, ":limit": limit, ":expires": expires_at},
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def faces_on(self, org_id: str, event_id: str) -> bool:
        """Whether the event's face search is on, read consistently: turning it off holds at once."""
        item = self.event_settings(org_id, event_id, consistent=True) or {}
        return item.get("faceSearch") != "off"

    def put_event_settings(self, org_id: str, event_id: str, attributes: dict) -> None:
        """Replace the event's settings; no attributes deletes them."""
        key = {"PK": event_pk(org_id, event_id), "SK": SETTINGS_SK}
        if attributes:
            self.table.put_item(Item={**key, **attributes})
        else:
            self.table.delete_item(Key=key)

    def erasures(self, org_id: str, event_id: str) -> list[dict]:
        """The event's erasure records (pipeline.retention.erasure), read consistently: an erasure must hold
        from the moment it is recorded."""
        return self._query_prefix(event_pk(org_id, event_id), ERASURE_PREFIX, consistent=True)

    def correction(self, org_id: str, event_id: str, photo_id: str) -> dict | None:
        """The photo's correction record (pipeline.corrections.records), read consistently: a person's
        correction holds from the moment it is written."""
        key = {"PK": event_pk(org_id, event_id), "SK": f"{CORRECTION_PREFIX}{photo_id}"}
        return self.table.get_item(Key=key, ConsistentRead=True).get("Item")

    def put_correction(self, org_id: str, event_id: str, photo_id: str, record: dict) -> None:
        key = {"PK": event_pk(org_id, event_id), "SK": f"{CORRECTION_PREFIX}{photo_id}"}
        self.table.put_item(Item=to_dynamo({**record, **key, "photoId": photo_id}))

    def photo_bibs(self, org_id: str, event_id: str, photo_id: str, bibs) -> list[dict]:
        """The bib items of one photo (its item's `bibs`), read consistently."""
        pk, name = event_pk(org_id, event_id), self.table.name
        keys = [{"PK": pk, "SK": bib_sk(bib, photo_id)} for bib in sorted(set(bibs))]
        if not keys:
            return []
        response = self.table.meta.client.batch_get_item(
            RequestItems={name: {"Keys": keys, "ConsistentRead": True}}
        )
        if response.get("UnprocessedKeys"):  # at most a few dozen keys: one retry, then a clear error
            response = self.table.meta.client.batch_get_item(RequestItems=response["UnprocessedKeys"])
        items = response.get("Responses", {}).get(name, [])
        return [{k: v for k, v in item.items() if k not in ("PK", "SK", "photoId")} for item in items]

    def write_corrected(self, photo: dict, bibs: list[dict], reviewed: dict | None) -> bool:
        """A corrected photo's bib items and its item's `bibs` in one transaction, only if no run
        wrote the photo since it was read (False then: read it again); `reviewed` takes it out of
        the review queue."""
        pk, photo_id = photo["PK"], photo["photoId"]
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
                    "TableName": self.table.name,
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
            actions.append({"Put": {"TableName": self.table.name, "Item": item}})
        for bib in sorted(set(photo.get("bibs", [])) - {read["bib"] for read in bibs}):
            actions.append(
                {"Delete": {"TableName": self.table.name, "Key": {"PK": pk, "SK": bib_sk(bib, photo_id)}}}
            )
        try:
            self.table.meta.client.transact_write_items(TransactItems=actions)
        except self.table.meta.client.exceptions.TransactionCanceledException:
            return False
        return True

    def review_queue(self, org_id: str, event_id: str, limit: int) -> list[dict]:
        """The event's photos a person should look at, most useful first (ReviewIndex)."""
        page = self.table.query(
            IndexName=REVIEW_INDEX,
            KeyConditionExpression=Key("PK").eq(event_pk(org_id, event_id)),
            Limit=limit,
        )
        return page.get("Items", [])

    def put_erasure(
        self, org_id: str, event_id: str, erased_at: str, request_id: str, attributes: dict
    ) -> None:
        key = {"PK": event_pk(org_id, event_id), "SK": f"{ERASURE_PREFIX}{erased_at}#{request_id}"}
        self.table.put_item(Item=to_dynamo({**key, "erasedAt": erased_at, **attributes}))

    def org_key(self, org_id: str, key_id: str) -> dict | None:
        """An organiser key's record (access.org_keys), read consistently: a revocation holds at once."""
        key = {"PK": f"ORG#{org_id}", "SK": f"{ORG_KEY_PREFIX}{key_id}"}
        return self.table.get_item(Key=key, ConsistentRead=True).get("Item")

    def org_keys(self, org_id: str) -> list[dict]:
        return self._query_prefix(f"ORG#{org_id}", ORG_KEY_PREFIX, consistent=True)

    def put_org_key(self, org_id: str, key_id: str, secret_hash: str, created_at: str) -> None:
        item = {"PK": f"ORG#{org_id}", "SK": f"{ORG_KEY_PREFIX}{key_id}", "orgId": org_id, "keyId": key_id}
        self.table.put_item(Item={**item, "secretHash": secret_hash, "createdAt": created_at})

    def revoke_org_key(self, org_id: str, key_id: str, revoked_at: str) -> bool:
        """Mark the key revoked; False when there is no such key."""
        try:
            self.table.update_item(
                Key={"PK": f"ORG#{org_id}", "SK": f"{ORG_KEY_PREFIX}{key_id}"},
                UpdateExpression="SET revokedAt = if_not_exists(revokedAt, :now)",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":now": revoked_at},
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def event_items(self, org_id: str, event_id: str) -> list[dict]:
        """Every item of one event (photos, bib index, run notes, settings): what an event purge deletes."""
        return self._query_prefix(event_pk(org_id, event_id), "", consistent=True)

    def delete_items(self, item_keys: list[dict]) -> None:
        self._batch_write([{"DeleteRequest": {"Key": {"PK": k["PK"], "SK": k["SK"]}}} for k in item_keys])

    def forget_faces(
        self, org_id: str, event_id: str, face_ids: set[str], items: list[dict] | None = None
    ) -> int:
        """Remove these faces from photo items and their links from bib items (a runner's
        erasure); the number of items changed. `items`: the event's items, when just read."""
        changed = 0
        for item in self.event_items(org_id, event_id) if items is None else items:
            key = {"PK": item["PK"], "SK": item["SK"]}
            if item["SK"].startswith(PHOTO_PREFIX) and face_ids & set(item.get("faceIds", [])):
                kept = sorted(set(item["faceIds"]) - face_ids)
                boxes = {face: box for face, box in (item.get("faceBoxes") or {}).items() if face in kept}
                self.table.update_item(
                    Key=key,
                    UpdateExpression="SET faceIds = :kept, faceBoxes = :boxes",
                    ExpressionAttributeValues={":kept": kept, ":boxes": boxes},
                )
                changed += 1
            elif item.get("faceId") in face_ids:
                self.table.update_item(Key=key, UpdateExpression="REMOVE faceId")
                changed += 1
        self.forget_face_matches(org_id, event_id)  # any a search kept while the faces went
        return changed

    def forget_face_matches(self, org_id: str, event_id: str) -> None:
        """Delete the event's cached face matches (pipeline.search.photos): erasure, face search off and
        retention clear them before the faces go, never waiting for their TTL (a new run or a
        deleted photo needs not: the search checks each match against the photo item, rewritten
        first). As many items as bibs searched in the last FACE_MATCHES_SECONDS, until TTL tidies."""
        keys = self._query_prefix(event_pk(org_id, event_id), FACE_MATCHES_PREFIX, keys_only=True)
        self._batch_write([{"DeleteRequest": {"Key": {"PK": k["PK"], "SK": k["SK"]}}} for k in keys])

    def forget_all_faces(self, org_id: str, event_id: str) -> int:
        """No face ids on the event's photos and no face links on its bibs (face search turned
        off, or retention passed); the number of items changed."""
        items = self.event_items(org_id, event_id)
        faces = {face for item in items for face in item.get("faceIds", [])}
        faces |= {item["faceId"] for item in items if item.get("faceId")}
        return self.forget_faces(org_id, event_id, faces, items) if faces else 0

    def _query_prefix(
        self, pk: str, sk_prefix: str, consistent: bool = False, keys_only: bool = False
    ) -> list[dict]:
        """Every item under pk whose SK starts with sk_prefix. `consistent`: a strongly consistent
        read, for what a run just wrote (a retried IndexFaces's note of faces it must not leave
        behind); the default eventually consistent read costs half as much. `keys_only`: PK and
        SK alone (what a delete needs)."""
        items, start = [], None
        while True:
            condition = Key("PK").eq(pk)
            page = self.table.query(
                KeyConditionExpression=condition & Key("SK").begins_with(sk_prefix)
                if sk_prefix
                else condition,
                ConsistentRead=consistent,
                **({"ProjectionExpression": "PK, SK"} if keys_only else {}),
                **({"ExclusiveStartKey": start} if start else {}),
            )
            items.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    def replace_photo(self, photo: PhotoItem, bibs: list[BibRead], previous: PhotoItem | None) -> None:
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
        self._batch_write(
            [{"PutRequest": {"Item": to_dynamo(item)}} for item in puts]
            + [{"DeleteRequest": {"Key": key}} for key in deletes]
        )

    def delete_photo(self, org_id: str, event_id: str, photo_id: str, previous: PhotoItem | None) -> None:
        pk = event_pk(org_id, event_id)
        keys = [{"PK": pk, "SK": bib_sk(bib, photo_id)} for bib in (previous or {}).get("bibs", [])]
        keys.append({"PK": pk, "SK": photo_sk(photo_id)})
        self._batch_write([{"DeleteRequest": {"Key": key}} for key in keys])

    def gallery(self, org_id: str, event_id: str, limit: int, start_key: dict | None = None):
        """One page of the event's indexed photos, newest first: (items, key to continue from)."""
        page = self.table.query(
            IndexName=GALLERY_INDEX,
            KeyConditionExpression=Key("PK").eq(event_pk(org_id, event_id)),
            ScanIndexForward=False,
            Limit=limit,
            **({"ExclusiveStartKey": start_key} if start_key else {}),
        )
        return page.get("Items", []), page.get("LastEvaluatedKey")

    def get_photos(self, org_id: str, event_id: str, photo_ids) -> dict[str, dict]:
        """Photo items by id (BatchGetItem in 100s); ids with no item are left out."""
        pk = event_pk(org_id, event_id)
        keys = [{"PK": pk, "SK": photo_sk(photo_id)} for photo_id in sorted(set(photo_ids))]
        return {item["photoId"]: item for item in self._batch_get(keys)}

    def _batch_get(self, keys: list[dict]) -> list[dict]:
        """The items with these keys (BatchGetItem in 100s, unprocessed keys resent); missing ones
        are left out."""
        name, found = self.table.name, []

        def send(pending: list[dict]) -> list[dict]:
            response = self.table.meta.client.batch_get_item(RequestItems={name: {"Keys": pending}})
            found.extend(response.get("Responses", {}).get(name, []))
            return response.get("UnprocessedKeys", {}).get(name, {}).get("Keys", [])

        for start in range(0, len(keys), GET_BATCH_SIZE):
            self._until_processed(send, keys[start : start + GET_BATCH_SIZE], "reads")
        return found

    def _batch_write(self, requests: list[dict]) -> None:
        """BatchWriteItem in 25s."""
        name = self.table.name

        def send(pending: list[dict]) -> list[dict]:
            response = self.table.meta.client.batch_write_item(RequestItems={name: pending})
            return response.get("UnprocessedItems", {}).get(name, [])

        for start in range(0, len(requests), BATCH_SIZE):
            self._until_processed(send, requests[start : start + BATCH_SIZE], "writes")

    def _until_processed(self, send, pending: list[dict], what: str) -> None:
        """Resend what DynamoDB left unprocessed, with full-jitter backoff."""
        for attempt in range(MAX_BATCH_ATTEMPTS):
            pending = send(pending)
            if not pending:
                return
            self._sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)))
        raise RuntimeError(
            f"DynamoDB left {len(pending)} {what} unprocessed after {MAX_BATCH_ATTEMPTS} attempts"
        )
