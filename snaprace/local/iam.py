"""IAM on the local stack: each function (and the state machine) runs under the role the SAM
transform of template.yaml gives it, and every request it signs is authorised against that role.

- Roles come from the real transform (aws-sam-translator, the library `sam deploy` uses): inline
  statements, SAM policy templates expanded, and the AWS managed policies SAM attaches, whose
  documents are kept as data in data/managed_policies.json.
- Evaluation follows IAM's identity-policy logic: an explicit Deny wins, otherwise some Allow must
  match the action (case-insensitive, `*`/`?` wildcards) and the resource ARN (case-sensitive).
  A statement with a Condition is not evaluated: it never allows and always denies (stricter than
  AWS, never more lenient).
- Each role gets its own access key; a function's invocation signs with it (`ThreadCredentials`), so
  the endpoint knows the caller from the signature, as AWS does. Any other key (the operator's
  `snaprace` commands, the local stack's own set-up) has full rights, as an administrator would.

What IAM does not check here: resource-based policies (the bucket and queue policies), SCPs,
permission boundaries and session policies.
"""

import copy
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from botocore.credentials import Credentials, ReadOnlyCredentials

from snaprace.template import Resolver, resources_of_type

MANAGED_POLICIES = Path(__file__).with_name("data") / "managed_policies.json"
STATE_MACHINE_TASK_KEY = "ak"  # moto's Step Functions interpreter signs its Lambda calls with this key
_PRINCIPAL_TYPES = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")


@cache
def managed_policy_documents() -> dict[str, dict]:
    documents = json.loads(MANAGED_POLICIES.read_text())
    documents.pop("_source")
    return documents


def sam_transform(template: dict, parameters: dict, region: str) -> dict:
    """The CloudFormation template `sam deploy` would create, as aws-sam-translator produces it."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    document = copy.deepcopy(template)
    document["Transform"] = "AWS::Serverless-2016-10-31"  # LanguageExtensions adds no IAM
    # sam package replaces local paths with S3 locations; the transform accepts only those
    document.setdefault("Globals", {}).setdefault("Function", {})
    if "CodeUri" in document["Globals"]["Function"]:
        document["Globals"]["Function"]["CodeUri"] = "s3://local/code.zip"
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        for name in ("CodeUri", "DefinitionUri"):
            if isinstance(properties.get(name), str):
                properties[name] = f"s3://local/{name}"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    return translator.translate(
        document, parameter_values=dict(parameters), get_managed_policy_map=lambda: {}
    )


def access_key_for(logical_id: str) -> str:
    """A role's local access key id: letters and digits only, as the signature's scope needs."""
    return "ASIA" + hashlib.sha256(logical_id.encode()).hexdigest()[:16].upper()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str
    resource: str
    reason: str = ""


@dataclass
class Role:
    """A principal's role: its statements and who it says it is in an error."""

    logical_id: str  # the function or state machine
    role_name: str
    session_name: str
    statements: list[dict]
    account: str
    access_key: str = field(init=False)

    def __post_init__(self):
        self.access_key = access_key_for(self.logical_id)

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{self.role_name}/{self.session_name}"

    def decide(self, action: str, resource: str) -> Decision:
        allowed = False
        for statement in self.statements:
            if not _matches(statement, action, resource):
                continue
            if statement.get("Effect") == "Deny":
                return Decision(False, action, resource, "with an explicit deny in an identity-based policy")
            if "Condition" not in statement:
                allowed = True
        if allowed:
            return Decision(True, action, resource)
        return Decision(
            False, action, resource, f"because no identity-based policy allows the {action} action"
        )

    def denial_message(self, decision: Decision) -> str:
        return (
            f"User: {self.arn} is not authorized to perform: {decision.action} on resource: "
            f"{decision.resource} {decision.reason}"
        )


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, text: str, case_sensitive: bool) -> bool:
    if not case_sensitive:
        pattern, text = pattern.lower(), text.lower()
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _matches(statement: dict, action: str, resource: str) -> bool:
    if "Action" in statement:
        action_ok = any(_wildcard(p, action, False) for p in _listed(statement["Action"]))
    else:
        action_ok = not any(_wildcard(p, action, False) for p in _listed(statement.get("NotAction", [])))
    if "Resource" in statement:
        resource_ok = any(_wildcard(p, resource, True) for p in _listed(statement["Resource"]))
    else:
        resource_ok = not any(_wildcard(p, resource, True) for p in _listed(statement.get("NotResource", [])))
    return action_ok and resource_ok


