"""template.yaml resolved for a stage: the local stack's names, handlers and environments come
from here, so these tests break when the template and the local stack disagree."""

import importlib

import pytest

from snaprace.local.functions import EnvironmentConflict, union_environment
from snaprace.local.stack import LocalStack
from snaprace.template import FunctionSpec, Resolver, find_function, load_template


@pytest.fixture
def local():
    return LocalStack(port=4999)


def test_local_stack_uses_the_template_names_for_dev(local):
    assert local.outputs["BucketName"] == "snaprace-images-dev-123456789012-ap-northeast-2"
    assert local.outputs["TableName"] == "PhotoService-dev"
    assert local.outputs["QueueUrl"] == "http://127.0.0.1:4999/123456789012/image-upload-dev"
    assert local.outputs["DlqUrl"].endswith("/image-upload-dlq-dev")
    assert local.outputs["StateMachineArn"] == (
        "arn:aws:states:ap-northeast-2:123456789012:stateMachine:image-processing-dev"
    )


def test_every_function_gets_its_handler_and_environment_from_the_template(local):
    template = load_template()
    functions = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"]
    assert sorted(local.specs) == sorted(functions)
    for spec in local.specs.values():
        module, _, name = spec.handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name))
        assert spec.name.endswith("-dev")
        assert spec.environment["BUCKET_NAME"] == "snaprace-images-dev-123456789012-ap-northeast-2"
        assert spec.environment["COLLECTION_PREFIX"] == "snaprace-dev"
    starter = local.specs["StartProcessingFunction"]
    assert starter.environment["STATE_MACHINE_ARN"] == local.outputs["StateMachineArn"]
    assert local.specs["PreprocessFunction"].memory == 1769
    (uploads,) = starter.events.values()
    assert uploads["Properties"]["Queue"] == "arn:aws:sqs:ap-northeast-2:123456789012:image-upload-dev"


def test_prod_resolves_prod_names_and_conditions():
    template = load_template()
    resolver = Resolver(template, region="ap-northeast-2", parameters={"Stage": "prod"})
    assert resolver.name_of("ImageBucket") == "snaprace-images-prod-123456789012-ap-northeast-2"
    assert resolver.conditions["IsProd"] is True
    assert resolver.resolve(template["Resources"]["ImageBucket"]["DeletionPolicy"]) == "Retain"


def test_unresolvable_reference_is_an_error():
    with pytest.raises(KeyError, match="NoSuchThing"):
        Resolver(load_template(), region="ap-northeast-2").resolve({"Ref": "NoSuchThing"})


def test_functions_are_found_by_short_names():
    template = load_template()
    assert find_function(template, "preprocess") == "PreprocessFunction"
    assert find_function(template, "detect-text") == "DetectTextFunction"
    assert find_function(template, "StartProcessingFunction") == "StartProcessingFunction"
    with pytest.raises(KeyError, match="PreprocessFunction"):
        find_function(template, "resize")


def test_one_process_refuses_functions_that_disagree_on_a_variable():
    def spec(name, env):
        return FunctionSpec(name, name, "m.h", env, 3, 128, {})

    assert union_environment([spec("A", {"X": "1"}), spec("B", {"X": "1", "Y": "2"})]) == {"X": "1", "Y": "2"}
    with pytest.raises(EnvironmentConflict, match="A and B set X differently"):
        union_environment([spec("A", {"X": "1"}), spec("B", {"X": "2"})])


def test_template_functions_can_share_one_process(local):
    merged = union_environment(list(local.specs.values()))
    assert merged["STATE_MACHINE_ARN"] == local.outputs["StateMachineArn"]
