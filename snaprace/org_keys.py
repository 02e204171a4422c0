"""Organiser keys (pipeline.access): created with the key shown once and only its hash stored,
listed without secrets, revoked (the record stays, with revokedAt)."""

from datetime import UTC, datetime

from pipeline import access
from snaprace.operations import validate_ids
from snaprace.stack import Stack, StackError


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def create(stack: Stack, org_id: str) -> access.NewKey:
    validate_ids(org_id, "any")
    key = access.new_org_key(org_id)
    stack.photo_table.put_org_key(org_id, key.key_id, key.secret_hash, _now())
    return key


def listing(stack: Stack, org_id: str) -> list[dict]:
    validate_ids(org_id, "any")
    return [
        {
            "org": org_id,
            "keyId": item["keyId"],
            "createdAt": item["createdAt"],
            "revokedAt": item.get("revokedAt"),
        }
        for item in stack.photo_table.org_keys(org_id)
    ]


def revoke(stack: Stack, org_id: str, key_id: str) -> None:
    validate_ids(org_id, "any")
    if not stack.photo_table.revoke_org_key(org_id, key_id, _now()):
        known = ", ".join(k["keyId"] for k in listing(stack, org_id)) or "none"
        raise StackError(f"org {org_id} has no key {key_id!r} (its keys: {known})")
