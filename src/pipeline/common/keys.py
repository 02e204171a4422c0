"""Object keys and identifiers: the only module that parses or builds an S3 key or an id.

Upload layouts (docs/architecture.md): ``{orgId}/{eventId}/raw/{file}`` and the older
``raw/{orgId}/{eventId}/{file}``. ``file`` may contain sub-folders (a photographer's card folders).
No key fits both: ``raw/x/raw/y.jpg`` would be org ``raw``, which is reserved, so it is org ``x``.

Derived objects live outside any raw/ path so they never trigger processing:
``{orgId}/{eventId}/processed/{photoId}.jpg`` and ``{orgId}/{eventId}/thumbnails/{photoId}.jpg``.
"""

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import unquote_plus

from pipeline.common.errors import InvalidKey
from pipeline.common.models import PhotoState

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# An org named "raw" would put its derived objects under raw/, the older upload layout: its
# processed photo raw/seoul/processed/<id>.jpg would be ingested as org "seoul", event
# "processed". Events named like the derived folders would make such uploads look derived.
RESERVED_IDS = {"orgId": {"raw"}, "eventId": {"processed", "thumbnails"}}
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".heif")
PHOTO_ID_LENGTH = 24
PHOTO_ID_PATTERN = re.compile(rf"[0-9a-f]{{{PHOTO_ID_LENGTH}}}")
MAX_EXECUTION_NAME = 80
_NOT_NAME_SAFE = re.compile(r"[^0-9A-Za-z_-]")


@dataclass(frozen=True)
class RawPhoto:
    """Where an upload belongs: its org, event and the photoId derived from its key."""

    raw_key: str
    org_id: str
    event_id: str
    file_name: str

    @cached_property  # a frozen dataclass still has a __dict__: worked out once per photo
    def photo_id(self) -> str:
        return photo_id_for(self.raw_key)

    @property
    def suffix(self) -> str:
        """The file's extension, lower-case with its dot ('' when it has none)."""
        name = self.file_name.rsplit("/", 1)[-1]
        return "." + name.rpartition(".")[2].lower() if "." in name else ""

    @property
    def folder(self) -> str | None:
        """The upload's first sub-folder: `snaprace upload --photographer NAME` puts a
        photographer's files under NAME/."""
        head, slash, _ = self.file_name.partition("/")
        return head if slash else None

    @property
    def is_supported_type(self) -> bool:
        return self.suffix in PHOTO_SUFFIXES

    @property
    def processed_key(self) -> str:
        return processed_key(self.org_id, self.event_id, self.photo_id)

    @property
    def thumbnail_key(self) -> str:
        return thumbnail_key(self.org_id, self.event_id, self.photo_id)


def processed_key(org_id: str, event_id: str, photo_id: str) -> str:
    return f"{derived_prefixes(org_id, event_id)[0]}{photo_id}.jpg"


def thumbnail_key(org_id: str, event_id: str, photo_id: str) -> str:
    return f"{derived_prefixes(org_id, event_id)[1]}{photo_id}.jpg"


def validate_id(kind: str, value: str) -> str:
    if not ID_PATTERN.fullmatch(value or ""):
        raise InvalidKey(
            f"{kind} {value!r} is not valid: use 1-63 lower-case letters, digits and hyphens, "
            "starting with a letter or digit"
        )
    if value in RESERVED_IDS.get(kind, ()):
        raise InvalidKey(f"{kind} {value!r} is reserved (the bucket's own folders use it); choose another")
    return value


def validate_event_ids(org_id: str, event_id: str) -> None:
    """An org and event id from outside (a URL, a command line): InvalidKey when malformed."""
    validate_id("orgId", org_id)
    validate_id("eventId", event_id)


def parse_raw_key(raw_key: str) -> RawPhoto:
    """Parse a decoded upload key; raise InvalidKey with the reason when it fits no layout."""
    parts = raw_key.split("/", 3)
    if len(parts) == 4 and parts[2] == "raw" and parts[0] not in RESERVED_IDS["orgId"]:
        org_id, event_id, file_name = parts[0], parts[1], parts[3]
    elif len(parts) == 4 and parts[0] == "raw":
        org_id, event_id, file_name = parts[1], parts[2], parts[3]
    else:
        raise InvalidKey(
            f"key {raw_key!r} is outside the upload layouts "
            "{orgId}/{eventId}/raw/{file} and raw/{orgId}/{eventId}/{file}"
        )
    if not file_name or file_name.endswith("/"):
        raise InvalidKey(f"key {raw_key!r} is a folder, not a file")
    validate_id("orgId", org_id)
    validate_id("eventId", event_id)
    return RawPhoto(raw_key=raw_key, org_id=org_id, event_id=event_id, file_name=file_name)


def raw_key(org_id: str, event_id: str, file_name: str) -> str:
    """Where an upload goes today (the current layout)."""
    return f"{org_id}/{event_id}/raw/{file_name}"


def raw_prefixes(org_id: str, event_id: str) -> tuple[str, str]:
    """Where an event's uploads are: both upload layouts, the current one first."""
    return f"{org_id}/{event_id}/raw/", f"raw/{org_id}/{event_id}/"


