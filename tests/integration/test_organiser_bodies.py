"""The organiser API's bodies are typed (pipeline.api.requests), read after the caller is known
(pipeline.api.shared.body_of): a refused body is a 400 that names the fields and says what the body
should have been, never repeats the caller's input, and no body makes a 500."""

import copy
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = {"role": "operator", "org": ""}


def call(fixture: str, body, context, caller=OPERATOR, **changes) -> tuple[int, dict]:
    from pipeline.handlers import organiser_api

    event = copy.deepcopy(json.loads((ROOT / "events" / f"{fixture}.json").read_text()))
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    event["requestContext"]["authorizer"] = {"lambda": caller}
    event.update(changes)
    answer = organiser_api.lambda_handler(event, context)
    return answer["statusCode"], json.loads(answer["body"])


@pytest.mark.parametrize(
    ("body", "named", "says"),
    [
        ({"add": "5103"}, "add", "lists of bib numbers"),
        (
            {"add": ["5103"], "delete": True},
            "1 field(s) it does not have",
            "some of add, remove, confirm, face",
        ),
        ({"confirm": "true"}, "confirm", "true or false"),
        ({"face": True}, "face", "the face's number"),
        ({"face": 0}, "face", "the face's number"),
        ("[" * 2000 + "]" * 2000, "the body", "JSON object"),
        ("not json", "the body", "JSON object"),
        (["5103"], "the body", "JSON object"),
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


def test_an_unknown_field_is_counted_never_repeated(aws, context):
    status, answer = call("organiser_api_correction", {"<img src=x onerror=alert(1)>": 1}, context)
    assert status == 400 and "<img" not in answer["message"] and "1 field(s)" in answer["message"]


@pytest.mark.parametrize("body", ["/w==", "not base64!", "eyJwdWJsaXNoZWQiOiB0cnVlfQ"])
def test_a_base64_body_that_is_not_utf8_or_not_base64_is_a_400(aws, context, body):
    status, answer = call("organiser_api_settings", body, context, isBase64Encoded=True)
    assert status == 400 and answer["message"].startswith("the body"), answer


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "Application/JSON", "application/x-www-form-urlencoded", "multipart/form-data"],
)
def test_the_json_body_decides_whatever_content_type_says(aws, context, content_type):
    """curl -d sends a form type; the page sends JSON: the body is read as JSON either way."""
    fixture = json.loads((ROOT / "events" / "organiser_api_settings.json").read_text())
    headers = {**fixture["headers"], "content-type": content_type}
    status, answer = call("organiser_api_settings", {"published": True}, context, headers=headers)
    assert status == 200 and answer["published"] is True, answer


def test_another_orgs_key_is_refused_before_its_body_is_read(aws, context):
    status, answer = call(
        "organiser_api_correction", "not json", context, caller={"role": "organiser", "org": "other"}
    )
    assert status == 403 and "does not open org" in answer["message"]
