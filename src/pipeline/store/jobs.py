"""Background jobs' items: what a job was asked, where it is, and how far it got.

| item | PK                        | SK             |
| job  | ORG#{orgId}#EVT#{eventId} | JOB#{jobId}    |

jobId sorts by start (R{microseconds since the epoch}); the latest job of an event is the last.
"""

from pipeline.store.core import Items, event_pk, from_dynamo, to_dynamo

JOB_PREFIX = "JOB#"


class Jobs(Items):
    def start(self, org_id: str, event_id: str, job_id: str, kind: str, options: dict, now: str) -> dict:
        item = {
            "PK": event_pk(org_id, event_id),
            "SK": f"{JOB_PREFIX}{job_id}",
            "orgId": org_id,
            "eventId": event_id,
            "jobId": job_id,
            "kind": kind,
            "options": options,
            "state": "running",
            "enqueued": 0,
            "started": 0,
            "pages": 0,
            "startedAt": now,
            "updatedAt": now,
        }
        self.core.table.put_item(Item=to_dynamo(item))
        return item

    def get(self, org_id: str, event_id: str, job_id: str) -> dict | None:
        item = self.core.get(
            {"PK": event_pk(org_id, event_id), "SK": f"{JOB_PREFIX}{job_id}"}, consistent=True
        )
        return from_dynamo(item) if item else None

    def of_event(self, org_id: str, event_id: str) -> list[dict]:
        """Every job of the event, oldest first (a few: one per operator's run)."""
        items = self.core.query_prefix(event_pk(org_id, event_id), JOB_PREFIX, consistent=True)
        return [from_dynamo(item) for item in items]

    def claim_page(
        self, org_id: str, event_id: str, job_id: str, page: int, enqueued: int, cursor: dict | None, now: str
    ) -> dict | None:
        """Record page number `page` (from 1) as done, with where the next starts: None when a
        delivery of the same message did already (then the job item as it is). Set, not added: a
        page done twice counts once."""
        try:
            self.core.table.update_item(
                Key={"PK": event_pk(org_id, event_id), "SK": f"{JOB_PREFIX}{job_id}"},
                UpdateExpression="SET pages = :page, enqueued = :enqueued, nextCursor = :cursor, "
                "#state = :state, updatedAt = :now",
                ConditionExpression="attribute_exists(PK) AND pages < :page",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":page": page,
                    ":enqueued": enqueued,
                    ":cursor": cursor,
                    ":state": "running" if cursor else "enqueued",
                    ":now": now,
                },
            )
        except self.core.table.meta.client.exceptions.ConditionalCheckFailedException:
            return self.get(org_id, event_id, job_id) or {}
        return None

    def next_sent(self, org_id: str, event_id: str, job_id: str, page: int) -> None:
        """The message for the page after `page` is in the queue."""
        self.core.table.update_item(
            Key={"PK": event_pk(org_id, event_id), "SK": f"{JOB_PREFIX}{job_id}"},
            UpdateExpression="SET nextSent = :page",
            ExpressionAttributeValues={":page": page},
        )

    def count_start(self, org_id: str, event_id: str, job_id: str) -> None:
        """One more of the job's photos admitted by the starter."""
        self.core.table.update_item(
            Key={"PK": event_pk(org_id, event_id), "SK": f"{JOB_PREFIX}{job_id}"},
            UpdateExpression="ADD started :one",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":one": 1},
        )
