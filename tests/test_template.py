"""The template, the state machine, the handlers and events/ agree with each other and with the
operational rules in DESIGN.md section 6."""

import importlib
import json
import re

import pytest

from snaprace.template import ROOT, resources_of_type
from tools.iam_rules import RESOURCELESS_ACTIONS

ALLOWED_STAR_ACTIONS = RESOURCELESS_ACTIONS  # APIs without resource-level permissions


def functions(template):
    return resources_of_type(template, "AWS::Serverless::Function")


def test_every_function_has_an_importable_handler_and_a_sample_event(template):
    assert len(functions(template)) == 9
    for logical_id, function in functions(template).items():
        module_name, _, attribute = function["Properties"]["Handler"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        assert callable(handler), logical_id
        stem = module_name.rsplit(".", 1)[-1]
        samples = sorted((ROOT / "events").glob(f"{stem}*.json"))
        assert samples, f"{logical_id} has no events/{stem}*.json"
        for sample in samples:
            json.loads(sample.read_text())


def test_functions_and_log_groups_carry_the_stage(template):
    log_groups = {
        res["Properties"]["LogGroupName"]["Fn::Sub"]: res["Properties"]["RetentionInDays"]
        for res in resources_of_type(template, "AWS::Logs::LogGroup").values()
    }
    for logical_id, function in functions(template).items():
        assert function["Properties"]["FunctionName"] == {"Fn::Sub": f"{logical_id}-${{Stage}}"}
        assert log_groups[f"/aws/lambda/{logical_id}-${{Stage}}"] == 14


def test_runtime_is_python313_on_arm64_with_tracing(template):
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Tracing"] == "Active"


def test_state_machine_uses_every_substitution_and_names_only_template_functions(template):
    (machine,) = resources_of_type(template, "AWS::Serverless::StateMachine").values()
    properties = machine["Properties"]
    definition = (ROOT / properties["DefinitionUri"]).read_text()
    placeholders = set(re.findall(r"\$\{(\w+)\}", definition))
    assert placeholders == set(properties["DefinitionSubstitutions"])
    for name, value in properties["DefinitionSubstitutions"].items():
        assert value == {"Fn::GetAtt": [name.removesuffix("Arn"), "Arn"]}
        assert name.removesuffix("Arn") in functions(template)
    invoked = {
        policy["LambdaInvokePolicy"]["FunctionName"]["Ref"]
        for policy in properties["Policies"]
        if "LambdaInvokePolicy" in policy
    }
    assert invoked == {name.removesuffix("Arn") for name in placeholders}
    assert properties["Type"] == "STANDARD" and properties["Tracing"] == {"Enabled": True}


def test_state_machine_routes_every_outcome():
    asl = json.loads((ROOT / "statemachine/image_processing.asl.json").read_text())
    states = asl["States"]
    preprocess_catches = {tuple(c["ErrorEquals"]): c["Next"] for c in states["Preprocess"]["Catch"]}
    assert preprocess_catches[("InvalidImage",)] == "RecordRejection"
    assert preprocess_catches[("States.ALL",)] == "RecordFailure"
    assert states["RecordFailure"]["Next"] == "Failed" and states["Failed"]["Type"] == "Fail"
    for name, state in states.items():
        if state["Type"] == "Task":
            retried = {error for rule in state["Retry"] for error in rule["ErrorEquals"]}
            assert {
                "Lambda.ServiceException",
                "Lambda.TooManyRequestsException",
                "RekognitionThrottled",
            } <= retried, name
            assert all(rule["JitterStrategy"] == "FULL" for rule in state["Retry"]), name


def policy_statements(function):
    for policy in function["Properties"].get("Policies", []):
        yield from policy.get("Statement", []) if isinstance(policy, dict) else []


def test_iam_names_resources_wherever_the_api_allows(template):
    resources = {**functions(template), **resources_of_type(template, "AWS::Serverless::StateMachine")}
    for logical_id, resource in resources.items():
        for statement in policy_statements(resource):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all("*" not in action for action in actions), (logical_id, actions)
            if statement["Resource"] == "*":
                assert set(actions) <= ALLOWED_STAR_ACTIONS, (logical_id, actions)


def test_bucket_denies_plain_http_and_foreign_encryption(template):
    policy = template["Resources"]["ImageBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    by_sid = {statement["Sid"]: statement for statement in policy}
    assert by_sid["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    encryption = by_sid["DenyEncryptionOtherThanAES256"]
    assert encryption["Effect"] == "Deny"
    assert encryption["Condition"]["StringNotEquals"] == {"s3:x-amz-server-side-encryption": "AES256"}
    bucket = template["Resources"]["ImageBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


def test_upload_rule_matches_only_raw_layouts(template):
    pattern = template["Resources"]["UploadRule"]["Properties"]["EventPattern"]
    assert pattern["detail"]["object"]["key"] == [{"wildcard": "*/*/raw/*"}, {"prefix": "raw/"}]
    queue = template["Resources"]["UploadQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5


@pytest.mark.parametrize("logical_id", ["ImageBucket", "PhotoTable"])
def test_production_data_is_retained(template, logical_id):
    assert template["Resources"][logical_id]["DeletionPolicy"] == {"Fn::If": ["IsProd", "Retain", "Delete"]}
