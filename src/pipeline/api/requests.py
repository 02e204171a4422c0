"""The bodies the organiser API takes, typed: Powertools' resolver checks each request against its
model (enable_validation) before the route runs, and a refusal is a 400 naming the fields
(pipeline.api.shared), naming the fields and saying what each one takes (`refusal`). Strict: true
is true (not "true" or 1), and no field but these."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BibText = Field(max_length=40)  # a bib as typed; pipeline.processing.bibs says whether it is one


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
    add: list[str] = Field(default_factory=list, max_length=100)
    remove: list[str] = Field(default_factory=list, max_length=100)
    confirm: bool = False
    face: int | None = Field(None, ge=1, le=100, description="the face's number, 1 = leftmost")
    spread: bool = False


def refusal(model: type[BaseModel], wrong: str) -> str:
    """What a refused body should have been: the fields, and what each takes (the docstring)."""
    fields = ", ".join(model.model_fields)
    what = " ".join((model.__doc__ or "").split())
    return f"{wrong or 'the body'}: send a JSON object with some of {fields} ({what})"
