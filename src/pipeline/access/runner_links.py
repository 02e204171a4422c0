"""A runner's personal link: what grants selfie search on an event whose selfie mode is `verified`.

The organiser sends each runner their link through the registration system (`snaprace
runner-links`); the runner page passes its token to the API (`x-runner-token`). A token reads
`{bib}.{expiresAt}.{mac}`: the MAC (HMAC-SHA256 with the stack's signing key, the secret
template.yaml SigningKeySecret, the same key as the gallery's cursors under another label) binds
the bib and the expiry to one org's event, so a token opens that event for that runner only, until
it expires. Nothing is stored per link: the key signs them all, and rotating the secret revokes
every link (and cursor) at once.
"""

import base64
import hashlib
import hmac
import re
import time

from pipeline.processing.bibs import ENTERED_BIB, searched_bib

DEFAULT_DAYS = 30
MAX_DAYS = 365
_TOKEN = re.compile(rf"({ENTERED_BIB})\.([0-9]{{10}})\.([A-Za-z0-9_-]{{22}})", re.ASCII)


class InvalidRunnerLink(PermissionError):
    """A token that is missing, forged, for another event, or expired; the message says which a
    runner can act on (never which part of a forged token was wrong)."""


def _mac(signing_key: bytes, org_id: str, event_id: str, bib: str, expires_at: int) -> str:
    scoped = f"runner|{org_id}|{event_id}|{bib}|{expires_at}".encode()
    digest = hmac.new(signing_key, scoped, hashlib.sha256).digest()[:16]  # 128 bits: unguessable
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(signing_key: bytes, org_id: str, event_id: str, bib: str, expires_at: int) -> str:
    bib = searched_bib(bib)  # ValueError: not a bib
    return f"{bib}.{expires_at}.{_mac(signing_key, org_id, event_id, bib, expires_at)}"


def runner_of(
    token: str | None, signing_key: bytes, org_id: str, event_id: str, now: float | None = None
) -> str:
    """The bib a token was made for, if it is genuine, for this event, and not expired."""
    if not token:
        raise InvalidRunnerLink(
            "selfie search for this event needs your personal runner link (the organiser sends it)"
        )
    found = _TOKEN.fullmatch(token.strip())
    genuine = found is not None and hmac.compare_digest(
        found.group(3), _mac(signing_key, org_id, event_id, found.group(1), int(found.group(2)))
    )
    if found is None or not genuine:
        raise InvalidRunnerLink(
            "this runner link is not valid for this event: open the link the organiser sent"
        )
    if int(found.group(2)) <= (time.time() if now is None else now):
        raise InvalidRunnerLink("this runner link has expired: ask the organiser for a new one")
    return searched_bib(found.group(1))  # a link made before bibs lost their leading zeros
