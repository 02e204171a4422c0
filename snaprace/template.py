"""template.yaml as data: loaded with CloudFormation's short tags, its intrinsic functions resolved
for one stage, and what each function runs (handler, environment, limits).

The local stack creates its resources from here and `snaprace invoke` takes a function's
environment from here, so the template stays the only list of functions, names and variables.
"""

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from cfn_flip import load_yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
LOCAL_ACCOUNT = "123456789012"  # moto's default account
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
NO_VALUE = object()


@cache
def _template_text(path: Path) -> str:
    return json.dumps(load_yaml(path.read_text()))


def load_template(path: Path = TEMPLATE) -> dict:
    """A fresh copy of the template (callers may modify it)."""
    return json.loads(_template_text(path))


def resources_of_type(template: dict, resource_type: str) -> dict:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == resource_type}


# Physical names: which property names a resource, how Ref and GetAtt Arn read for each type.
_NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Events::Rule": "Name",
    "AWS::Serverless::StateMachine": "Name",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::SecretsManager::Secret": "Name",
}


def arn_of(resource_type: str, physical_id: str, region: str, account: str) -> str:
    """The Arn attribute of a resource from its physical id (what Ref returns)."""
    prefix = f"arn:aws:{{}}:{region}:{account}:"
    match resource_type:
        case "AWS::S3::Bucket":
            return f"arn:aws:s3:::{physical_id}"
        case "AWS::SQS::Queue":
            return prefix.format("sqs") + physical_id.rstrip("/").rsplit("/", 1)[-1]
        case "AWS::DynamoDB::Table":
            return prefix.format("dynamodb") + f"table/{physical_id}"
        case "AWS::Events::Rule":
            return prefix.format("events") + f"rule/{physical_id}"
        case "AWS::Serverless::Function" | "AWS::Lambda::Function":
            return prefix.format("lambda") + f"function:{physical_id}"
        case "AWS::Logs::LogGroup":
            return prefix.format("logs") + f"log-group:{physical_id}:*"
        case "AWS::Serverless::StateMachine" | "AWS::SNS::Topic":
            return physical_id  # Ref is already the ARN
    raise ValueError(f"no Arn attribute known for {resource_type}")


def local_physical_id(resource_type: str, name: str, region: str, endpoint_url: str = "") -> str:
    """What Ref returns for a resource the local stack created under `name`."""
    match resource_type:
        case "AWS::SQS::Queue":
            return f"{endpoint_url or 'http://localhost'}/{LOCAL_ACCOUNT}/{name}"
        case "AWS::Serverless::StateMachine":
            return f"arn:aws:states:{region}:{LOCAL_ACCOUNT}:stateMachine:{name}"
        case "AWS::SNS::Topic":
            return f"arn:aws:sns:{region}:{LOCAL_ACCOUNT}:{name}"
    return name


