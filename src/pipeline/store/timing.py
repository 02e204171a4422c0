"""The timing items of the single table: an event's imported results, its runners' names, its
cameras, and CameraIndex (docs/data-model.md).

| timing    | ORG#{orgId}#EVT#{eventId}   | TIMING                         |  the current import
| runner    | ORG#{orgId}#EVT#{eventId}   | TIMING#{import}#BIB#{bib}      |  name, passings
| name      | ORG#{orgId}#EVT#{eventId}   | TIMING#{import}#NAME#{w}#{bib} |  name search
| camera    | ORG#{orgId}#EVT#{eventId}   | CAMERA#{camera}                |  checkpoint, clock offset

An import is written under its own id and becomes current with one write of the TIMING item, so
a search never sees half of one; the items of earlier imports are deleted after. Names (personal
data) live only on the runner and name-search items, under the event's partition: an event purge
deletes them with everything else.
"""

import datetime
import secrets
from decimal import Decimal

from boto3.dynamodb.conditions import Key

from pipeline.store.core import Items, event_pk, to_dynamo
from pipeline.store.photos import camera_key
from pipeline.timing.rules import (
    OffsetEstimate,
    Results,
    Runner,
    full_name_matches,
    name_matches,
    name_tokens,
)

NAME_PAGE = 100  # name-search items read per query page
MAX_NAME_PAGES = 3  # a stranger's "a b" must not read every name of a 30,000-runner event
CAMERA_INDEX = "CameraIndex"
IMPORT_WRITERS = 8  # BatchWriteItem requests at once: 40,000 runners are ~5,000 batches each way
TIMING_SK = "TIMING"
TIMING_PREFIX = "TIMING#"
CAMERA_PREFIX = "CAMERA#"


def timing_runner_sk(import_id: str, bib: str) -> str:
    return f"{TIMING_PREFIX}{import_id}#BIB#{bib}"


def timing_name_sk(import_id: str, word: str, bib: str = "") -> str:
    return f"{TIMING_PREFIX}{import_id}#NAME#{word}" + (f"#{bib}" if bib else "")


class ImportRaced(RuntimeError):
    """Another import became current while this one was being written."""


