"""What `sam deploy [--config-env prod]` sends: samconfig.toml's parameters for each environment
must satisfy the template's own Rules, or CloudFormation refuses the deploy before it starts."""

import shlex
import tomllib
from pathlib import Path

import pytest

from snaprace.template import Resolver, load_template

ROOT = Path(__file__).resolve().parent.parent


def deploy_parameters(environment: str) -> dict:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    overrides = config[environment]["deploy"]["parameters"]["parameter_overrides"]
    return dict(pair.split("=", 1) for pair in shlex.split(overrides))


def rules_failed(parameters: dict) -> list[str]:
    return Resolver(load_template(), region="ap-northeast-2", parameters=dict(parameters)).failed_rules()


@pytest.mark.parametrize("environment", ["default", "prod"])
def test_each_samconfig_environment_satisfies_the_template_rules(environment):
    assert rules_failed(deploy_parameters(environment)) == []


def test_prod_deploys_prod_with_an_alarm_address_and_no_wildcard_origin():
    parameters = deploy_parameters("prod")
    assert parameters["Stage"] == "prod"
    assert parameters["AlarmEmail"]
    assert "*" not in parameters.get("CorsOrigins", "")


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"CorsOrigins": "*"}, "NoWildcardCorsInProd"),
        ({"CorsOrigins": "https://photos.example.org,*"}, "NoWildcardCorsInProd"),
        ({"AlarmEmail": ""}, "AlarmEmailInProd"),
    ],
)
def test_the_rules_refuse_what_would_break_prod(overrides, rule):
    parameters = {**deploy_parameters("prod"), **overrides}
    assert [failure.split(":")[0] for failure in rules_failed(parameters)] == [rule]


def test_dev_may_use_any_origin_but_prod_without_overrides_needs_its_alarm_address():
    assert rules_failed({"Stage": "dev", "CorsOrigins": "*"}) == []
    assert rules_failed({"Stage": "prod"}) == [
        "AlarmEmailInProd: prod needs AlarmEmail, or its alarms notify nobody."
    ]


def test_the_bucket_name_carries_account_and_region_and_fits_s3s_limit():
    resolver = Resolver(
        load_template(), region="ap-northeast-2", account="123456789012", parameters={"Stage": "prod"}
    )
    name = resolver.name_of("ImageBucket")
    assert name == "snaprace-images-prod-123456789012-ap-northeast-2"
    longest = Resolver(
        load_template(), region="ap-southeast-5", account="123456789012", parameters={"Stage": "prod"}
    )
    assert len(longest.name_of("ImageBucket")) <= 63


@pytest.mark.parametrize(
    ("low", "high", "ok"), [("2", "6", True), ("4", "4", True), ("7", "3", False), ("10", "9", False)]
)
def test_bib_lengths_must_be_in_order(low, high, ok):
    failed = rules_failed({"Stage": "dev", "BibMinLength": low, "BibMaxLength": high})
    assert failed == ([] if ok else ["BibLengthsInOrder: BibMinLength must not exceed BibMaxLength."])


def test_the_local_stack_refuses_parameters_cloudformation_would_refuse():
    from snaprace.local.stack import LocalStack, TemplateRulesFailed

    with pytest.raises(TemplateRulesFailed, match="BibMinLength must not exceed BibMaxLength"):
        LocalStack(port=4995, parameter_overrides={"BibMinLength": "7", "BibMaxLength": "3"})