@dataclass
class Resolver:
    """Resolves Ref, Fn::Sub, Fn::GetAtt, Fn::If and friends against parameters and physical ids."""

    template: dict
    region: str
    account: str = LOCAL_ACCOUNT
    stack_name: str = "ImageRekognitionStack-dev"
    parameters: dict = field(default_factory=dict)
    physical_ids: dict = field(default_factory=dict)  # logical id -> what Ref returns

    def __post_init__(self):
        for name, spec in self.template.get("Parameters", {}).items():
            self.parameters.setdefault(name, str(spec.get("Default", "")))
        self.conditions = {}
        for name, spec in self.template.get("Conditions", {}).items():
            self.conditions[name] = self._condition(spec)

    def _condition(self, spec) -> bool:
        if isinstance(spec, dict) and "Condition" in spec:
            return self._condition(self.template["Conditions"][spec["Condition"]])
        return bool(self.resolve(spec))

    def ref(self, name: str):
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            value = self.parameters[name]
            if self.template.get("Parameters", {}).get(name, {}).get("Type") == "CommaDelimitedList":
                return [item.strip() for item in str(value).split(",")]
            return value
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise KeyError(f"Ref {name}: not a parameter or a resource with a known physical id")

    def get_att(self, logical_id: str, attribute: str):
        resource_type = self.template["Resources"][logical_id]["Type"]
        if attribute == "Arn":
            return arn_of(resource_type, self.ref(logical_id), self.region, self.account)
        if attribute in ("QueueName", "TopicName", "Name"):
            return self.ref(logical_id).rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        raise KeyError(f"GetAtt {logical_id}.{attribute} is not supported")

    def _sub(self, text: str, variables: dict) -> str:
        def replace(match):
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def resolve(self, value):
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), *_ = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
            if key == "Fn::GetAtt":
                logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.get_att(logical_id, attribute)
            if key == "Fn::If":
                name, when_true, when_false = arg
                return self.resolve(when_true if self.conditions[name] else when_false)
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._condition(arg[0])
            if key == "Fn::And":
                return all(self._condition(v) for v in arg)
            if key == "Fn::Or":
                return any(self._condition(v) for v in arg)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(v) for v in self.resolve(items))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::ToJsonString":
                return json.dumps(self.resolve(arg))
            if key == "Fn::Contains":  # Rules only
                items, wanted = (self.resolve(v) for v in arg)
                return str(wanted) in [str(item) for item in items]
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def failed_rules(self) -> list[str]:
        """The AssertDescription of every template Rule these parameters break (CloudFormation
        refuses such a deploy before creating anything)."""
        failed = []
        for name, rule in self.template.get("Rules", {}).items():
            if "RuleCondition" in rule and not self._condition(rule["RuleCondition"]):
                continue
            for assertion in rule.get("Assertions", []):
                if not self._condition(assertion["Assert"]):
                    failed.append(f"{name}: {assertion.get('AssertDescription', 'assertion failed')}")
        return failed

    def name_of(self, logical_id: str) -> str | None:
        """The physical name the template gives a resource, or None when AWS generates one."""
        resource = self.template["Resources"][logical_id]
        prop = _NAME_PROPERTY.get(resource["Type"])
        if prop and prop in resource.get("Properties", {}):
            return self.resolve(resource["Properties"][prop])
        return None

    def resource_properties(self, logical_id: str) -> dict:
        return self.resolve(self.template["Resources"][logical_id].get("Properties", {}))


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    environment: dict
    timeout: int
    memory: int
    events: dict


def function_specs(resolver: Resolver) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function with Globals applied, keyed by logical id."""
    template = resolver.template
    defaults = template.get("Globals", {}).get("Function", {})
    specs = {}
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::Function").items():
        own = resource.get("Properties", {})
        environment = {
            **defaults.get("Environment", {}).get("Variables", {}),
            **own.get("Environment", {}).get("Variables", {}),
        }
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=resolver.resolve(own.get("FunctionName", logical_id)),
            handler=own.get("Handler", defaults.get("Handler", "")),
            environment={k: str(v) for k, v in resolver.resolve(environment).items()},
            timeout=int(own.get("Timeout", defaults.get("Timeout", 3))),
            memory=int(own.get("MemorySize", defaults.get("MemorySize", 128))),
            events=resolver.resolve(own.get("Events", {})),
        )
    return specs


def find_function(template: dict, wanted: str) -> str:
    """The logical id for `wanted`: a logical id, or its short form (`preprocess`, `detect-text`)."""
    functions = resources_of_type(template, "AWS::Serverless::Function")
    simple = re.sub(r"[^a-z0-9]", "", wanted.lower())
    for logical_id in functions:
        if simple in (logical_id.lower(), logical_id.lower().removesuffix("function")):
            return logical_id
    raise KeyError(f"no function {wanted!r} in template.yaml; functions are: {', '.join(sorted(functions))}")


_CREATE_TABLE_PROPERTIES = (
    "TableName",
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "GlobalSecondaryIndexes",
)


def table_request(properties: dict) -> dict:
    """CreateTable arguments from an AWS::DynamoDB::Table's resolved properties."""
    return {name: properties[name] for name in _CREATE_TABLE_PROPERTIES if name in properties}


def create_table_kwargs(template: dict, stage: str, logical_id: str = "PhotoTable") -> dict:
    """CreateTable arguments for one of the stack's tables, from the template's own properties."""
    resolver = Resolver(template, region="ap-northeast-2", parameters={"Stage": stage})
    return table_request(resolver.resource_properties(logical_id))
