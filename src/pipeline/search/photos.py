"""The read side: an event's gallery, a runner's photos by bib (and through their linked face), and
by selfie. Used by the search API and by `snaprace photos`, so both answer the same.

Every query names the org in its partition key (table) or collection id (Rekognition), so one
organiser's search can never reach another's photos. A selfie is searched and forgotten: it is
never stored and never logged.
"""

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from pipeline.access.runner_links import InvalidRunnerLink
from pipeline.common import rekognition
from pipeline.common.errors import InvalidImage, RekognitionThrottled, RekognitionUnavailable
from pipeline.common.keys import collection_id
from pipeline.common.models import INDEXED
from pipeline.processing.bibs import searched_bib
from pipeline.processing.links import LINKED_FACE_THRESHOLD
from pipeline.store.table import PhotoTable, event_pk
from pipeline.store.timing import TimingTable
from pipeline.timing import rules as timing

LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024  # a synchronous invocation's request, API Gateway's event included
# Rekognition reads up to 5 MB of image bytes, but API Gateway hands a binary body to Lambda in
# base64 (4/3 larger): 4 MiB becomes 5.3 MiB, leaving room for the rest of the event.
MAX_SELFIE_BYTES = 4 * 1024 * 1024
SELFIE_THRESHOLD = 90.0
MAX_LINKED_FACES = 10  # face ids searched per bib (one per photo the bib was read on, at most)
FACE_MATCHES_SECONDS = 600  # a bib's face matches are reused this long: new photos show within it
MAX_CACHED_MATCHES = 400  # (photo, face, similarity) kept per bib: the item stays under ~30 KB
MAX_PAGE = 100
MAX_CAMERA_QUERIES = 20  # CameraIndex queries per bib search: (camera at a checkpoint) x passing
MAX_RUNNERS_NAMED = 10
MIN_NAME_LETTERS = 2
MAX_NAME_WORD_BYTES = 200  # a name item's sort key holds the word, and sort keys end at 1,024 bytes
MIN_FULL_NAME_LETTERS = 3  # the public name search: "Oh Li" and "김민준" are names, "a b" is not
URL_SECONDS = 900
_CURSOR_KEYS = {"PK", "SK", "galleryKey"}
logger = Logger(child=True)  # a shared module: the handler's Logger sets the output up


class FaceSearchOff(PermissionError):
    """The organiser turned face search off for the event (pipeline.events.settings)."""


class NameSearchOff(PermissionError):
    """The organiser has not turned the public name search on (pipeline.events.settings)."""


class BadRequest(ValueError):
    """The caller's mistake, with a message they can act on."""


@dataclass(frozen=True)
class Match:
    item: dict
    # "bib", "corrected" (a person added it, pipeline.corrections.records), "face" (the bib's linked face
    # elsewhere), "time" (taken at the runner's checkpoint as they passed, pipeline.timing.rules), "selfie"
    matched_by: str | None = None
    similarity: float | None = None
    seconds: float | None = None  # "time": the photo's corrected time minus the runner's passing


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _cursor_mac(signing_key: bytes, org_id: str, event_id: str, payload: str) -> bytes:
    """What binds a cursor to its query: this event's gallery, signed with the stack's key."""
    scoped = f"gallery|{org_id}|{event_id}|{payload}".encode()
    return hmac.new(signing_key, scoped, hashlib.sha256).digest()[:16]  # 128 bits: unguessable


def encode_cursor(key: dict | None, org_id: str, event_id: str, signing_key: bytes) -> str | None:
    """The next page's position, signed (HMAC-SHA256): a cursor cannot be forged or moved to
    another event, so nothing but a position this API handed out ever reaches DynamoDB."""
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
    if (
        not isinstance(key, dict)
        or set(key) != _CURSOR_KEYS
        or not all(isinstance(v, str) for v in key.values())
        or key["PK"] != event_pk(org_id, event_id)
    ):
        raise BadRequest("cursor is not one this API returned for this event's gallery")
    return key


