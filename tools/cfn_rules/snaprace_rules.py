"""The team's template standards, checked by cfn-lint (`make lint` runs it with --append-rules):

E9001 every function has its log group /aws/lambda/{FunctionName} with a retention;
E9002 least privilege: no wildcard action, and Resource "*" only for actions that have no
      resource-level permissions (tools/iam_rules.py), in every role the SAM transform produces;
E9003 every function's Errors metric is watched by an alarm, so adding a function cannot leave it
      unwatched (CloudWatch allows 10 metrics per alarm: a new function may need its own alarm).
cfn-lint validates the SAM template itself (Globals merged, no SAM transform), so E9001 and E9003
read AWS::Serverless::Function; E9002 reads the roles of the real SAM transform
(snaprace.local.iam.sam_transform, the one the local stack runs).
"""

import sys
from pathlib import Path

from cfnlint.rules import CloudFormationLintRule, RuleMatch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from iam_rules import RESOURCELESS_ACTIONS  # noqa: E402

FUNCTION = "AWS::Serverless::Function"


def _listed(value):
    return value if isinstance(value, list) else [value]


def _sub_text(value):
    """The text of a name given as a string or !Sub "..." (None for anything else)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return value["Fn::Sub"]
    return None


class FunctionHasLogGroup(CloudFormationLintRule):
    id = "E9001"
    shortdesc = "Every function has its own log group with a retention"
    description = (
        "A log group /aws/lambda/{FunctionName} with RetentionInDays, so logs expire and go with the stack"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"
    tags = ["snaprace", "logs"]

    def match(self, cfn):
        groups = {}
        for resource in cfn.get_resources(["AWS::Logs::LogGroup"]).values():
            properties = resource.get("Properties", {})
            name = _sub_text(properties.get("LogGroupName"))
            if name:
                groups[name] = properties.get("RetentionInDays")
        matches = []
        for logical_id, resource in cfn.get_resources([FUNCTION]).items():
            name = _sub_text(resource.get("Properties", {}).get("FunctionName"))
            path = ["Resources", logical_id, "Properties", "FunctionName"]
            if name is None:
                matches.append(RuleMatch(path, f"{logical_id} needs a FunctionName its log group can name"))
            elif f"/aws/lambda/{name}" not in groups:
                matches.append(RuleMatch(path, f"{logical_id} has no log group /aws/lambda/{name}"))
            elif not groups[f"/aws/lambda/{name}"]:
                matches.append(RuleMatch(path, f"the log group of {logical_id} has no RetentionInDays"))
        return matches


class LeastPrivilegeIam(CloudFormationLintRule):
    id = "E9002"
    shortdesc = "IAM names actions and resources"
    description = "No wildcard action; Resource '*' only for actions without resource-level permissions"
    source_url = "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"
    tags = ["snaprace", "iam"]

    def match(self, cfn):
        from snaprace.local.iam import sam_transform
        from snaprace.template import load_template

        transformed = sam_transform(load_template(Path(cfn.filename)), {"Stage": "prod"}, "ap-northeast-2")
        matches = []
        for logical_id, resource in transformed["Resources"].items():
            if resource["Type"] != "AWS::IAM::Role":
                continue
            for policy in resource.get("Properties", {}).get("Policies", []):
                for statement in _listed(policy.get("PolicyDocument", {}).get("Statement", [])):
                    if statement.get("Effect") != "Allow":
                        continue
                    actions = [str(a) for a in _listed(statement.get("Action", []))]
                    wild = [a for a in actions if "*" in a]
                    owner = logical_id.removesuffix("Role")  # the function or state machine
                    path = ["Resources", owner, "Properties", "Policies"]
                    if wild:
                        matches.append(RuleMatch(path, f"{owner}: wildcard action {wild}"))
                    if (
                        "*" in _listed(statement.get("Resource", []))
                        and not set(actions) <= RESOURCELESS_ACTIONS
                    ):
                        named = sorted(set(actions) - RESOURCELESS_ACTIONS)
                        matches.append(
                            RuleMatch(path, f"{owner}: Resource * for {named}, which can name a resource")
                        )
        return matches


class FunctionInErrorsAlarm(CloudFormationLintRule):
    id = "E9003"
    shortdesc = "Every function's errors are alarmed"
    description = "Each function's AWS/Lambda Errors metric is in an alarm"
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html"
    tags = ["snaprace", "alarms"]

    def match(self, cfn):
        watched = set()
        for resource in cfn.get_resources(["AWS::CloudWatch::Alarm"]).values():
            properties = resource.get("Properties", {})
            stats = [properties] + [
                m.get("MetricStat", {}).get("Metric", {}) for m in properties.get("Metrics", [])
            ]
            for stat in stats:
                if stat.get("Namespace") == "AWS/Lambda" and stat.get("MetricName") == "Errors":
                    for dimension in stat.get("Dimensions", []):
                        value = dimension.get("Value")
                        if (
                            dimension.get("Name") == "FunctionName"
                            and isinstance(value, dict)
                            and "Ref" in value
                        ):
                            watched.add(value["Ref"])
        return [
            RuleMatch(["Resources", logical_id], f"{logical_id}'s Errors metric is in no alarm")
            for logical_id in cfn.get_resources([FUNCTION])
            if logical_id not in watched
        ]
