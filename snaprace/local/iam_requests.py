"""What IAM evaluates for a request to the local endpoint: the signing access key, and each
(action, resource ARN) pair the request needs, as the Service Authorization Reference defines them.

The pairs that differ from "service:Operation on the named resource" are the ones that matter:
HeadObject is s3:GetObject; a `versionId` makes it s3:GetObjectVersion (and DeleteObject
s3:DeleteObjectVersion); DeleteObjects is s3:DeleteObject on every key; ListObjectsV2 is
s3:ListBucket on the bucket and ListObjectVersions s3:ListBucketVersions; CopyObject reads the
source; a Query or Scan with IndexName names the index's ARN; batch operations name every table;
SQS batch calls are their single actions; Lambda Invoke is lambda:InvokeFunction.
An operation whose resource is not known here is evaluated against "*", so only a statement with
Resource "*" allows it (stricter than AWS, never more lenient).
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote
from xml.etree import ElementTree

_SCOPE = re.compile(r"Credential=([A-Za-z0-9]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(r"X-Amz-Credential=([A-Za-z0-9]+)(?:/|%2F)\d{8}(?:/|%2F)([^/%]+)(?:/|%2F)([^/%]+)")
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
# signing name -> IAM service prefix, where they differ
_PREFIX = {"monitoring": "cloudwatch", "execute-api": "execute-api"}
_S3_BUCKET_GETS = {
    "versions": "s3:ListBucketVersions",
    "location": "s3:GetBucketLocation",
    "versioning": "s3:GetBucketVersioning",
    "encryption": "s3:GetEncryptionConfiguration",
    "notification": "s3:GetBucketNotification",
    "tagging": "s3:GetBucketTagging",
    "lifecycle": "s3:GetLifecycleConfiguration",
    "policy": "s3:GetBucketPolicy",
    "publicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "cors": "s3:GetBucketCORS",
    "uploads": "s3:ListBucketMultipartUploads",
    "intelligent-tiering": "s3:GetIntelligentTieringConfiguration",
    "ownershipControls": "s3:GetBucketOwnershipControls",
}
_S3_BUCKET_PUTS = {
    "versioning": "s3:PutBucketVersioning",
    "encryption": "s3:PutEncryptionConfiguration",
    "notification": "s3:PutBucketNotification",
    "tagging": "s3:PutBucketTagging",
    "lifecycle": "s3:PutLifecycleConfiguration",
    "policy": "s3:PutBucketPolicy",
    "publicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "cors": "s3:PutBucketCORS",
}
_SQS_BATCH = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_DYNAMODB_TRANSACT = {
    "ConditionCheck": "ConditionCheckItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
}


@dataclass(frozen=True)
class Account:
    region: str
    account: str
    secret_arn: Callable[[str], str]  # a secret's name or ARN -> its full ARN

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"


def signing(environ) -> tuple[str, str] | None:
    """(access key id, signing service) of a SigV4 request or presigned URL; None when unsigned."""
    found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", "")) or _QUERY_SCOPE.search(
        environ.get("QUERY_STRING", "")
    )
    return (found.group(1), found.group(3)) if found else None


def path_of(environ) -> str:
    """PATH_INFO as text: WSGI hands it over as latin-1 decoded bytes."""
    return environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")


def required(environ, body: bytes, service: str, account: Account) -> list[tuple[str, str]]:
    """Every (action, resource) the request needs allowed."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if service == "s3":
        return _s3(environ, body, account)
    if service == "lambda":
        invoke = _INVOKE_PATH.match(path_of(environ))
        if invoke:
            name = unquote(invoke.group("name"))
            arn = name if name.startswith("arn:") else account.arn("lambda", f"function:{name}")
            return [("lambda:InvokeFunction", arn)]
        return [("lambda:" + _rest_operation(environ), "*")]
    prefix = _PREFIX.get(service, service)
    if target:
        operation = target.rsplit(".", 1)[-1]
        request = _json(body)
        match prefix:
            case "dynamodb":
                return _dynamodb(operation, request, account)
            case "sqs":
                return _sqs(operation, request, account)
            case "states":
                return _states(operation, request)
            case "secretsmanager":
                secret = request.get("SecretId")
                return [(f"secretsmanager:{operation}", account.secret_arn(secret) if secret else "*")]
            case "rekognition":
                collection = request.get("CollectionId")
                resource = account.arn("rekognition", f"collection/{collection}") if collection else "*"
                return [(f"rekognition:{operation}", resource), *rekognition_s3_reads(request)]
            case "logs":
                group = request.get("logGroupName")
                resource = account.arn("logs", f"log-group:{group}:*") if group else "*"
                return [(f"logs:{operation}", resource)]
        return [(f"{prefix}:{operation}", "*")]
    return [(f"{prefix}:{_rest_operation(environ, body)}", "*")]


def rekognition_s3_reads(request: dict) -> list[tuple[str, str]]:
    """Rekognition reads an image in S3 with the caller's permissions (API reference, S3Object:
    "the user must have permission to access the S3 object")."""
    image = request.get("Image") if isinstance(request.get("Image"), dict) else {}
    s3_object = image.get("S3Object") if isinstance(image.get("S3Object"), dict) else None
    if not s3_object:
        return []
    arn = f"arn:aws:s3:::{s3_object.get('Bucket', '')}/{s3_object.get('Name', '')}"
    return [("s3:GetObjectVersion" if s3_object.get("Version") else "s3:GetObject", arn)]