def roles_from_template(template: dict, resolver: Resolver) -> dict[str, Role]:
    """Function or state machine logical id -> the Role the SAM transform generates for it,
    with every intrinsic resolved against the local stack's physical ids."""
    transformed = sam_transform(template, resolver.parameters, resolver.region)
    local = Resolver(
        transformed,
        region=resolver.region,
        account=resolver.account,
        stack_name=resolver.stack_name,
        parameters=dict(resolver.parameters),
        physical_ids=dict(resolver.physical_ids),
    )
    managed = managed_policy_documents()
    roles = {}
    for resource_type in _PRINCIPAL_TYPES:
        for logical_id in resources_of_type(template, resource_type):
            generated = transformed["Resources"][logical_id]
            role_ref = generated["Properties"].get("Role") or generated["Properties"].get("RoleArn")
            role_id = role_ref["Fn::GetAtt"][0] if isinstance(role_ref, dict) else None
            if role_id is None:
                raise ValueError(f"{logical_id}: a role given by ARN is not supported by the local stack")
            properties = transformed["Resources"][role_id]["Properties"]
            statements = []
            for policy in properties.get("Policies", []):
                statements += _listed(local.resolve(policy["PolicyDocument"])["Statement"])
            for arn in local.resolve(properties.get("ManagedPolicyArns", [])):
                if arn not in managed:
                    raise ValueError(f"{role_id}: managed policy {arn} is not in {MANAGED_POLICIES.name}")
                statements += _listed(managed[arn]["Statement"])
            session = resolver.name_of(logical_id) or logical_id
            roles[logical_id] = Role(logical_id, role_id, session, statements, resolver.account)
    return roles


class ThreadCredentials(Credentials):
    """botocore credentials that are the running function's role while a function runs on this
    thread, and the process's own (environment) credentials otherwise. botocore asks for frozen
    credentials at every signature, so one cached client serves every function correctly."""

    method = "snaprace-local"
    account_id = None

    def __init__(self):  # not Credentials.__init__: the keys are properties, read per thread
        self._local = threading.local()

    def use(self, access_key: str | None) -> None:
        self._local.access_key = access_key

    def get_frozen_credentials(self):
        access_key = getattr(self._local, "access_key", None)
        if access_key:
            return ReadOnlyCredentials(access_key, "local", None)
        return ReadOnlyCredentials(
            os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
            None,
        )

    @property
    def access_key(self):
        return self.get_frozen_credentials().access_key

    @property
    def secret_key(self):
        return self.get_frozen_credentials().secret_key

    @property
    def token(self):
        return None


THREAD_CREDENTIALS = ThreadCredentials()


def install_thread_credentials() -> None:
    """Every botocore session in this process resolves to THREAD_CREDENTIALS (clients given
    explicit keys keep them). A thread a function starts (a pool of writers) signs with the
    function's role, as every thread of a Lambda container does: its IAM is enforced and its
    requests are the function's on the meter."""
    import botocore.session

    botocore.session.Session.get_credentials = lambda self: THREAD_CREDENTIALS
    if getattr(threading.Thread, "_snaprace_inherits", False):
        return
    started_by, runs = threading.Thread.__init__, threading.Thread.run

    def __init__(self, *args, **kwargs):  # noqa: N807 - threading.Thread's own
        started_by(self, *args, **kwargs)
        self._snaprace_key = getattr(THREAD_CREDENTIALS._local, "access_key", None)

    def run(self):
        THREAD_CREDENTIALS.use(getattr(self, "_snaprace_key", None))
        runs(self)

    threading.Thread.__init__, threading.Thread.run = __init__, run
    threading.Thread._snaprace_inherits = True