class TimingItems(Items):
    def current(self, org_id: str, event_id: str, consistent: bool = False) -> dict | None:
        """The TIMING item: the current import's id, when, and its counts."""
        key = {"PK": event_pk(org_id, event_id), "SK": TIMING_SK}
        return self.core.table.get_item(Key=key, ConsistentRead=consistent).get("Item")

    def replace_results(self, org_id: str, event_id: str, results: Results, source: str) -> dict:
        """Write the results as a new import, make it current, then delete every earlier one."""
        pk = event_pk(org_id, event_id)
        previous = self.current(org_id, event_id, consistent=True)
        now = datetime.datetime.now(datetime.UTC)
        import_id = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        items: list[dict] = []
        for runner in results.runners.values():
            item: dict = {"PK": pk, "SK": timing_runner_sk(import_id, runner.bib), "bib": runner.bib}
            item["passings"] = runner.passings
            if runner.name:
                item["name"] = runner.name
                for word in sorted(set(name_tokens(runner.name))):
                    items.append(
                        {
                            "PK": pk,
                            "SK": timing_name_sk(import_id, word, runner.bib),
                            "bib": runner.bib,
                            "name": runner.name,
                        }  # fmt: skip
                    )
            items.append(item)
        self.core.batch_write([{"PutRequest": {"Item": item}} for item in items], writers=IMPORT_WRITERS)
        summary = {
            "importId": import_id,
            "importedAt": now.isoformat(timespec="seconds"),
            "source": source[:200],
            "runners": len(results.runners),
            "passings": results.rows,
            "named": sum(1 for runner in results.runners.values() if runner.name),
            "checkpoints": results.checkpoints,
        }
        condition = "attribute_not_exists(PK)" if previous is None else "importId = :previous"
        try:
            self.core.table.put_item(
                Item={"PK": pk, "SK": TIMING_SK, **summary},
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": {":previous": previous["importId"]}} if previous else {}),
            )
        except self.core.table.meta.client.exceptions.ConditionalCheckFailedException:
            self._delete_imports(pk, keep=None, only=import_id)
            raise ImportRaced("another timing import finished meanwhile: run the import again") from None
        self._delete_imports(pk, keep=import_id)
        return summary

    def _delete_imports(self, pk: str, keep: str | None, only: str | None = None) -> None:
        """Delete the runner and name items of every import but `keep` (or of `only`)."""
        prefix = f"{TIMING_PREFIX}{only}#" if only else TIMING_PREFIX
        items = self.core.query_prefix(pk, prefix, keys_only=True)
        self.core.delete_items(
            [i for i in items if not keep or not i["SK"].startswith(f"{TIMING_PREFIX}{keep}#")],
            writers=IMPORT_WRITERS,
        )

    def runner(self, org_id: str, event_id: str, import_id: str, bib: str) -> Runner | None:
        key = {"PK": event_pk(org_id, event_id), "SK": timing_runner_sk(import_id, bib)}
        item = self.core.table.get_item(Key=key).get("Item")
        return _runner(item) if item else None

    def runners(self, org_id: str, event_id: str, import_id: str, bibs) -> dict[str, Runner]:
        """Runners by bib (BatchGetItem); bibs with no result are left out."""
        pk = event_pk(org_id, event_id)
        keys = [{"PK": pk, "SK": timing_runner_sk(import_id, bib)} for bib in sorted(set(bibs))]
        return {item["bib"]: _runner(item) for item in self.core.batch_get(keys)}

    def all_runners(self, org_id: str, event_id: str, import_id: str) -> list[Runner]:
        items = self.core.query_prefix(event_pk(org_id, event_id), f"{TIMING_PREFIX}{import_id}#BIB#")
        return [_runner(item) for item in items]

    def named(self, org_id: str, event_id: str, import_id: str, words: list[str], limit: int) -> list[dict]:
        """Runners whose name has a word starting with each of `words` ({bib, name}, by name): one
        Query on the longest word's prefix, read until `limit` are found or MAX_NAME_PAGES read."""
        prefix = timing_name_sk(import_id, max(words, key=len))
        found, _ = self._names(org_id, event_id, prefix, lambda name: name_matches_all(words, name), limit)
        ranked = sorted(found.items(), key=lambda pair: (pair[1].casefold(), pair[0]))
        return [{"bib": bib, "name": name} for bib, name in ranked[:limit]]

    def named_in_full(
        self, org_id: str, event_id: str, import_id: str, words: list[str]
    ) -> tuple[list[dict], bool]:
        """(runners whose full name the words are (timing.full_name_matches) as {bib, name}, whether
        every item of the longest word was read): one Query on that word as a whole word, at most
        MAX_NAME_PAGES pages; it stops at a second runner (a name two runners share answers nobody)."""
        prefix = timing_name_sk(import_id, max(words, key=len)) + "#"
        found, complete = self._names(
            org_id, event_id, prefix, lambda name: full_name_matches(words, name_tokens(name)), 2
        )
        return [{"bib": bib, "name": name} for bib, name in sorted(found.items())], complete

    def _names(self, org_id: str, event_id: str, prefix: str, matches, enough: int) -> tuple[dict, bool]:
        """({bib: name} of the name items under `prefix` whose name `matches`, whether all were read):
        pages of NAME_PAGE until `enough` are found or MAX_NAME_PAGES are read."""
        condition = Key("PK").eq(event_pk(org_id, event_id)) & Key("SK").begins_with(prefix)
        found: dict[str, str] = {}
        start = None
        for _ in range(MAX_NAME_PAGES):
            page = self.core.table.query(
                KeyConditionExpression=condition,
                Limit=NAME_PAGE,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            for item in page.get("Items", []):
                if matches(item["name"]):
                    found.setdefault(item["bib"], item["name"])
            start = page.get("LastEvaluatedKey")
            if not start or len(found) >= enough:
                break
        return found, start is None

    def cameras(self, org_id: str, event_id: str) -> list[dict]:
        """Every camera assigned to a checkpoint: camera, checkpoint, clockOffset (set by hand),
        estimate ({offset, spread, photos, candidates})."""
        return self.core.query_prefix(event_pk(org_id, event_id), CAMERA_PREFIX, consistent=True)

    def put_camera(
        self, org_id: str, event_id: str, camera: str, checkpoint: str, offset: float | None
    ) -> None:
        """Assign a camera to a checkpoint, with a clock offset set by hand or none (estimated)."""
        key = {"PK": event_pk(org_id, event_id), "SK": f"{CAMERA_PREFIX}{camera}"}
        names = {"#cp": "checkpoint", "#cam": "camera"}
        values: dict[str, str | Decimal] = {":cp": checkpoint, ":cam": camera}
        update = "SET #cp = :cp, #cam = :cam"
        if offset is None:
            update += " REMOVE clockOffset"
        else:
            update += ", clockOffset = :offset"
            values[":offset"] = Decimal(str(offset))
        self.core.table.update_item(
            Key=key, UpdateExpression=update, ExpressionAttributeNames=names, ExpressionAttributeValues=values
        )

    def put_estimate(self, org_id: str, event_id: str, camera: str, estimate: OffsetEstimate | None) -> None:
        key = {"PK": event_pk(org_id, event_id), "SK": f"{CAMERA_PREFIX}{camera}"}
        if estimate is None:
            self.core.table.update_item(Key=key, UpdateExpression="REMOVE estimate")
            return
        value = to_dynamo(
            {
                "offset": estimate.offset,
                "spread": estimate.spread,
                "photos": estimate.photos,
                "candidates": estimate.candidates,
            }  # fmt: skip
        )
        self.core.table.update_item(
            Key=key,
            UpdateExpression="SET estimate = :estimate",
            ExpressionAttributeValues={":estimate": value},
        )

    def camera_photos(
        self, org_id: str, event_id: str, camera: str, first: str | None = None, last: str | None = None
    ) -> list[dict]:
        """The camera's indexed photos ({photoId, cameraTime, bibs, faceIds}) taken between two of
        its own times (CameraIndex), or all of them."""
        condition = Key("cameraKey").eq(camera_key(org_id, event_id, camera))
        if first is not None and last is not None:
            condition &= Key("cameraTime").between(first, last)
        items, start = [], None
        while True:
            page = self.core.table.query(
                IndexName=CAMERA_INDEX,
                KeyConditionExpression=condition,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            items += page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return items


def name_matches_all(words: list[str], name: str) -> bool:
    return name_matches(words, name_tokens(name))


def _runner(item: dict) -> Runner:
    passings = {cp: list(times) for cp, times in (item.get("passings") or {}).items()}
    return Runner(item["bib"], item.get("name"), passings)
