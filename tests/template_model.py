"""template.yaml as the tests see it: loaded with CloudFormation's short tags, and the few
values tests derive from it (table definition, function handlers), so a test breaks when the
template and the code disagree."""

import json
from functools import cache
from pathlib import Path

from cfn_flip import load_yaml

ROOT = Path(__file__).resolve().parent.parent


@cache
def _load() -> str:
    return json.dumps(load_yaml((ROOT / "template.yaml").read_text()))


def load_template() -> dict:
    return json.loads(_load())


def resources_of_type(template: dict, resource_type: str) -> dict:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == resource_type}


def resolve_stage(value, stage: str):
    """Resolve the `!Sub "...${Stage}..."` names the template uses for physical names."""
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"].replace("${Stage}", stage)
    return value


def create_table_kwargs(template: dict, stage: str) -> dict:
    (table,) = resources_of_type(template, "AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    return {
        "TableName": resolve_stage(properties["TableName"], stage),
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties["BillingMode"],
    }
