"""A deployed stack or the local stack, found the same way: CloudFormation's DescribeStacks
(outputs, parameters) and DescribeStackResources (physical ids). The local stack answers both
for its own stack name, so no command has a second code path for it."""

import os
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlparse

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError, ProfileNotFound

from snaprace.template import Resolver, function_specs, load_template

DEFAULT_STACK = "ImageRekognitionStack-dev"
DEFAULT_REGION = "ap-northeast-2"
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32)


class StackError(RuntimeError):
    """A problem the operator can fix; the message says how."""


@dataclass
class Stack:
    name: str = DEFAULT_STACK
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    _clients: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.endpoint_url:
            if (
                urlparse(self.endpoint_url).scheme not in ("http", "https")
                or not urlparse(self.endpoint_url).netloc
            ):
                raise StackError(
                    f"--endpoint-url {self.endpoint_url!r}: give a URL with its scheme, e.g. http://127.0.0.1:4566"
                )
            # the local stack runs in one region whatever the environment says (AWS_REGION is
            # for the deployed stacks); no profile or credentials are ever sent to it
            self.region, self.profile = DEFAULT_REGION, None
            # AWS_PROFILE ignored too: botocore's session_vars override its environment lookup
            unprofiled = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
            self._session = boto3.session.Session(botocore_session=unprofiled)
            return
        try:
            self._session = boto3.session.Session(profile_name=self.profile)
        except ProfileNotFound:
            raise StackError(
                f"AWS profile {self.profile!r} not found (AWS_PROFILE or --profile): "
                "`aws configure list-profiles` lists yours; use --endpoint-url for the local stack"
            ) from None
        self.region = self.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        self.region = self.region or self._session.region_name or DEFAULT_REGION

    @property
    def is_local(self) -> bool:
        return bool(self.endpoint_url)

    def _connection(self) -> dict:
        kwargs = {"region_name": self.region, "config": _CONFIG}
        if self.endpoint_url:
            # the local stack accepts any credentials; never send real ones to it
            kwargs.update(
                endpoint_url=self.endpoint_url,
                aws_access_key_id="local",
                aws_secret_access_key="local",  # noqa: S106
            )
        return kwargs

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self._session.client(service, **self._connection())
        return self._clients[service]

    def resource(self, service: str):
        return self._session.resource(service, **self._connection())

    def _describe(self) -> dict:
        where = f"at {self.endpoint_url}" if self.endpoint_url else f"in {self.region}"
        try:
            return self.client("cloudformation").describe_stacks(StackName=self.name)["Stacks"][0]
        except ClientError as exc:
            if "does not exist" in str(exc):
                hint = (
                    f"is the local stack running (snaprace local up)? Its stack is {DEFAULT_STACK}"
                    if self.endpoint_url
                    else "run sam deploy, or pass --endpoint-url for the local stack"
                )
                raise StackError(f"stack {self.name} not found {where} — {hint}") from None
            raise StackError(f"cannot read stack {self.name} {where}: {exc}") from None
        except NoCredentialsError:
            raise StackError(
                f"no AWS credentials to read stack {self.name} {where} — configure a profile, "
                "or pass --endpoint-url for the local stack"
            ) from None
        except NoRegionError:
            raise StackError("no region: pass --region or set AWS_REGION") from None
        except Exception as exc:  # endpoint down, DNS, TLS
            if "Could not connect" in str(exc) or "Connection" in type(exc).__name__:
                raise StackError(
                    f"cannot reach {self.endpoint_url or 'AWS'} — start the local stack with "
                    "`snaprace local up`, or check --endpoint-url"
                ) from None
            raise

    @cached_property
    def description(self) -> dict:
        return self._describe()

    @cached_property
    def outputs(self) -> dict[str, str]:
        return {o["OutputKey"]: o["OutputValue"] for o in self.description.get("Outputs", [])}

    @cached_property
    def parameters(self) -> dict[str, str]:
        return {p["ParameterKey"]: p["ParameterValue"] for p in self.description.get("Parameters", [])}

    def output(self, key: str) -> str:
        try:
            return self.outputs[key]
        except KeyError:
            raise StackError(
                f"stack {self.name} has no output {key}; redeploy it with this template"
            ) from None

    @property
    def bucket(self) -> str:
        return self.output("BucketName")

    @property
    def table_name(self) -> str:
        return self.output("TableName")

    @property
    def state_machine_arn(self) -> str:
        return self.output("StateMachineArn")

    @cached_property
    def physical_ids(self) -> dict[str, str]:
        resources = self.client("cloudformation").describe_stack_resources(StackName=self.name)
        return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources["StackResources"]}

    def function_specs(self):
        """The template's functions with their environment resolved against this stack."""
        template = load_template()
        stage = self.parameters.get("Stage") or self.name.rsplit("-", 1)[-1]
        resolver = Resolver(
            template,
            region=self.region,
            account=self.account,
            stack_name=self.name,
            parameters={**self.parameters, "Stage": stage},
            physical_ids=dict(self.physical_ids),
        )
        return function_specs(resolver)

    @property
    def account(self) -> str:
        return self.description["StackId"].split(":")[4]

    @cached_property
    def collection_prefix(self) -> str:
        """The stack's collection id prefix, as its functions get it from the template."""
        return self.function_specs()["SearchApiFunction"].environment["COLLECTION_PREFIX"]

    @cached_property
    def photo_table(self):
        """The stack's table, through the same code the functions use (pipeline.store)."""
        from pipeline.store import Store

        return Store(self.resource("dynamodb").Table(self.table_name))
