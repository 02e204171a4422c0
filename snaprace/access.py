"""What the operator hands out: organiser keys (pipeline.access.org_keys), created with the key shown once
and only its hash stored, listed without secrets, revoked (the record stays, with revokedAt); and
runners' personal links (pipeline.access.runner_links), signed with the stack's signing key."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.access import org_keys as access
from pipeline.access import runner_links
from pipeline.events.settings import EventSettings, InvalidSettings, parse_participants
from snaprace.operations import validate_ids
from snaprace.stack import Stack, StackError


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def create(stack: Stack, org_id: str) -> access.NewKey:
    validate_ids(org_id, "any")
    key = access.new_org_key(org_id)
    stack.photo_table.org_keys.put(org_id, key.key_id, key.secret_hash, _now())
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
        for item in stack.photo_table.org_keys.of_org(org_id)
    ]


def revoke(stack: Stack, org_id: str, key_id: str) -> None:
    validate_ids(org_id, "any")
    if not stack.photo_table.org_keys.revoke(org_id, key_id, _now()):
        known = ", ".join(k["keyId"] for k in listing(stack, org_id)) or "none"
        raise StackError(f"org {org_id} has no key {key_id!r} (its keys: {known})")


@dataclass(frozen=True)
class RunnerLink:
    bib: str
    link: str
    token: str
    expires_at: str

    def row(self) -> dict:
        return {"bib": self.bib, "link": self.link, "token": self.token, "expiresAt": self.expires_at}


def make_runner_links(
    stack: Stack,
    org_id: str,
    event_id: str,
    bibs_file: Path | None = None,
    days: int = runner_links.DEFAULT_DAYS,
    base_url: str | None = None,
    now: float | None = None,
) -> tuple[list[RunnerLink], EventSettings]:
    """One link per bib (the file's, else the event's participant list), expiring in `days`; and
    the event's settings, so the command can say when links are not what the event needs. The link
    carries the token after `#`: a fragment never reaches a server's or a CDN's logs."""
    validate_ids(org_id, event_id)
    settings = EventSettings.from_item(stack.photo_table.settings.get(org_id, event_id, participants=True))
    if bibs_file is not None:
        try:
            with bibs_file.open(encoding="utf-8-sig", errors="replace") as lines:
                bibs = parse_participants(lines)
        except (InvalidSettings, OSError) as exc:
            raise StackError(f"{bibs_file}: {exc}") from None
    elif settings.participants:
        bibs = settings.participants
    else:
        raise StackError(
            f"{org_id}/{event_id} has no participant list: give --bibs FILE (one bib per line), "
            "or set it with `snaprace event-settings --participants FILE`"
        )
    secret = stack.client("secretsmanager").get_secret_value(SecretId=stack.output("SigningKeySecretName"))
    signing_key = secret["SecretString"].encode()
    expires = int((time.time() if now is None else now) + days * 86400)
    expires_at = datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds")
    page = f"{(base_url or stack.output('ApiUrl')).rstrip('/')}/e/{org_id}/{event_id}"
    links = []
    for bib in sorted(bibs, key=lambda b: (len(b), b)):
        token = runner_links.make_token(signing_key, org_id, event_id, bib, expires)
        links.append(RunnerLink(bib, f"{page}#runner={token}", token, expires_at))
    return links, settings
