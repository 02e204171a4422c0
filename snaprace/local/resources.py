"""The resources template.yaml declares, created on the local stack under the template's names
(what CloudFormation does on AWS). Types the local stack does not emulate are listed at start-up."""

import json
import secrets
from collections.abc import Callable
from pathlib import Path

from snaprace.template import LOCAL_ACCOUNT, Resolver, resources_of_type, table_request

EMULATED_TYPES = (
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::DynamoDB::Table",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",  # e-mail subscriptions are confirmed at once: there is no mailbox
    "AWS::Serverless::Function",
    "AWS::Serverless::StateMachine",
    "AWS::Events::Rule",
    "AWS::CloudWatch::Alarm",
    "AWS::SecretsManager::Secret",
    "AWS::Serverless::HttpApi",
)
_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "RedrivePolicy",
    "ReceiveMessageWaitTimeSeconds",
)


class Resources:
    """Creates the template's resources with an administrator's clients (`client(service)`)."""

    def __init__(self, template: dict, resolver: Resolver, template_dir: Path, client: Callable, region: str):
        self.template, self.resolver, self.template_dir = template, resolver, template_dir
        self.client, self.region = client, region
        self.secret_arns: dict[str, str] = {}  # secret name -> its ARN (with AWS's random suffix)

    def create(self) -> str:
        """Create everything; returns the line the local stack prints about it."""
        resources = self.template["Resources"]
        by_type = {t: resources_of_type(self.template, t) for t in EMULATED_TYPES}
        for logical_id in by_type["AWS::S3::Bucket"]:
            self._bucket(logical_id)
        # a queue's dead-letter queue first, so its redrive policy names an existing queue
        for logical_id in sorted(
            by_type["AWS::SQS::Queue"], key=lambda q: "RedrivePolicy" in resources[q]["Properties"]
        ):
            self._queue(logical_id)
        for logical_id in by_type["AWS::DynamoDB::Table"]:
            self.client("dynamodb").create_table(
                **table_request(self.resolver.resource_properties(logical_id))
            )
        for logical_id in by_type["AWS::SNS::Topic"]:
            self.client("sns").create_topic(Name=self.resolver.name_of(logical_id))
        for logical_id in by_type["AWS::SNS::Subscription"]:
            condition = resources[logical_id].get("Condition")
            if condition and not self.resolver.conditions[condition]:
                continue
            properties = self.resolver.resource_properties(logical_id)
            self.client("sns").subscribe(
                TopicArn=properties["TopicArn"],
                Protocol=properties["Protocol"],
                Endpoint=properties["Endpoint"],
            )
        for logical_id in by_type["AWS::Serverless::StateMachine"]:
            self._state_machine(logical_id)
        for logical_id in by_type["AWS::Events::Rule"]:
            self._rule(logical_id)
        for logical_id in by_type["AWS::SecretsManager::Secret"]:
            self._secret(logical_id)
        for logical_id in by_type["AWS::CloudWatch::Alarm"]:
            properties = self.resolver.resource_properties(logical_id)
            properties.pop("AlarmActions", None)
            properties.pop("OKActions", None)
            self.client("cloudwatch").put_metric_alarm(**properties)
        skipped = sorted({r["Type"] for r in resources.values()} - set(EMULATED_TYPES))
        created = sum(len(v) for v in by_type.values())
        return f"created {created} resources from template.yaml; not emulated: {', '.join(skipped)}"

    def _bucket(self, logical_id: str) -> None:
        properties = self.resolver.resource_properties(logical_id)
        s3 = self.client("s3")
        name = properties["BucketName"]
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        if properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if properties.get("BucketEncryption"):
            rules = [  # CloudFormation and the S3 API name the default rule differently
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        notification = properties.get("NotificationConfiguration", {})
        if notification.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )

    def _queue(self, logical_id: str) -> None:
        properties = self.resolver.resource_properties(logical_id)
        attributes = {
            name: json.dumps(value) if isinstance(value, dict) else str(value)
            for name, value in properties.items()
            if name in _QUEUE_ATTRIBUTES
        }
        self.client("sqs").create_queue(QueueName=properties["QueueName"], Attributes=attributes)

    def _state_machine(self, logical_id: str) -> None:
        properties = self.resolver.resource_properties(logical_id)
        definition = (self.template_dir / properties["DefinitionUri"]).read_text()
        for name, value in properties.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + name + "}", str(value))
        self.client("stepfunctions").create_state_machine(
            name=properties["Name"],
            definition=definition,
            roleArn=f"arn:aws:iam::{LOCAL_ACCOUNT}:role/{logical_id}Role",
            type=properties.get("Type", "STANDARD"),
        )

    def _rule(self, logical_id: str) -> None:
        properties = self.resolver.resource_properties(logical_id)
        events = self.client("events")
        events.put_rule(
            Name=properties["Name"],
            EventPattern=json.dumps(properties["EventPattern"]),
            State=properties.get("State", "ENABLED"),
        )
        events.put_targets(
            Rule=properties["Name"],
            Targets=[{"Id": t["Id"], "Arn": t["Arn"]} for t in properties.get("Targets", [])],
        )

    def _secret(self, logical_id: str) -> None:
        properties = self.resolver.resource_properties(logical_id)
        generated = secrets.token_hex(20)  # GenerateSecretString: letters and digits
        created = self.client("secretsmanager").create_secret(
            Name=properties["Name"], SecretString=properties.get("SecretString", generated)
        )
        self.secret_arns[properties["Name"]] = created["ARN"]
        self.resolver.physical_ids[logical_id] = created["ARN"]  # Ref of a secret is its ARN
