"""An event's settings: the organiser's bib range and participant list, and whether face search is on.

When an organiser gives them, DetectText keeps only numbers they allow (a participant list decides
alone; a range decides instead of the "years are not bibs" rule). Stored as one item in the table
(`ORG#{orgId}#EVT#{eventId}` / `SETTINGS`, see pipeline.store) and set with
`snaprace event-settings`. DetectText reads it through `Cached`: at most once a minute per event
and container. Face search (on unless the organiser turns it off) is read at every photo by
IndexFaces and SaveResults, and by the selfie search: off must hold at once.

The selfie mode says who may search a published event by selfie without a key: `verified` (the
default) only a runner holding their personal link (pipeline.access.runner_links), `open` anyone within
the per-client limits. Verified is the default because an open selfie search is face recognition
on demand: whoever holds a photo of a person (a crop from the gallery will do) finds that person's
photos. An organiser who wants it open says so (`--selfie-search open`).
"""

import hashlib
import json
import re
import time
import unicodedata
from dataclasses import dataclass, field

from pipeline.processing.bibs import SEARCHED_BIB_LIMIT, BibRules, normalise_bib, searched_bib

MAX_BIB = 10**SEARCHED_BIB_LIMIT - 1
MAX_PARTICIPANTS_BYTES = 300_000  # of bib text: keeps the item well under DynamoDB's 400 KB
CACHE_SECONDS = 60.0
DEFAULT_FACE_RETENTION_DAYS = 90
ANY_BIB = BibRules(min_length=1, max_length=SEARCHED_BIB_LIMIT)  # any bib a person may give
OPEN, VERIFIED = "open", "verified"  # the selfie modes


class InvalidSettings(ValueError):
    pass


@dataclass(frozen=True)
class EventSettings:
    bib_range: tuple[int, int] | None = None
    participants: frozenset[str] | None = None
    faces: bool = True  # face search: IndexFaces and the selfie search
    published: bool = False  # runners may search it without a key (the API's /public routes)
    face_retention_days: int = (
        DEFAULT_FACE_RETENTION_DAYS  # face data kept this long (pipeline.retention.faces)
    )
    retention_from: str | None = None  # ISO date the retention counts from; default: the last upload
    selfie_mode: str = VERIFIED  # who may search by selfie without a key: OPEN or VERIFIED
    date: str | None = None  # ISO date: a timing file's times of day are on it (pipeline.timing.rules)
    timezone: str | None = None  # IANA zone of the event's clocks, e.g. Asia/Seoul
    # runners may find their bib by their full name in the timing results (pipeline.search.photos): off
    # unless the organiser turns it on, as a name search answers strangers who guess names too
    name_search: bool = False
    # what the flags item says of the list when it was not read (pipeline.store.events keeps the
    # list apart); worked out from `participants` when it was
    participant_count: int = field(default=0, compare=False)
    participants_digest: str | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.participants is not None:
            digest = hashlib.sha256(",".join(sorted(self.participants)).encode()).hexdigest()[:16]
            object.__setattr__(self, "participant_count", len(self.participants))
            object.__setattr__(self, "participants_digest", digest)

    def to_item(self) -> dict:
        if self.participants is None and self.participant_count:
            raise ValueError("settings read without their participant list cannot be written back")
        item: dict = {} if self.faces else {"faceSearch": "off"}
        if self.published:
            item["published"] = True
        if self.face_retention_days != DEFAULT_FACE_RETENTION_DAYS:
            item["faceRetentionDays"] = self.face_retention_days
        if self.retention_from:
            item["retentionFrom"] = self.retention_from
        if self.selfie_mode != VERIFIED:
            item["selfieSearch"] = self.selfie_mode
        if self.bib_range:
            item["bibFirst"], item["bibLast"] = self.bib_range
        if self.date:
            item["eventDate"] = self.date
        if self.timezone:
            item["timeZone"] = self.timezone
        if self.name_search:
            item["nameSearch"] = "on"
        if self.participants:
            item["participants"] = set(self.participants)
            item["participantsDigest"] = self.participants_digest
        return item

    @classmethod
    def from_item(cls, item: dict | None) -> "EventSettings":
        item = item or {}
        bib_range = None
        if "bibFirst" in item and "bibLast" in item:
            bib_range = (int(item["bibFirst"]), int(item["bibLast"]))
        # normalised on read: a list stored before bibs lost their leading zeros holds "0111"
        participants = (
            frozenset(map(normalise_bib, item["participants"])) if item.get("participants") else None
        )
        settings = cls(
            bib_range,
            participants,
            item.get("faceSearch") != "off",
            bool(item.get("published")),
            int(item.get("faceRetentionDays", DEFAULT_FACE_RETENTION_DAYS)),
            item.get("retentionFrom"),
            OPEN if item.get("selfieSearch") == OPEN else VERIFIED,
            item.get("eventDate"),
            item.get("timeZone"),
            item.get("nameSearch") == "on",
        )
        if participants is None and item.get("participantCount"):
            object.__setattr__(settings, "participant_count", int(item["participantCount"]))
            object.__setattr__(settings, "participants_digest", item.get("participantsDigest"))
        return settings

    def summary(self) -> dict:
        """The settings as the organiser API and `event-settings --json` show them."""
        return {
            "published": self.published,
            "faces": self.faces,
            "selfieSearch": self.selfie_mode,
            "bibRange": "-".join(map(str, self.bib_range)) if self.bib_range else None,
            "participants": self.participant_count,
            "faceRetentionDays": self.face_retention_days,
            "retentionFrom": self.retention_from,
            "date": self.date,
            "timezone": self.timezone,
            "nameSearch": self.name_search,
        }

    def reads_fingerprint(self) -> str:
        """What the bib reads depend on (range, participant list): DetectText records it with its
        reads, so an identical re-upload can keep them while these settings stay the same. The list
        counts by its digest, which the flags item keeps: the starter compares without reading it
        (an event with no list fingerprints as before the list had its own item)."""
        shape = json.dumps([self.bib_range, self.participants_digest or []], separators=(",", ":"))
        return hashlib.sha256(shape.encode()).hexdigest()[:16]

    def describe(self) -> str:
        parts = []
        if self.bib_range:
            parts.append(f"bibs {self.bib_range[0]}-{self.bib_range[1]}")
        if self.participant_count:
            parts.append(f"{self.participant_count} participants")
        bibs = ", ".join(parts) or "none: every bib-shaped number counts"
        published = "; published" if self.published else ""
        since = f"from {self.retention_from}" if self.retention_from else "from the last upload"
        custom = self.face_retention_days != DEFAULT_FACE_RETENTION_DAYS or self.retention_from
        retention = f"; faces kept {self.face_retention_days} days {since}" if self.faces and custom else ""
        faces = f"on, selfie search {self.selfie_mode}" if self.faces else "off"
        day = f"; on {self.date}" if self.date else ""
        zone = f" ({self.timezone})" if self.timezone else ""
        names = "; name search on" if self.name_search else ""
        return f"{bibs}; face search {faces}{published}{names}{retention}{day}{zone}"


