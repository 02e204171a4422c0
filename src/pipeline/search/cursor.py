"""The gallery's cursors: a page position, signed (HMAC-SHA256) and bound to one event's gallery,
so a cursor cannot be forged or moved to another event and nothing but a position this API
handed out ever reaches DynamoDB."""

import base64
import hashlib
import hmac
import json

from pipeline.common.errors import BadRequest
from pipeline.store.photos import is_gallery_position


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _cursor_mac(signing_key: bytes, org_id: str, event_id: str, payload: str) -> bytes:
    """What binds a cursor to its query: this event's gallery, signed with the stack's key."""
    scoped = f"gallery|{org_id}|{event_id}|{payload}".encode()
    return hmac.new(signing_key, scoped, hashlib.sha256).digest()[:16]  # 128 bits: unguessable


def encode_cursor(key: dict | None, org_id: str, event_id: str, signing_key: bytes) -> str | None:
    """The next page's position, signed; None when there is no next page."""
    if not key:
        return None
    payload = _b64(json.dumps(key, sort_keys=True).encode())
    return f"{payload}.{_b64(_cursor_mac(signing_key, org_id, event_id, payload))}"


def decode_cursor(cursor: str, org_id: str, event_id: str, signing_key: bytes) -> dict:
    """The page position a cursor holds, if this API signed it for this event's gallery."""
    payload, _, mac = cursor.partition(".")
    try:
        genuine = hmac.compare_digest(_unb64(mac), _cursor_mac(signing_key, org_id, event_id, payload))
        key = json.loads(_unb64(payload)) if genuine else None
    except (ValueError, RecursionError):  # binascii.Error and UnicodeDecodeError are ValueErrors
        key = None
    if not is_gallery_position(key, org_id, event_id):
        raise BadRequest("cursor is not one this API returned for this event's gallery")
    return key
