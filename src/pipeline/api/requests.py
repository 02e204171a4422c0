"""The bodies the organiser API takes, typed: a route reads its body as one of these after its
guards (pipeline.api.shared.body_of), and a refusal is a 400 naming the fields and saying what each
takes (the model's docstring). Strict: true is true (not "true" or 1), and no field but these."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

BibText = Annotated[
    str, Field(max_length=40)
]  # a bib as typed; pipeline.processing.bibs says whether it is one


class SettingsChange(BaseModel):
    """published, faces and nameSearch are true or false, selfieSearch is "open" or "verified",
    bibRange is "FIRST-LAST" (e.g. "1-5000") or null to clear it; a field left out stays as it is"""

    model_config = ConfigDict(extra="forbid", strict=True)
    published: bool | None = None
    faces: bool | None = Field(None, description="false deletes the event's faces now")
    nameSearch: bool | None = None
    selfieSearch: Literal["open", "verified"] | None = None
    bibRange: str | None = Field(None, max_length=40, description='"FIRST-LAST", e.g. "1-5000"')


class Correction(BaseModel):
    """add and remove are lists of bib numbers (strings), confirm and spread are true or false,
    face is the face's number (1 = leftmost)"""

    model_config = ConfigDict(extra="forbid", strict=True)
    add: list[BibText] = Field(default_factory=list, max_length=100)
    remove: list[BibText] = Field(default_factory=list, max_length=100)
    confirm: bool = False
    face: int | None = Field(None, ge=1, le=100, description="the face's number, 1 = leftmost")
    spread: bool = False