_RANGE = re.compile(r"([0-9]{1,9})-([0-9]{1,9})", re.ASCII)


def parse_range(text: str) -> tuple[int, int]:
    """'1-5000' -> (1, 5000); fullwidth digits read as ASCII ones, as the bibs' own normaliser does."""
    found = _RANGE.fullmatch(unicodedata.normalize("NFKC", text).replace(" ", ""))
    if found is None:
        raise InvalidSettings(f"bib range {text[:30]!r}: give it as FIRST-LAST, e.g. 1-5000")
    bib_range = (int(found.group(1)), int(found.group(2)))
    if not 1 <= bib_range[0] <= bib_range[1] <= MAX_BIB:
        raise InvalidSettings(
            f"bib range {text[:30]!r}: FIRST must not be above LAST, FIRST at least 1, LAST at most {MAX_BIB}"
        )
    return bib_range


def parse_participants(lines) -> frozenset[str]:
    """One bib per line (the first comma- or tab-separated column; '#' starts a comment); a header
    line that is not a bib is skipped; any other line that is not a bib is an error."""
    bibs, bad = set(), []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].replace("\t", ",").split(",", 1)[0]
        if not text.strip():
            continue
        try:
            bibs.add(searched_bib(text))
        except ValueError:
            if number > 1 or bibs:
                bad.append(f"line {number}: {text.strip()[:20]!r}")
    if bad:
        raise InvalidSettings(f"not bib numbers: {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}")
    if not bibs:
        raise InvalidSettings("the participant list has no bib numbers")
    if sum(len(b) + 1 for b in bibs) > MAX_PARTICIPANTS_BYTES:
        raise InvalidSettings(f"{len(bibs)} participants are too many for one event item: give a bib range")
    return frozenset(bibs)


class Cached:
    """Settings per event, read again after CACHE_SECONDS (a container serves many photos of one
    event; an organiser's change is picked up within a minute). Powertools' DynamoDBProvider reads
    tables keyed by one attribute, not this table's PK + SK, hence this small cache."""

    def __init__(self, load, clock=time.monotonic, wall_clock=time.time):
        self._load, self._clock, self._wall_clock = load, clock, wall_clock
        self._entries: dict[tuple[str, str], tuple[float, float, EventSettings]] = {}

    def clear(self) -> None:
        self._entries.clear()

    def __call__(self, org_id: str, event_id: str, loaded_after: float | None = None) -> EventSettings:
        """`loaded_after` (epoch seconds): a copy read before then is read again (an operator's re-run
        follows a change of settings made a moment before it started; its photos then share one read)."""
        now = self._clock()
        entry = self._entries.get((org_id, event_id))
        stale = loaded_after is not None and entry is not None and entry[1] < loaded_after
        if stale or entry is None or now - entry[0] >= CACHE_SECONDS:
            entry = (now, self._wall_clock(), self._load(org_id, event_id))
            self._entries[(org_id, event_id)] = entry
        return entry[2]


def result_fingerprint(reads_fingerprint: str | None, faces: bool) -> str | None:
    """What a stored result was made under: the reads' settings and whether faces were on."""
    return f"{reads_fingerprint}.{'faces' if faces else 'nofaces'}" if reads_fingerprint else None