def image_format(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    return None


def check_selfie(selfie: bytes) -> None:
    """What Rekognition would refuse, refused first with a message a runner can act on."""
    if not selfie:
        raise BadRequest("the selfie is empty")
    if len(selfie) > MAX_SELFIE_BYTES:
        raise BadRequest(
            f"the selfie is {len(selfie) / 1048576:.1f} MB; at most 4 MB is accepted (send a smaller photo)"
        )
    if image_format(selfie) is None:
        raise BadRequest("the selfie must be a JPEG or PNG image")


class PhotoSearch:
    def __init__(
        self, table: PhotoTable, rekognition_client, collection_prefix: str, cursor_key: bytes = b""
    ):
        """`cursor_key` signs the gallery's cursors: the stack's secret in the API (one key for
        every container), any random key where cursors never leave the process (`snaprace photos`)."""
        self.table, self.rekognition, self.collection_prefix = table, rekognition_client, collection_prefix
        self.cursor_key = cursor_key

    def gallery(self, org_id: str, event_id: str, limit: int = 50, cursor: str | None = None):
        """(matches, next cursor or None): indexed photos, newest first."""
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
        if not self.cursor_key:  # a programming error, never a caller's
            raise ValueError("PhotoSearch was made without a cursor key: the gallery cannot sign its cursors")
        start = decode_cursor(cursor, org_id, event_id, self.cursor_key) if cursor else None
        items, last = self.table.gallery(org_id, event_id, limit, start)
        return [Match(item) for item in items], encode_cursor(last, org_id, event_id, self.cursor_key)

    def by_bib(
        self, org_id: str, event_id: str, bib: str, faces_on: bool | None = None
    ) -> tuple[list[Match], bool]:
        """Photos where the bib was read, then photos where the face linked to it appears; and
        whether the face matches are complete. When Rekognition is throttled or unavailable the
        bib reads still answer, with the face matches found so far (complete = False). Face
        matches only while face search is on (`faces_on`: when the caller has just read the
        settings consistently; else read here, and only when a face is linked)."""
        try:
            bib = searched_bib(bib)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        bib_items = self.table.photos_with_bib(org_id, event_id, bib)
        read_on = {item["photoId"] for item in bib_items}
        corrected = {item["photoId"] for item in bib_items if item.get("corrected")}
        linked_faces = sorted(_faces_linked(bib_items))[:MAX_LINKED_FACES]
        if linked_faces and not (self.table.faces_on(org_id, event_id) if faces_on is None else faces_on):
            linked_faces = []  # turned off: its faces may still be on their way out
        found, complete = self._linked_face_matches(org_id, event_id, bib, linked_faces)
        seen_in: dict[str, float] = {}
        faces_in: dict[str, set[str]] = {}
        for photo_id, face_id, similarity in found:
            if photo_id not in read_on:
                seen_in[photo_id] = max(similarity, seen_in.get(photo_id, 0.0))
                faces_in.setdefault(photo_id, set()).add(face_id)
        timed = self._by_time(org_id, event_id, bib, read_on | set(seen_in))
        photos = self._indexed(org_id, event_id, read_on | set(seen_in) | set(timed))
        # a face match holds while its photo still has the face: every deletion path (erasure, face
        # search off, retention, a new run) takes it off the photo item, which is read here anyway
        still = {p for p in seen_in if p in photos and faces_in[p] & set(photos[p].get("faceIds") or ())}
        matches = [Match(photos[p], "corrected" if p in corrected else "bib") for p in read_on if p in photos]
        matches += [Match(photos[p], "face", seen_in[p]) for p in seen_in if p in still]
        matches += [Match(photos[p], "time", seconds=timed[p]) for p in timed if p in photos]
        return _ranked(matches), complete

    def _linked_face_matches(
        self, org_id: str, event_id: str, bib: str, linked_faces: list[str], now: float | None = None
    ) -> tuple[list[tuple[str, str, float]], bool]:
        """([(photo id, face id, similarity)], complete): where the bib's linked faces appear. Kept
        in the table for FACE_MATCHES_SECONDS per bib and set of linked faces, so repeated searches
        of a bib cost no Rekognition call; a throttle answers what was found so far, uncached."""
        if not linked_faces:
            return [], True
        now = time.time() if now is None else now
        cached = self.table.face_matches(org_id, event_id, bib)
        if cached and cached.get("linkedFaces") == linked_faces and int(cached.get("expiresAt", 0)) > now:
            return [(photo, face, float(similarity)) for photo, face, similarity in cached["matches"]], True
        found: list[tuple[str, str, float]] = []
        for face_id in linked_faces:
            try:
                found += self._search_face(org_id, event_id, face_id)
            except (RekognitionThrottled, RekognitionUnavailable):
                return found, False
        found = found[:MAX_CACHED_MATCHES]
        matches, expires_at = [list(match) for match in found], int(now) + FACE_MATCHES_SECONDS
        try:
            self.table.put_face_matches(org_id, event_id, bib, linked_faces, matches, expires_at)
        except ClientError:  # throttled, say: the runner still gets the answer; the next search asks again
            logger.warning("face matches not kept", extra={"matches": len(found)})
        return found, True

    def _by_time(self, org_id: str, event_id: str, bib: str, known: set[str]) -> dict[str, float]:
        """Photo id -> seconds from the runner's passing: photos a camera at one of the runner's
        checkpoints took within the camera's window of it (the camera's offset applied), other
        than `known`, and not safely someone else's moment. Queries: the current import, the
        runner, the cameras, one CameraIndex range per camera and passing, the others' passings."""
        timing_table = TimingTable(self.table.table)
        current = timing_table.current(org_id, event_id)
        runner = current and timing_table.runner(org_id, event_id, current["importId"], bib)
        if not runner:
            return {}
        passings = timing.group_passings(runner)
        ranges = [
            (camera, passing, offset)
            for camera in timing_table.cameras(org_id, event_id)
            if (offset := timing.camera_offset(camera)) is not None
            for passing in passings.get(camera["checkpoint"], ())
        ][:MAX_CAMERA_QUERIES]
        candidates = []  # (photo, its checkpoint, its camera's window, the passing, seconds from it)
        for camera, passing, offset in ranges:
            window = timing.camera_window_seconds(camera)
            first, last = timing.camera_window(passing, offset, window)
            for photo in timing_table.camera_photos(org_id, event_id, camera["camera"], first, last):
                delta = timing.shot_seconds(photo["cameraTime"]) + offset - passing
                if photo["photoId"] not in known and abs(delta) <= window:
                    candidates.append((photo, camera["checkpoint"], window, passing, delta))
        others = {b for photo, *_ in candidates for b in photo.get("bibs") or ()} - {bib}
        runners = timing_table.runners(org_id, event_id, current["importId"], others) if others else {}
        their_passings = {other: timing.group_passings(runner) for other, runner in runners.items()}
        found: dict[str, float] = {}
        for photo, checkpoint, window, passing, delta in candidates:
            theirs = {
                other: by_checkpoint.get(checkpoint, []) for other, by_checkpoint in their_passings.items()
            }
            if timing.someone_elses_moment(photo, bib, passing, theirs, passing + delta, window):
                continue
            if photo["photoId"] not in found or abs(delta) < abs(found[photo["photoId"]]):
                found[photo["photoId"]] = delta
        return found

    def runners_named(self, org_id: str, event_id: str, text: str) -> list[dict]:
        """Runners of the event's timing results whose name matches `text` ({bib, name}), accent-
        and case-insensitively, each word typed starting a word of the name."""
        words = timing.name_tokens(text[: timing.MAX_NAME])
        if not words or len(max(words, key=len)) < MIN_NAME_LETTERS:
            raise BadRequest(f"give at least {MIN_NAME_LETTERS} letters of the runner's name")
        _check_word_lengths(words)
        timing_table = TimingTable(self.table.table)
        current = timing_table.current(org_id, event_id)
        if not current:
            return []
        return timing_table.named(org_id, event_id, current["importId"], words, MAX_RUNNERS_NAMED)

    def runner_named_in_full(self, org_id: str, event_id: str, words: list[str]) -> list[dict]:
        """The public name search: [{bib, name}] of the one runner whose name `words` (from
        full_name_words) are, or [] when no runner or several have it. No prefixes, no lists: a
        stranger walking names learns only the runners whose unshared name they already guessed
        (docs/security.md)."""
        timing_table = TimingTable(self.table.table)
        current = timing_table.current(org_id, event_id)
        if not current:
            return []
        found, complete = timing_table.named_in_full(org_id, event_id, current["importId"], words)
        return found if len(found) == 1 and complete else []  # unsure it is the only one: none

    def by_selfie(
        self,
        org_id: str,
        event_id: str,
        selfie: bytes,
        runner: str | None = None,
        faces_on: bool | None = None,
    ) -> list[Match]:
        """Photos with the selfie's face. With `runner` (the bib of a runner's link), the selfie
        must be that runner's: one of the faces linked to the bib must be among the matches, so a
        link cannot be used to look for someone else (no extra Rekognition call). A bib with no
        linked face is refused before Rekognition is called: there is nothing to check the selfie
        against, and the whole event is never the answer.
        `faces_on`: whether face search is on, when the caller has just read the event's settings
        consistently (the public route); otherwise read here."""
        check_selfie(selfie)
        if not (self.table.faces_on(org_id, event_id) if faces_on is None else faces_on):
            raise FaceSearchOff("face search is off for this event: search by bib number")
        linked = (
            _faces_linked(self.table.photos_with_bib(org_id, event_id, runner))
            if runner is not None
            else set()
        )
        if runner is not None and not linked:  # nothing to check the selfie against: never the whole event
            raise InvalidRunnerLink(
                "no photo with your bib shows your face yet: search by your bib number, "
                "and try a selfie again once more photos are in"
            )
        collection = collection_id(self.collection_prefix, org_id, event_id)
        try:  # a runner is waiting: one attempt, a throttle answers 503 (handlers.api)
            response = rekognition.search_faces_by_image(
                self.rekognition, collection, selfie, SELFIE_THRESHOLD, patient=False
            )
        except self.rekognition.exceptions.ResourceNotFoundException:
            return []  # no photo of this event has been indexed yet
        except InvalidImage as exc:
            raise BadRequest(selfie_problem(str(exc))) from None
        matched = {match["Face"].get("FaceId") for match in response.get("FaceMatches", [])}
        if runner is not None and not linked & matched:
            raise InvalidRunnerLink(
                "this selfie does not look like the runner this link was made for: search by your bib number"
            )
        similarity = _best_by_photo(response)
        photos = self._indexed(org_id, event_id, set(similarity))
        return _ranked(Match(photos[p], "selfie", similarity[p]) for p in similarity if p in photos)

    def _search_face(self, org_id: str, event_id: str, face_id: str) -> list[tuple[str, str, float]]:
        collection = collection_id(self.collection_prefix, org_id, event_id)
        try:  # one attempt: a throttle leaves the bib reads to answer alone (by_bib)
            response = rekognition.search_faces(
                self.rekognition, collection, face_id, LINKED_FACE_THRESHOLD, patient=False
            )
        except (
            self.rekognition.exceptions.ResourceNotFoundException,  # collection gone
            self.rekognition.exceptions.InvalidParameterException,  # face deleted since the link
        ):
            return []
        return [
            (match["Face"]["ExternalImageId"], match["Face"]["FaceId"], float(match["Similarity"]))
            for match in response.get("FaceMatches", [])
            if match["Face"].get("ExternalImageId") and match["Face"].get("FaceId")
        ]

    def _indexed(self, org_id: str, event_id: str, photo_ids: set[str]) -> dict[str, dict]:
        items = self.table.get_photos(org_id, event_id, photo_ids) if photo_ids else {}
        return {photo_id: item for photo_id, item in items.items() if item.get("status") == INDEXED}


def full_name_words(text: str) -> list[str]:
    """The words of a name a runner typed, for the public name search; BadRequest when they cannot
    be a name (too few letters, a word no name has)."""
    words = sorted(set(timing.name_tokens(text[: timing.MAX_NAME])))
    if sum(len(word) for word in words) < MIN_FULL_NAME_LETTERS:
        raise BadRequest("type your name as the results list it: first and last name")
    _check_word_lengths(words)
    return words


def _faces_linked(bib_items: list[dict]) -> set[str]:
    """The faces linked to a bib (pipeline.processing.links), from its bib items."""
    return {item["faceId"] for item in bib_items if item.get("faceId")}


def _check_word_lengths(words: list[str]) -> None:
    """A word folded from a few exotic characters can outgrow a sort key (1,024 bytes)."""
    if any(len(word.encode()) > MAX_NAME_WORD_BYTES for word in words):
        raise BadRequest("no word of a name is that long: type the name as the results list it")


def _best_by_photo(response: dict) -> dict[str, float]:
    """Photo id -> its best face similarity, from a face search's FaceMatches."""
    best: dict[str, float] = {}
    for match in response.get("FaceMatches", []):
        photo_id = match["Face"].get("ExternalImageId")
        if photo_id:
            best[photo_id] = max(float(match["Similarity"]), best.get(photo_id, 0.0))
    return best


_RANK = {"bib": 0, "corrected": 0, "face": 1, "selfie": 1, "time": 2}


def _ranked(matches) -> list[Match]:
    """Bib reads (a machine's or a person's) first, then face matches by similarity, then time
    matches by closeness; newest first among equals."""
    newest_first = sorted(matches, key=lambda m: m.item.get("galleryKey", ""), reverse=True)
    return sorted(
        newest_first,
        key=lambda m: (_RANK.get(m.matched_by, 1), -(m.similarity or 0.0), abs(m.seconds or 0.0)),
    )


def selfie_problem(message: str) -> str:
    if "no faces" in message.lower():
        return "no face was found in the selfie; take it facing the camera in good light"
    return "the selfie could not be read as an image (JPEG or PNG, at least 80 px a side)"


def photo_urls(s3_client, bucket: str, item: dict) -> dict:
    """Short-lived presigned URLs for the processed photo, its thumbnail, and the processed photo
    as a download (Content-Disposition: attachment, so a phone saves it). Never a plain CDN URL:
    photo ids hash guessable camera file names, so unsigned URLs would let anyone list an event's
    photos."""
    wanted = (
        ("photoUrl", "processedKey", {}),
        ("thumbnailUrl", "thumbnailKey", {}),
        (
            "downloadUrl",
            "processedKey",
            {"ResponseContentDisposition": f'attachment; filename="{item.get("photoId", "photo")}.jpg"'},
        ),
    )
    urls = {}
    for name, key_attribute, extra in wanted:
        key = item.get(key_attribute)
        urls[name] = (
            s3_client.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key, **extra}, ExpiresIn=URL_SECONDS
            )
            if key
            else None
        )
    return urls


def describe(match: Match, urls: dict) -> dict:
    """A photo as the API returns it: no raw key (it can name photographers), no face ids."""
    item = match.item
    return {
        "photoId": item["photoId"],
        "bibs": list(item.get("bibs", [])),
        "matchedBy": match.matched_by,
        "similarity": None if match.similarity is None else round(match.similarity, 2),
        "secondsFromPassing": None if match.seconds is None else round(match.seconds, 1),
        "takenAt": item.get("takenAt"),
        "width": int(item["width"]) if item.get("width") is not None else None,
        "height": int(item["height"]) if item.get("height") is not None else None,
        **urls,
    }
