"""The read side: an event's gallery, a runner's photos by bib (and through their linked face), and
by selfie. Used by the search API and by `snaprace photos`, so both answer the same.

Every query names the org in its partition key (table) or collection id (Rekognition), so one
organiser's search can never reach another's photos. A selfie is searched and forgotten: it is
never stored and never logged.
"""

import time

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from pipeline.access.runner_links import InvalidRunnerLink
from pipeline.common import rekognition
from pipeline.common.errors import BadRequest, InvalidImage, RekognitionThrottled, RekognitionUnavailable
from pipeline.common.keys import collection_id
from pipeline.common.models import INDEXED
from pipeline.processing.bibs import searched_bib
from pipeline.processing.links import LINKED_FACE_THRESHOLD
from pipeline.search import names
from pipeline.search.answers import Match, ranked
from pipeline.search.by_time import photos_by_time
from pipeline.search.cursor import decode_cursor, encode_cursor
from pipeline.search.selfie import SELFIE_THRESHOLD, best_by_photo, check_selfie, selfie_problem
from pipeline.store import Store

MAX_LINKED_FACES = 10  # face ids searched per bib (one per photo the bib was read on, at most)
MAX_PAGE = 100
FACE_MATCHES_SECONDS = 600  # a bib's face matches are reused this long: new photos show within it
MAX_CACHED_MATCHES = 400  # (photo, face, similarity) kept per bib: the item stays under ~30 KB
logger = Logger(child=True)  # a shared module: the handler's Logger sets the output up


class FaceSearchOff(PermissionError):
    """The organiser turned face search off for the event (pipeline.events.settings)."""


class NameSearchOff(PermissionError):
    """The organiser has not turned the public name search on (pipeline.events.settings)."""


class PhotoSearch:
    def __init__(self, table: Store, rekognition_client, collection_prefix: str, cursor_key: bytes = b""):
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
        items, last = self.table.photos.gallery(org_id, event_id, limit, start)
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
        bib_items = self.table.bibs.photos_with(org_id, event_id, bib)
        read_on = {item["photoId"] for item in bib_items}
        corrected = {item["photoId"] for item in bib_items if item.get("corrected")}
        linked_faces = sorted(_faces_linked(bib_items))[:MAX_LINKED_FACES]
        if linked_faces and not (
            self.table.settings.faces_on(org_id, event_id) if faces_on is None else faces_on
        ):
            linked_faces = []  # turned off: its faces may still be on their way out
        found, complete = self._linked_face_matches(org_id, event_id, bib, linked_faces)
        seen_in: dict[str, float] = {}
        faces_in: dict[str, set[str]] = {}
        for photo_id, face_id, similarity in found:
            if photo_id not in read_on:
                seen_in[photo_id] = max(similarity, seen_in.get(photo_id, 0.0))
                faces_in.setdefault(photo_id, set()).add(face_id)
        timed = photos_by_time(self.table, org_id, event_id, bib, read_on | set(seen_in))
        photos = self._indexed(org_id, event_id, read_on | set(seen_in) | set(timed))
        # a face match holds while its photo still has the face: every deletion path (erasure, face
        # search off, retention, a new run) takes it off the photo item, which is read here anyway
        still = {p for p in seen_in if p in photos and faces_in[p] & set(photos[p].get("faceIds") or ())}
        matches = [Match(photos[p], "corrected" if p in corrected else "bib") for p in read_on if p in photos]
        matches += [Match(photos[p], "face", seen_in[p]) for p in seen_in if p in still]
        matches += [Match(photos[p], "time", seconds=timed[p]) for p in timed if p in photos]
        return ranked(matches), complete

    def _linked_face_matches(
        self, org_id: str, event_id: str, bib: str, linked_faces: list[str], now: float | None = None
    ) -> tuple[list[tuple[str, str, float]], bool]:
        """([(photo id, face id, similarity)], complete): where the bib's linked faces appear. Kept
        in the table for FACE_MATCHES_SECONDS per bib and set of linked faces, so repeated searches
        of a bib cost no Rekognition call; a throttle answers what was found so far, uncached."""
        if not linked_faces:
            return [], True
        now = time.time() if now is None else now
        cached = self.table.faces.matches(org_id, event_id, bib)
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
            self.table.faces.put_matches(org_id, event_id, bib, linked_faces, matches, expires_at)
        except ClientError:  # throttled, say: the runner still gets the answer; the next search asks again
            logger.warning("face matches not kept", extra={"matches": len(found)})
        return found, True

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
        if not (self.table.settings.faces_on(org_id, event_id) if faces_on is None else faces_on):
            raise FaceSearchOff("face search is off for this event: search by bib number")
        linked = (
            _faces_linked(self.table.bibs.photos_with(org_id, event_id, runner))
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
        similarity = best_by_photo(response)
        photos = self._indexed(org_id, event_id, set(similarity))
        return ranked(Match(photos[p], "selfie", similarity[p]) for p in similarity if p in photos)

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
        items = self.table.photos.get_many(org_id, event_id, photo_ids) if photo_ids else {}
        return {photo_id: item for photo_id, item in items.items() if item.get("status") == INDEXED}

    def runners_named(self, org_id: str, event_id: str, text: str) -> list[dict]:
        return names.runners_named(self.table, org_id, event_id, text)

    def runner_named_in_full(self, org_id: str, event_id: str, words: list[str]) -> list[dict]:
        return names.runner_named_in_full(self.table, org_id, event_id, words)


def _faces_linked(bib_items: list[dict]) -> set[str]:
    """The faces linked to a bib (pipeline.processing.links), from its bib items."""
    return {item["faceId"] for item in bib_items if item.get("faceId")}