def event_prefixes(org_id: str, event_id: str) -> tuple[str, str]:
    """Every object of an event, uploads and derived, in both layouts (what a purge deletes)."""
    return f"{org_id}/{event_id}/", f"raw/{org_id}/{event_id}/"


def derived_prefixes(org_id: str, event_id: str) -> tuple[str, str]:
    """Where an event's processed photos and thumbnails are."""
    return f"{org_id}/{event_id}/processed/", f"{org_id}/{event_id}/thumbnails/"


def org_prefixes(org_id: str) -> tuple[str, str]:
    """Where an org's events are, in both layouts: list them with Delimiter="/"."""
    return f"{org_id}/", f"raw/{org_id}/"


def file_name_of(raw_key: str) -> str:
    """The upload's name under its event's raw/ folder, sub-folders kept (`cam1/raw/x.jpg` too),
    in either layout; the key itself when it fits neither."""
    try:
        return parse_raw_key(raw_key).file_name
    except InvalidKey:
        return raw_key


def is_photo_id(text: str) -> bool:
    return PHOTO_ID_PATTERN.fullmatch(text or "") is not None


def event_keys(key_in_event: str) -> list[str]:
    """The object keys an S3 event's key may stand for, most likely first. S3 URL-encodes keys in
    its notifications (a space arrives as '+'); AWS does not document EventBridge's encoding, so a
    key whose decoding changes it also stands for itself, and the caller checks which exists."""
    decoded = unquote_plus(key_in_event)
    return [decoded] if decoded == key_in_event else [decoded, key_in_event]


def photo_id_for(raw_key: str) -> str:
    """A short id from the raw key alone: hex is URL-safe and valid as an ExternalImageId."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()[:PHOTO_ID_LENGTH]


MISSING_OBJECT_CODES = frozenset({"404", "NoSuchKey", "NotFound"})  # GetObject's and HeadObject's


def is_missing_object(exc: Exception) -> bool:
    """Whether a botocore ClientError says the object is not there."""
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code") in MISSING_OBJECT_CODES


def normalise_etag(etag: str | None) -> str:
    """S3 returns ETags in quotes in some APIs and without in others; store and compare them bare."""
    return (etag or "").strip('"')


def is_same_upload(source: PhotoState, response: dict) -> bool:
    """Whether a GetObject or HeadObject answer is the upload a run's state ("photo") names: the
    same ETag, and the same version when the state has one (two uploads of one file share the ETag)."""
    if normalise_etag(response.get("ETag")) != normalise_etag(source["etag"]):
        return False
    return not source.get("versionId") or response.get("VersionId") == source["versionId"]


def _name_part(value: str, length: int) -> str:
    return _NOT_NAME_SAFE.sub("", value)[:length]


def execution_name(photo_id: str, etag: str, event_token: str) -> str:
    """Deterministic execution name for one S3 event of one object version.

    The same event delivered twice gets the same name (StartExecution answers
    ExecutionAlreadyExists); a new upload over the same key carries a new S3 sequencer, so it runs
    again even when its content (ETag) is unchanged, e.g. after the photo was deleted in between.
    """
    name = f"{photo_id}-{_name_part(etag, 32)}-{_name_part(event_token, 20)}"
    return name[:MAX_EXECUTION_NAME]


JOB_ID_PATTERN = re.compile(r"R[0-9]{19}")  # "R" + microseconds since the epoch: after every S3 sequencer


def job_id(epoch_microseconds: int) -> str:
    """An operator's job: its id is the token of the executions it starts (started_after)."""
    return f"R{epoch_microseconds:019d}"


def is_job_id(text: object) -> bool:
    return isinstance(text, str) and JOB_ID_PATTERN.fullmatch(text) is not None


def rerun_started_at(execution: str) -> float | None:
    """When the operator's re-run that started this execution began (epoch seconds: its job id is
    its start), or None for a run of an upload."""
    token = execution.rsplit("-", 1)[-1]
    return int(token[1:]) / 1_000_000 if is_job_id(token) else None


def photo_id_of_execution(execution: str) -> str:
    """The photo an execution (execution_name, deletion_execution_name) is for."""
    return execution[:PHOTO_ID_LENGTH]


def started_after(execution: str, other: str) -> bool:
    """Whether `execution` answers a later event than `other` (same photo and content): S3
    sequencers of one key grow with time when right-padded to one length; an operator's
    reprocess token ("R" + time) sorts after every sequencer."""
    mine, theirs = execution.rsplit("-", 1)[-1], other.rsplit("-", 1)[-1]
    width = max(len(mine), len(theirs))
    return mine.ljust(width, "0") > theirs.ljust(width, "0")


def deletion_execution_name(photo_id: str, event_token: str) -> str:
    return f"{photo_id}-deleted-{_name_part(event_token, 20)}"[:MAX_EXECUTION_NAME]


def collection_id(prefix: str, org_id: str, event_id: str) -> str:
    """The event's Rekognition collection: ``{prefix}.{orgId}.{eventId}``.

    ids contain hyphens, so ``{orgId}-{eventId}`` would give org "a-b"/event "c" and org
    "a"/event "b-c" the same collection; '.' cannot occur in an id. The per-stack prefix keeps a
    dev and a prod stack in one account apart and lets IAM name the collections of this stack only.
    """
    return f"{prefix}.{validate_id('orgId', org_id)}.{validate_id('eventId', event_id)}"
