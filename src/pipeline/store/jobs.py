"""Background jobs' items: what a job was asked, where it is, and how far it got.

| item | PK                        | SK             |
| job  | ORG#{orgId}#EVT#{eventId} | JOB#{jobId}    |

jobId sorts by start (R{microseconds since the epoch}); the latest job of an event is the last.
"""

import contextlib

from pipeline.store.core import Items, event_pk, from_dynamo, to_dynamo

JOB_PREFIX = "JOB#"


class Jobs(Items):
    def start(
        self, org_id: str, event_id: str, job_id: str, kind: str, options: dict, now: str
    ) -> dict | None:
        """The job's item: `kind` is reprocess (counts `enqueued` and `started`), scrub-faces
        (counts `changed`), purge (`objectsDeleted`, `itemsDeleted`) or count (an event's progress:
        pipeline.events.progress)."""
        totals = {
            "reprocess": {"enqueued": 0, "started": 0},
            "scrub-faces": {"changed": 0},
            "purge": {"objectsDeleted": 0, "itemsDeleted": 0},
        }.get(kind, {})
        item = {
            **totals,
            "PK": event_pk(org_id, event_id),
            "SK": f"{JOB_PREFIX}{job_id}",
            "orgId": org_id,
            "eventId": event_id,
            "jobId": job_id,
            "kind": kind,
            "options": options,
            "state": "running",
            "pages": 0,
            "startedAt": now,
            "updatedAt": now,
        }
        try:  # a job id names one job: a second start of it (two requests at once) starts nothing
            self.core.table.put_item(Item=to_dynamo(item), ConditionExpression="attribute_not_exists(PK)")
        except self.core.table.meta.client.exceptions.ConditionalCheckFailedException:
            return None
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
        self,
        org_id: str,
        event_id: str,
        job_id: str,
        page: int,
        totals: dict,
        cursor: dict | None,
        now: str,
        last_state: str = "enqueued",
    ) -> dict | None:
        """Record page number `page` (from 1) as done, with the job's running totals (`enqueued`,
        `changed`) and where the next page starts; the job is in `last_state` when there is none.
        None when a delivery of the same message did already (then the job item as it is). Set,
        not added: a page done twice counts once."""
        names = {"#state": "state", **{f"#t{n}": name for n, name in enumerate(totals)}}
        values = {f":t{n}": value for n, value in enumerate(totals.values())}
        try:
            self.core.table.update_item(
                Key={"PK": event_pk(org_id, event_id), "SK": f"{JOB_PREFIX}{job_id}"},
                UpdateExpression="SET pages = :page, nextCursor = :cursor, #state = :state, updatedAt = :now"
                + "".join(f", #t{n} = :t{n}" for n in range(len(totals))),
                ConditionExpression="attribute_exists(PK) AND pages < :page",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    ":page": page,
                    ":cursor": cursor,
                    ":state": "running" if cursor else last_state,
                    ":now": now,
                    **values,
                },
            )
        except self.core.table.meta.client.exceptions.ConditionalCheckFailedException:
            return self.get(org_id, event_id, job_id) or {}
        return None

    def delete(self, org_id: str, event_id: str, job_ids: list[str]) -> None:
        """Forget these jobs (counts a newer one replaced)."""
        pk = event_pk(org_id, event_id)
        self.core.delete_items([{"PK": pk, "SK": f"{JOB_PREFIX}{job_id}"} for job_id in job_ids])

    def latest(self, org_id: str, event_id: str, kind: str) -> dict | None:
        """The event's latest job of this kind, None when it has had none."""
        jobs = [job for job in self.of_event(org_id, event_id) if job.get("kind") == kind]
        return jobs[-1] if jobs else None

    def next_sent(self, org_id: str, event_id: str, job_id: str, page: int) -> None:
        """The message for the page after `page` is in the queue (unless the job item is gone: a
        purge's last page deleted it meanwhile, and nothing may write into a purged partition)."""
        with contextlib.suppress(self.core.table.meta.client.exceptions.ConditionalCheckFailedException):
            self.core.table.update_item(
                Key={"PK": event_pk(org_id, event_id), "SK": f"{JOB_PREFIX}{job_id}"},
                UpdateExpression="SET nextSent = :page",
                ConditionExpression="attribute_exists(PK)",
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
