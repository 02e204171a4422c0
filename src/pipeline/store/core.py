"""The single table's core: the boto3 table, the partition of an event, and the reads and writes
every item kind shares (queries by prefix, batches with backoff). The item kinds are the other
modules of pipeline.store; they alone build or parse a PK or SK (docs/data-model.md)."""

import random
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from boto3.dynamodb.conditions import Key

BATCH_SIZE = 25
GET_BATCH_SIZE = 100
MAX_BATCH_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 5.0


def event_pk(org_id: str, event_id: str) -> str:
    """The partition of one event's items: the org is part of every key, so no query of one
    organiser can reach another's items."""
    return f"ORG#{org_id}#EVT#{event_id}"


def org_pk(org_id: str) -> str:
    return f"ORG#{org_id}"


def to_dynamo(value):
    """Floats become Decimal (DynamoDB's number type), recursively."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: to_dynamo(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [to_dynamo(inner) for inner in value]
    return value


def from_dynamo(value):
    """DynamoDB's numbers back as floats (ints stay ints), recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: from_dynamo(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [from_dynamo(inner) for inner in value]
    return value


def item_key(item: dict) -> dict:
    return {"PK": item["PK"], "SK": item["SK"]}


class TableCore:
    """The boto3 Table resource and the operations over many items."""

    def __init__(self, table, sleep=time.sleep):
        self.table = table
        self._sleep = sleep

    @property
    def client(self):
        return self.table.meta.client

    def get(self, key: dict, consistent: bool = False) -> dict | None:
        return self.table.get_item(Key=key, ConsistentRead=consistent).get("Item")

    def query_prefix(
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

    def event_items(self, org_id: str, event_id: str) -> list[dict]:
        """Every item of one event (photos, bib index, run notes, settings, ...), in memory: for a
        small event only (a soak's check, tests); a purge pages through them (event_keys)."""
        return self.query_prefix(event_pk(org_id, event_id), "", consistent=True)

    def event_keys(self, org_id: str, event_id: str, limit: int) -> list[dict]:
        """The keys of the event's first `limit` items, strongly consistent: a page of an event
        purge (pipeline.jobs.purge), which deletes what it reads, so the next page reads from the
        start again. DynamoDB charges for the items read, not for the keys returned."""
        found: list[dict] = []
        start = None
        while len(found) < limit:
            page = self.table.query(
                KeyConditionExpression=Key("PK").eq(event_pk(org_id, event_id)),
                ConsistentRead=True,
                ProjectionExpression="PK, SK",
                Limit=limit - len(found),
                **({"ExclusiveStartKey": start} if start else {}),
            )
            found.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return found

    def count_event_items(self, org_id: str, event_id: str) -> int:
        """How many items the event has (Select COUNT: DynamoDB reads them, returns none)."""
        count, start = 0, None
        while True:
            page = self.table.query(
                KeyConditionExpression=Key("PK").eq(event_pk(org_id, event_id)),
                Select="COUNT",
                **({"ExclusiveStartKey": start} if start else {}),
            )
            count += page["Count"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return count

    def delete_items(self, item_keys: list[dict], writers: int = 1) -> None:
        self.batch_write([{"DeleteRequest": {"Key": item_key(k)}} for k in item_keys], writers)

    def batch_get(self, keys: list[dict], consistent: bool = False) -> list[dict]:
        """The items with these keys (BatchGetItem in 100s, unprocessed keys resent); missing ones
        are left out."""
        name, found = self.table.name, []

        def send(pending: list[dict]) -> list[dict]:
            request = {"Keys": pending, **({"ConsistentRead": True} if consistent else {})}
            response = self.client.batch_get_item(RequestItems={name: request})
            found.extend(response.get("Responses", {}).get(name, []))
            return response.get("UnprocessedKeys", {}).get(name, {}).get("Keys", [])

        for start in range(0, len(keys), GET_BATCH_SIZE):
            self._until_processed(send, keys[start : start + GET_BATCH_SIZE], "reads")
        return found

    def batch_write(self, requests: list[dict], writers: int = 1) -> None:
        """BatchWriteItem in 25s, `writers` at once (a client is thread-safe): many items on an
        operator's command or a job's page, where one request after another would take minutes."""
        name = self.table.name

        def send(pending: list[dict]) -> list[dict]:
            response = self.client.batch_write_item(RequestItems={name: pending})
            return response.get("UnprocessedItems", {}).get(name, [])

        def write(batch: list[dict]) -> None:
            self._until_processed(send, batch, "writes")

        batches = [requests[start : start + BATCH_SIZE] for start in range(0, len(requests), BATCH_SIZE)]
        if writers <= 1 or len(batches) <= 1:
            for batch in batches:
                write(batch)
            return
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(write, batches))

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


class Items:
    """One kind of item (the other modules of pipeline.store), over the shared core."""

    def __init__(self, core: TableCore):
        self.core = core
