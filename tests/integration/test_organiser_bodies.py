"""The organiser API's bodies are typed (pipeline.api.requests): a refused body is a 400 that names
the fields and says what the body should have been, before anything is read or written."""

import copy
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = {"role": "operator", "org": ""}


def call(fixture: str, body, context) -> tuple[int, dict]:
    from pipeline.handlers import organiser_api

    event = copy.deepcopy(json.loads((ROOT / "events" / f"{fixture}.json").read_text()))
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    event["requestContext"]["authorizer"] = {"lambda": OPERATOR}
    answer = organiser_api.lambda_handler(event, context)
    return answer["statusCode"], json.loads(answer["body"])


@pytest.mark.parametrize(
    ("body", "named", "says"),
    [
        ({"add": "5103"}, "add", "lists of bib numbers"),
        ({"add": ["5103"], "delete": True}, "delete", "some of add, remove, confirm, face, spread"),
        ({"confirm": "true"}, "confirm", "true or false"),
        ({"face": True}, "face", "the face's number"),
        ({"face": 0}, "face", "the face's number"),
        ("[" * 2000 + "]" * 2000, "the body", "JSON object"),
        ("not json", "the body (not JSON)", "JSON object"),
    ],
)
def test_a_refused_correction_names_the_field_and_what_it_takes(aws, context, body, named, says):
    status, answer = call("organiser_api_correction", body, context)
    message = answer["message"]
    assert status == 400 and message.startswith(named) and says in message, message


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"published": "true"}, "published"),
        ({"selfieSearch": "OPEN"}, "selfieSearch"),
        ({"bibRange": 5000}, "bibRange"),
    ],
)
def test_a_refused_settings_change_names_the_field(aws, context, body, named):
    status, answer = call("organiser_api_settings", body, context)
    message = answer["message"]
    assert status == 400 and message.startswith(named) and '"open" or "verified"' in message, message


def test_a_body_larger_than_any_organiser_request_is_refused_unread(aws, context):
    status, answer = call("organiser_api_correction", {"add": ["1"] * 2000}, context)
    assert status == 413 and "4096" in answer["message"]


def test_a_setting_given_as_null_is_refused_and_a_null_range_clears_it(aws, context):
    status, answer = call("organiser_api_settings", {"published": None, "faces": True}, context)
    assert status == 400 and answer["message"].startswith("published: null is not a setting"), answer
    status, answer = call("organiser_api_settings", {"bibRange": "1-5000", "published": True}, context)
    assert status == 200 and answer["bibRange"] == "1-5000" and answer["published"] is True, answer
    status, answer = call("organiser_api_settings", {"bibRange": None}, context)
    assert status == 200 and answer["bibRange"] is None and answer["published"] is True, answer
