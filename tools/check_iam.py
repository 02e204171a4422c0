"""The deployed IAM, checked: apply the SAM transform offline to template.yaml and fail when any
policy statement in the result allows `*` as an action, or `*` as a resource where the API has
resource-level permissions. Runs in the SAM venv (samtranslator), in `make security`.

    python tools/check_iam.py template.yaml
"""

import json
import sys
from pathlib import Path

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from iam_rules import RESOURCELESS_ACTIONS  # noqa: E402


class NoNetworkPolicyLoader:
    def load(self):
        raise SystemExit("the template names a managed policy by name; use its ARN (no network here)")


def statements(policy_document: dict):
    found = policy_document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def main(path: str) -> int:
    template = yaml_parse(Path(path).read_text())
    template["Transform"] = "AWS::Serverless-2016-10-31"  # LanguageExtensions only shapes DeletionPolicy
    # local code locations become S3 ones, as `sam validate` does; IAM does not depend on them
    template.get("Globals", {}).get("Function", {})["CodeUri"] = "s3://bucket/code.zip"
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::StateMachine":
            resource["Properties"]["DefinitionUri"] = "s3://bucket/definition.json"
    transformed = transform(template, {"Stage": "prod"}, NoNetworkPolicyLoader())
    problems, managed = [], set()
    for logical_id, resource in transformed["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        properties = resource["Properties"]
        managed |= {json.dumps(arn) for arn in properties.get("ManagedPolicyArns", [])}
        for policy in properties.get("Policies", []):
            for statement in statements(policy["PolicyDocument"]):
                actions = statement.get("Action", [])
                actions = actions if isinstance(actions, list) else [actions]
                resources = statement.get("Resource", [])
                resources = resources if isinstance(resources, list) else [resources]
                if statement.get("Effect") != "Allow":
                    continue
                if any("*" in str(action) for action in actions):
                    problems.append(f"{logical_id}/{policy['PolicyName']}: wildcard action {actions}")
                if "*" in resources and not set(actions) <= RESOURCELESS_ACTIONS:
                    problems.append(f"{logical_id}/{policy['PolicyName']}: Resource * for {actions}")
    for problem in problems:
        print(f"IAM: {problem}")
    print(f"IAM: {len(problems)} problems; managed policies SAM attaches: {', '.join(sorted(managed))}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
