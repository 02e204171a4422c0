"""An event's settings item and the registry of events with indexed uploads.

| settings  | ORG#{orgId}#EVT#{eventId}   | SETTINGS                    |  pipeline.events.settings
| registry  | EVENTS                      | ORG#{orgId}#EVT#{eventId}   |  pipeline.retention.faces
"""

from pipeline.store.core import Items, event_pk

SETTINGS_SK = "SETTINGS"
REGISTRY_PK = "EVENTS"


class Settings(Items):
    def get(self, org_id: str, event_id: str, consistent: bool = False) -> dict | None:
        """The event's settings item, None when it has none."""
        return self.core.get({"PK": event_pk(org_id, event_id), "SK": SETTINGS_SK}, consistent)

    def faces_on(self, org_id: str, event_id: str) -> bool:
        """Whether the event's face search is on, read consistently: turning it off holds at once."""
        item = self.get(org_id, event_id, consistent=True) or {}
        return item.get("faceSearch") != "off"

    def put(self, org_id: str, event_id: str, attributes: dict) -> None:
        """Replace the event's settings; no attributes deletes them."""
        key = {"PK": event_pk(org_id, event_id), "SK": SETTINGS_SK}
        if attributes:
            self.core.table.put_item(Item={**key, **attributes})
        else:
            self.core.table.delete_item(Key=key)


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
        self.core.table.update_item(
            Key={"PK": REGISTRY_PK, "SK": event_pk(org_id, event_id)},
            UpdateExpression="SET facesDeletedAt = :at",
            ExpressionAttributeValues={":at": at},
        )

    def events(self) -> list[dict]:
        return self.core.query_prefix(REGISTRY_PK, "")
