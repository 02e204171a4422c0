"""Who may call the search API for which organiser: the operator's key opens every org; an
organiser's key opens that org's events only.

An organiser key reads `snr.{orgId}.{keyId}.{secret}`: the org and key id say which record to
check (ORG#{orgId} / KEY#{keyId} in the table, pipeline.store), the secret is never stored, only
its SHA-256 (the secret is 32 random bytes: a plain hash cannot be reversed or guessed). A revoked
key's record keeps its `revokedAt`. The authorizer (handlers.api_authorizer) passes the caller on
to the API as its context; every route checks the org in its path against it (`reaches`).
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from pipeline.common.keys import ID_PATTERN

OPERATOR, ORGANISER = "operator", "organiser"
_ORG_KEY = re.compile(rf"snr\.({ID_PATTERN.pattern})\.([0-9a-f]{{12}})\.([A-Za-z0-9_-]{{43}})")


@dataclass(frozen=True)
class Caller:
    role: str
    org: str | None = None  # the organiser's org; None for the operator
    key_id: str | None = None  # the organiser's key: who made a correction

    def reaches(self, org_id: str) -> bool:
        return self.role == OPERATOR or (self.role == ORGANISER and self.org == org_id)

    def who(self) -> str:
        """The caller as a correction's record names it (never the key itself)."""
        return f"organiser {self.org} key {self.key_id}" if self.role == ORGANISER else "operator (API key)"

    def as_context(self) -> dict:
        """The authorizer's context for API Gateway (string values only)."""
        return {"role": self.role, "org": self.org or "", "keyId": self.key_id or ""}

    @classmethod
    def from_context(cls, context: dict | None) -> "Caller | None":
        context = context or {}
        if context.get("role") == OPERATOR:
            return cls(OPERATOR)
        if context.get("role") == ORGANISER and context.get("org"):
            return cls(ORGANISER, context["org"], context.get("keyId") or None)
        return None


@dataclass(frozen=True)
class NewKey:
    org: str
    key_id: str
    key: str  # shown once, never stored
    secret_hash: str


def new_org_key(org_id: str) -> NewKey:
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return NewKey(org_id, key_id, f"snr.{org_id}.{key_id}.{secret}", secret_hash(secret))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_org_key(key: str) -> tuple[str, str, str] | None:
    """(org, key id, secret) of a well-formed organiser key; None otherwise."""
    found = _ORG_KEY.fullmatch(key or "")
    return (found.group(1), found.group(2), found.group(3)) if found else None


def organiser_key_matches(record: dict | None, secret: str) -> bool:
    """Whether a key record (from the table) is live and holds this secret's hash."""
    if not record or record.get("revokedAt"):
        return False
    return hmac.compare_digest(str(record.get("secretHash", "")), secret_hash(secret))
