"""An event's settings item and the registry of events with indexed uploads.

| settings  | ORG#{orgId}#EVT#{eventId}   | SETTINGS                    |  pipeline.events.settings
| bib list  | ORG#{orgId}#EVT#{eventId}   | PARTICIPANTS                |  participants (the list alone)
| registry  | EVENTS                      | ORG#{orgId}#EVT#{eventId}   |  pipeline.retention.faces
"""

import contextlib

from pipeline.store.core import Items, event_pk

SETTINGS_SK = "SETTINGS"
PARTICIPANTS_SK = "PARTICIPANTS"
REGISTRY_PK = "EVENTS"


class Settings(Items):
    """The event's flags (a few hundred bytes, read at every photo and public request: DynamoDB
    charges a read by the item's size, so the participant list, up to 300 KB, is an item of its
    own, read only by the steps that use it: DetectText's bib rules, runner links, a change)."""

    def get(
        self, org_id: str, event_id: str, consistent: bool = False, participants: bool = False
    ) -> dict | None:
        """The event's settings item, None when it has none; with `participants`, its participant
        list too (`participants`, a second read, only when the flags say there is one)."""
        item = self.core.get({"PK": event_pk(org_id, event_id), "SK": SETTINGS_SK}, consistent)
        if participants and item and item.get("participantCount") and "participants" not in item:
            listed = self.core.get({"PK": event_pk(org_id, event_id), "SK": PARTICIPANTS_SK}, consistent)
            # a list item gone (a purge that stopped half-way deletes it before the flags): no list
            item = (
                {**item, "participants": listed["participants"]}
                if listed
                else {**item, "participantCount": 0}
            )
        return item

    def faces_on(self, org_id: str, event_id: str) -> bool:
        """Whether the event's face search is on, read consistently: turning it off holds at once."""
        item = self.get(org_id, event_id, consistent=True) or {}
        return item.get("faceSearch") != "off"

    def put(self, org_id: str, event_id: str, attributes: dict) -> None:
        """Replace the event's settings; no attributes deletes them. A participant list goes to its
        own item, written before the flags that count it and deleted after the flags that no longer do."""
        pk = event_pk(org_id, event_id)
        flags = {name: value for name, value in attributes.items() if name != "participants"}
        listed = attributes.get("participants")
        if listed:
            self.core.table.put_item(Item={"PK": pk, "SK": PARTICIPANTS_SK, "participants": listed})
            flags["participantCount"] = len(listed)
        if flags:
            self.core.table.put_item(Item={"PK": pk, "SK": SETTINGS_SK, **flags})
        else:
            self.core.table.delete_item(Key={"PK": pk, "SK": SETTINGS_SK})
        if not listed:
            self.core.table.delete_item(Key={"PK": pk, "SK": PARTICIPANTS_SK})


class Registry(Items):
    """Every event that has had an indexed upload, with its retention dates."""

    def note_upload(self, org_id: str, event_id: str, at: str) -> None:
        """The event's last indexed upload: face retention counts from it."""
        self.core.table.update_item(
            Key={"PK": REGISTRY_PK, "SK": event_pk(org_id, event_id)},
            UpdateExpression="SET lastUploadAt = :at, orgId = :org, eventId = :event",
            ExpressionAttributeValues={":at": at, ":org": org_id, ":event": event_id},
        )

    def note_faces_deleted(self, org_id: str, event_id: str, at: str) -> None:
        """The event's items hold no face data since `at` (its face scrub finished); nothing when
        the event is no longer registered (a purge finished while the scrub worked)."""
        with contextlib.suppress(self.core.table.meta.client.exceptions.ConditionalCheckFailedException):
            self.core.table.update_item(
                Key={"PK": REGISTRY_PK, "SK": event_pk(org_id, event_id)},
                UpdateExpression="SET facesDeletedAt = :at",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":at": at},
            )

    def note_faces_off(self, org_id: str, event_id: str, at: str) -> None:
        """Face search turned off at `at`: the sweep finishes a scrub that has not finished since."""
        self._note(org_id, event_id, "facesOffAt", at)

    def _note(self, org_id: str, event_id: str, name: str, at: str) -> None:
        self.core.table.update_item(
            Key={"PK": REGISTRY_PK, "SK": event_pk(org_id, event_id)},
            UpdateExpression="SET #at = :at, orgId = :org, eventId = :event",
            ExpressionAttributeNames={"#at": name},
            ExpressionAttributeValues={":at": at, ":org": org_id, ":event": event_id},
        )

    def get(self, org_id: str, event_id: str) -> dict | None:
        return self.core.get({"PK": REGISTRY_PK, "SK": event_pk(org_id, event_id)}, consistent=True)

    def forget(self, org_id: str, event_id: str) -> None:
        """The event is no more (a purge): the sweep has nothing left to do for it."""
        self.core.table.delete_item(Key={"PK": REGISTRY_PK, "SK": event_pk(org_id, event_id)})

    def events(self) -> list[dict]:
        return self.core.query_prefix(REGISTRY_PK, "")
