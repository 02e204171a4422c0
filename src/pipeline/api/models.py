"""The shapes the search API answers, typed: Powertools' resolver checks every answer against them
(enable_validation) and generates the API's OpenAPI description from them and the routes
(`GET /openapi.json`, checked in as docs/openapi.json). Parameters are described here once, so
the routes and the description cannot drift apart.
"""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic import BaseModel, Field

from pipeline.api.web import CLIENT_HEADER

MatchedBy = Literal["bib", "corrected", "face", "time", "selfie"]


class Photo(BaseModel):
    photoId: str
    bibs: list[str]
    matchedBy: MatchedBy | None = Field(description="why the photo answers: null in the gallery")
    similarity: float | None = Field(description="face or selfie matches: the face's similarity, 0-100")
    secondsFromPassing: float | None = Field(description='"time" matches: the photo minus the passing')
    takenAt: str | None
    width: int | None
    height: int | None
    photoUrl: str | None = Field(description="presigned, valid 15 minutes")
    thumbnailUrl: str | None
    downloadUrl: str | None = Field(description="the photo as an attachment (a phone saves it)")


class Gallery(BaseModel):
    photos: list[Photo]
    count: int
    nextCursor: str | None = Field(description="the next page's cursor, null on the last page")


class BibPhotos(BaseModel):
    photos: list[Photo]
    count: int
    bib: str = Field(description="the bib as searched, normalised (pipeline.processing.bibs)")
    faceMatchesComplete: bool = Field(description="false: Rekognition was busy; search again for faces")


class SelfiePhotos(BaseModel):
    photos: list[Photo]
    count: int


class Runner(BaseModel):
    bib: str
    name: str


class Runners(BaseModel):
    runners: list[Runner]
    count: int


class PublicEvent(BaseModel):
    published: bool
    faceSearch: bool | None = None
    selfieSearch: Literal["open", "verified"] | None = None
    nameSearch: bool | None = None


class Message(BaseModel):
    message: str


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"model": Message}}}


ERRORS = {
    401: _error("no x-api-key (keyed routes; the authorizer answers a key it does not know with 403)"),
    400: _error("the request cannot be answered as sent; the message says why"),
    403: _error(
        "not open to this caller: a key the authorizer refuses or that does not open this org, face or "
        "name search off, a runner link missing or wrong"
    ),
    413: _error("the body is over API Gateway's or Lambda's limits"),
    415: _error("a selfie must be application/json, image/jpeg or image/png"),
    429: _error("this client's share is used up: Retry-After says when to try again"),
    503: _error("Rekognition is busy: try again in a few seconds (Retry-After)"),
}


def answers(model: type[BaseModel], *codes: int) -> dict:
    """A route's documented answers: `model` on 200, a Message on each error code."""
    ok = {"description": "the answer", "content": {"application/json": {"model": model}}}
    return {200: ok, **{code: ERRORS[code] for code in codes}}


# plain strings: the route's own checks answer 400 with a message (no 422 from the resolver)
Limit = Annotated[str, Query(description="photos per page, 1-100")]
Cursor = Annotated[str | None, Query(description="nextCursor of the previous page")]
Name = Annotated[str, Query(description="the runner's name as the results list it")]
Consent = Annotated[str | None, Query(description='"true" when the body is the image itself')]
ClientHeader = Annotated[
    str,
    Header(
        alias=CLIENT_HEADER,
        description="any value: a header a cross-site page cannot send without a CORS preflight",
    ),
]
RunnerToken = Annotated[
    str | None, Header(alias="x-runner-token", description="a runner's link: opens a verified selfie search")
]
SELFIE_BODY = {
    "requestBody": {
        "required": True,
        "description": "the selfie; never stored or logged. At most 4 MB.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["consent", "image"],
                    "properties": {
                        "consent": {"const": True},
                        "image": {"type": "string", "contentEncoding": "base64"},
                    },
                }
            },
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