def _json(body: bytes) -> dict:
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return {}
    return request if isinstance(request, dict) else {}


def _rest_operation(environ, body: bytes = b"") -> str:
    """The operation of a query-protocol (form Action=...) or rpc-v2-cbor (/operation/X) request."""
    path = path_of(environ)
    if "/operation/" in path:
        return path.rsplit("/operation/", 1)[-1]
    form = parse_qs(environ.get("QUERY_STRING", "")) or parse_qs(body.decode("utf-8", "replace"))
    return form.get("Action", ["Unknown"])[0]


def _dynamodb(operation: str, request: dict, account: Account) -> list[tuple[str, str]]:
    def table(name: str, index: str | None = None) -> str:
        return account.arn("dynamodb", f"table/{name}" + (f"/index/{index}" if index else ""))

    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [(f"dynamodb:{operation}", table(name)) for name in request.get("RequestItems", {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        pairs = []
        for item in request.get("TransactItems", []):
            for kind, spec in item.items():
                action = "GetItem" if kind == "Get" else _DYNAMODB_TRANSACT.get(kind, kind)
                pairs.append((f"dynamodb:{action}", table(spec.get("TableName", ""))))
        return pairs
    if "TableName" in request:
        return [(f"dynamodb:{operation}", table(request["TableName"], request.get("IndexName")))]
    return [(f"dynamodb:{operation}", "*")]


def _sqs(operation: str, request: dict, account: Account) -> list[tuple[str, str]]:
    action = "sqs:" + _SQS_BATCH.get(operation, operation)
    if "QueueUrl" in request:
        return [(action, account.arn("sqs", request["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]))]
    if "QueueName" in request:
        return [(action, account.arn("sqs", request["QueueName"]))]
    if "SourceArn" in request:
        return [(action, request["SourceArn"])]
    return [(action, "*")]


def _states(operation: str, request: dict) -> list[tuple[str, str]]:
    for field in ("stateMachineArn", "executionArn", "mapRunArn", "resourceArn"):
        if request.get(field):
            return [(f"states:{operation}", request[field])]
    return [(f"states:{operation}", "*")]


def _s3(environ, body: bytes, account: Account) -> list[tuple[str, str]]:
    method = environ["REQUEST_METHOD"]
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    bucket, key = bucket_and_key(environ)
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if not bucket:
        return [("s3:ListAllMyBuckets", "*")]
    if not key:
        if method == "POST" and "delete" in query:
            return _s3_delete_objects(bucket_arn, body)
        if method in ("GET", "HEAD"):
            action = next((a for q, a in _S3_BUCKET_GETS.items() if q in query), "s3:ListBucket")
            return [(action, bucket_arn)]
        if method == "PUT":
            action = next((a for q, a in _S3_BUCKET_PUTS.items() if q in query), "s3:CreateBucket")
            return [(action, bucket_arn)]
        if method == "DELETE":
            return [("s3:DeleteBucket", bucket_arn)]
        return [("s3:Unknown", bucket_arn)]
    object_arn = f"{bucket_arn}/{key}"
    versioned = bool(query.get("versionId", [""])[0])
    if "tagging" in query:
        verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, "Get")
        return [(f"s3:{verb}Object{'Version' if versioned else ''}Tagging", object_arn)]
    if method in ("GET", "HEAD"):
        return [("s3:GetObjectVersion" if versioned else "s3:GetObject", object_arn)]
    if method == "DELETE":
        if "uploadId" in query:
            return [("s3:AbortMultipartUpload", object_arn)]
        return [("s3:DeleteObjectVersion" if versioned else "s3:DeleteObject", object_arn)]
    if method == "POST" and "restore" in query:
        return [("s3:RestoreObject", object_arn)]
    pairs = [("s3:PutObject", object_arn)]  # PUT, multipart create/upload/complete
    if environ.get("HTTP_X_AMZ_TAGGING"):
        pairs.append(("s3:PutObjectTagging", object_arn))
    source = environ.get("HTTP_X_AMZ_COPY_SOURCE")
    if source:
        source_path, _, source_query = unquote(source).lstrip("/").partition("?")
        source_versioned = "versionId=" in source_query
        pairs.append(
            ("s3:GetObjectVersion" if source_versioned else "s3:GetObject", f"arn:aws:s3:::{source_path}")
        )
    return pairs


def bucket_and_key(environ) -> tuple[str, str]:
    host = environ.get("HTTP_HOST", "").rsplit(":", 1)[0]
    path = path_of(environ).lstrip("/")
    if host and not re.fullmatch(r"[\d.]+|localhost|\[[0-9a-f:]+\]", host):
        bucket = host.split(".", 1)[0]  # virtual-hosted style
        return bucket, path
    bucket, _, key = path.partition("/")
    return bucket, key


def s3_delete_keys(body: bytes) -> list[tuple[str, str | None]]:
    """(key, versionId) of each object a DeleteObjects request names."""
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - our own client's request
    except ElementTree.ParseError:
        return []
    found = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] != "Object":
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in element}
        found.append((fields.get("Key", ""), fields.get("VersionId") or None))
    return found


def _s3_delete_objects(bucket_arn: str, body: bytes) -> list[tuple[str, str]]:
    return [
        ("s3:DeleteObjectVersion" if version else "s3:DeleteObject", f"{bucket_arn}/{key}")
        for key, version in s3_delete_keys(body)
    ]
