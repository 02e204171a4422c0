"""Who may call: organisers' keys and per-client request counters.

| org key   | ORG#{orgId}                 | KEY#{keyId}                    |  pipeline.access.org_keys
| rate      | RATE#{client}               | {org}#{event}#{kind}#{window}  |  pipeline.access.ratelimit (TTL)
"""

from pipeline.store.core import Items, org_pk

ORG_KEY_PREFIX = "KEY#"


class OrgKeys(Items):
    def get(self, org_id: str, key_id: str) -> dict | None:
        """An organiser key's record, read consistently: a revocation holds at once."""
        return self.core.get({"PK": org_pk(org_id), "SK": f"{ORG_KEY_PREFIX}{key_id}"}, consistent=True)

    def of_org(self, org_id: str) -> list[dict]:
        return self.core.query_prefix(org_pk(org_id), ORG_KEY_PREFIX, consistent=True)

    def put(self, org_id: str, key_id: str, secret_hash: str, created_at: str) -> None:
        item = {"PK": org_pk(org_id), "SK": f"{ORG_KEY_PREFIX}{key_id}", "orgId": org_id, "keyId": key_id}
        self.core.table.put_item(Item={**item, "secretHash": secret_hash, "createdAt": created_at})

    def revoke(self, org_id: str, key_id: str, revoked_at: str) -> bool:
        """Mark the key revoked; False when there is no such key."""
        try:
            self.core.table.update_item(
                Key={"PK": org_pk(org_id), "SK": f"{ORG_KEY_PREFIX}{key_id}"},
                UpdateExpression="SET revokedAt = if_not_exists(revokedAt, :now)",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":now": revoked_at},
            )
        except self.core.client.exceptions.ConditionalCheckFailedException:
            return False
        return True


class Counters(Items):
    def count_hit(
        self, client: str, event: tuple[str, str] | None, kind: str, window: int, limit: int, expires_at: int
    ) -> bool:
        """One more request of a client in a time window, on one event (`event`: org and event
        ids) or across all (None); False once `limit` requests were counted in it. The counter
        item expires with DynamoDB's TTL."""
        scope = f"{event[0]}#{event[1]}" if event else "*"
        try:
            self.core.table.update_item(
                Key={"PK": f"RATE#{client}", "SK": f"{scope}#{kind}#{window}"},
                UpdateExpression="ADD hits :one SET expiresAt = if_not_exists(expiresAt, :expires)",
                ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
                ExpressionAttributeValues={":one": 1, ":limit": limit, ":expires": expires_at},
            )
        except self.core.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
