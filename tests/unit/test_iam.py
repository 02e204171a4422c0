"""IAM on the local stack: what each request needs (as the Service Authorization Reference names
it), how a role's statements decide, and the roles the SAM transform of template.yaml produces."""

import json

import pytest

from snaprace.local import iam_requests
from snaprace.local.iam import Role, access_key_for, roles_from_template
from snaprace.local.stack import LocalStack
from snaprace.template import load_template

ACCOUNT = iam_requests.Account(
    "ap-northeast-2",
    "123456789012",
    lambda name: f"arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:{name}-AbCdEf",
)
BUCKET = "snaprace-images-dev"


def s3_request(method: str, path: str, query: str = "", **headers) -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.encode().decode("latin-1"),  # WSGI hands paths over as latin-1
        "QUERY_STRING": query,
        "HTTP_HOST": "127.0.0.1:4566",
    }
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    return environ


def json_request(target: str) -> dict:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "", "HTTP_X_AMZ_TARGET": target}


def test_head_object_is_get_object_and_a_version_needs_get_object_version():
    key = "acme/e1/raw/finish line.jpg"
    arn = f"arn:aws:s3:::{BUCKET}/{key}"
    assert iam_requests.required(s3_request("HEAD", f"/{BUCKET}/{key}"), b"", "s3", ACCOUNT) == [
        ("s3:GetObject", arn)
    ]
    versioned = s3_request("GET", f"/{BUCKET}/{key}", "versionId=3Rl5x")
    assert iam_requests.required(versioned, b"", "s3", ACCOUNT) == [("s3:GetObjectVersion", arn)]
    deleted = s3_request("DELETE", f"/{BUCKET}/{key}", "versionId=3Rl5x")
    assert iam_requests.required(deleted, b"", "s3", ACCOUNT) == [("s3:DeleteObjectVersion", arn)]


def test_a_hangul_key_is_authorised_on_its_own_characters():
    key = "acme/서울/raw/결승선.jpg"
    assert iam_requests.required(s3_request("GET", f"/{BUCKET}/{key}"), b"", "s3", ACCOUNT) == [
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/{key}")
    ]


def test_list_objects_is_list_bucket_on_the_bucket_and_versions_list_bucket_versions():
    bucket_arn = f"arn:aws:s3:::{BUCKET}"
    listing = s3_request("GET", f"/{BUCKET}", "list-type=2&prefix=acme%2F")
    assert iam_requests.required(listing, b"", "s3", ACCOUNT) == [("s3:ListBucket", bucket_arn)]
    versions = s3_request("GET", f"/{BUCKET}", "versions&prefix=acme%2F")
    assert iam_requests.required(versions, b"", "s3", ACCOUNT) == [("s3:ListBucketVersions", bucket_arn)]


def test_delete_objects_needs_delete_object_on_every_key():
    body = (
        b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>'
        b"<Object><Key>acme/e1/processed/p.jpg</Key></Object>"
        b"<Object><Key>acme/e1/thumbnails/p.jpg</Key><VersionId>v1</VersionId></Object></Delete>"
    )
    assert iam_requests.required(s3_request("POST", f"/{BUCKET}", "delete"), body, "s3", ACCOUNT) == [
        ("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/acme/e1/processed/p.jpg"),
        ("s3:DeleteObjectVersion", f"arn:aws:s3:::{BUCKET}/acme/e1/thumbnails/p.jpg"),
    ]


def test_copy_object_reads_the_source_and_tagging_on_upload_needs_put_object_tagging():
    environ = s3_request(
        "PUT",
        f"/{BUCKET}/acme/e1/raw/b.jpg",
        x_amz_copy_source=f"/{BUCKET}/acme/e1/raw/a.jpg",
        x_amz_tagging="a=b",
    )
    assert iam_requests.required(environ, b"", "s3", ACCOUNT) == [
        ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/acme/e1/raw/b.jpg"),
        ("s3:PutObjectTagging", f"arn:aws:s3:::{BUCKET}/acme/e1/raw/b.jpg"),
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/acme/e1/raw/a.jpg"),
    ]


def test_dynamodb_names_the_index_and_every_table_of_a_batch():
    table = "arn:aws:dynamodb:ap-northeast-2:123456789012:table/PhotoService-dev"
    query = json.dumps({"TableName": "PhotoService-dev", "IndexName": "GalleryIndex"}).encode()
    assert iam_requests.required(json_request("DynamoDB_20120810.Query"), query, "dynamodb", ACCOUNT) == [
        ("dynamodb:Query", f"{table}/index/GalleryIndex")
    ]
    batch = json.dumps({"RequestItems": {"PhotoService-dev": [], "Other": []}}).encode()
    assert iam_requests.required(
        json_request("DynamoDB_20120810.BatchWriteItem"), batch, "dynamodb", ACCOUNT
    ) == [
        ("dynamodb:BatchWriteItem", table),
        ("dynamodb:BatchWriteItem", table.replace("PhotoService-dev", "Other")),
    ]


def test_sqs_batches_are_their_single_actions_and_secrets_are_named_by_arn():
    body = json.dumps({"QueueUrl": "http://127.0.0.1:4566/123456789012/image-upload-dev"}).encode()
    assert iam_requests.required(json_request("AmazonSQS.DeleteMessageBatch"), body, "sqs", ACCOUNT) == [
        ("sqs:DeleteMessage", "arn:aws:sqs:ap-northeast-2:123456789012:image-upload-dev")
    ]
    secret = json.dumps({"SecretId": "dev/image-rekognition/api-key"}).encode()
    assert iam_requests.required(
        json_request("secretsmanager.GetSecretValue"), secret, "secretsmanager", ACCOUNT
    ) == [
        (
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:dev/image-rekognition/api-key-AbCdEf",
        )
    ]


def test_rekognition_collections_and_lambda_invoke():
    body = json.dumps({"CollectionId": "snaprace-dev.acme.e1"}).encode()
    assert iam_requests.required(
        json_request("RekognitionService.IndexFaces"), body, "rekognition", ACCOUNT
    ) == [
        (
            "rekognition:IndexFaces",
            "arn:aws:rekognition:ap-northeast-2:123456789012:collection/snaprace-dev.acme.e1",
        )
    ]
    assert iam_requests.required(
        json_request("RekognitionService.DetectText"), b"{}", "rekognition", ACCOUNT
    ) == [("rekognition:DetectText", "*")]
    detect = json.dumps(
        {"Image": {"S3Object": {"Bucket": BUCKET, "Name": "acme/e1/processed/p.jpg"}}}
    ).encode()
    assert iam_requests.required(
        json_request("RekognitionService.DetectText"), detect, "rekognition", ACCOUNT
    ) == [
        ("rekognition:DetectText", "*"),
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/acme/e1/processed/p.jpg"),  # read with the caller's rights
    ]
    invoke = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/2015-03-31/functions/PreprocessFunction-dev/invocations",
    }
    assert iam_requests.required(invoke, b"{}", "lambda", ACCOUNT) == [
        (
            "lambda:InvokeFunction",
            "arn:aws:lambda:ap-northeast-2:123456789012:function:PreprocessFunction-dev",
        )
    ]


def test_the_signing_key_is_read_from_the_header_or_a_presigned_url():
    header = {
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 "
        "Credential=ASIA0123/20261201/ap-northeast-2/s3/aws4_request, SignedHeaders=host"
    }
    assert iam_requests.signing(header) == ("ASIA0123", "s3")
    presigned = {
        "QUERY_STRING": "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=ASIA0123%2F20261201%2Fap-northeast-2%2Fs3%2Faws4_request"
    }
    assert iam_requests.signing(presigned) == ("ASIA0123", "s3")
    assert iam_requests.signing({}) is None


def role(*statements) -> Role:
    return Role("Fn", "FnRole", "Fn-dev", list(statements), "123456789012")


@pytest.mark.parametrize(
    ("action", "resource", "allowed"),
    [
        ("s3:GetObject", "arn:aws:s3:::b/acme/e1/raw/x.jpg", True),
        ("S3:getobject", "arn:aws:s3:::b/acme/e1/raw/x.jpg", True),  # actions are case-insensitive
        ("s3:GetObject", "arn:aws:s3:::b/acme/e1/RAW/x.jpg", False),  # resources are not
        ("s3:GetObject", "arn:aws:s3:::b/acme/e1/processed/x.jpg", False),
        ("s3:GetObjectVersion", "arn:aws:s3:::b/acme/e1/raw/x.jpg", False),
        ("s3:GetObject", "arn:aws:s3:::b/acme/e1/raw/secret/x.jpg", False),  # the explicit deny wins
    ],
)
def test_a_role_allows_only_what_a_statement_names_and_a_deny_wins(action, resource, allowed):
    subject = role(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*/*/raw/*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*/secret/*"},
    )
    assert subject.decide(action, resource).allowed is allowed


def test_a_statement_with_a_condition_never_allows():
    subject = role(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        }
    )
    decision = subject.decide("s3:GetObject", "arn:aws:s3:::b/k")
    assert not decision.allowed
    assert subject.denial_message(decision) == (
        "User: arn:aws:sts::123456789012:assumed-role/FnRole/Fn-dev is not authorized to perform: "
        "s3:GetObject on resource: arn:aws:s3:::b/k "
        "because no identity-based policy allows the s3:GetObject action"
    )


@pytest.fixture(scope="module")
def roles():
    stack = LocalStack(port=4998)  # resolves names and ARNs as the running stack does; starts nothing
    return roles_from_template(stack.template, stack.resolver)


def test_the_sam_transform_gives_each_function_and_the_state_machine_its_own_role(roles):
    template = load_template()
    principals = [
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
    ]
    assert sorted(roles) == sorted(principals)
    assert len({r.access_key for r in roles.values()}) == len(roles)
    assert roles["PreprocessFunction"].access_key == access_key_for("PreprocessFunction")
    for subject in roles.values():  # every intrinsic is resolved
        assert "Fn::" not in json.dumps(subject.statements) and '"Ref"' not in json.dumps(subject.statements)


def test_the_starter_polls_its_queue_through_the_managed_policy_sam_attaches(roles):
    queue = "arn:aws:sqs:ap-northeast-2:123456789012:image-upload-dev"
    starter = roles["StartProcessingFunction"]
    assert starter.decide("sqs:ReceiveMessage", queue).allowed
    assert starter.decide(
        "logs:PutLogEvents", "arn:aws:logs:ap-northeast-2:123456789012:log-group:x:*"
    ).allowed
    assert not roles["PreprocessFunction"].decide("sqs:ReceiveMessage", queue).allowed


def test_the_state_machine_may_invoke_its_functions_and_no_other(roles):
    machine = roles["ImageProcessingStateMachine"]
    function = "arn:aws:lambda:ap-northeast-2:123456789012:function:{}"
    assert machine.decide("lambda:InvokeFunction", function.format("PreprocessFunction-dev")).allowed
    assert not machine.decide("lambda:InvokeFunction", function.format("SearchApiFunction-dev")).allowed


def test_a_role_given_by_arn_is_refused_with_the_function_named():
    stack = LocalStack(port=4997)
    template = load_template()
    template["Resources"]["PreprocessFunction"]["Properties"]["Role"] = "arn:aws:iam::123456789012:role/x"
    with pytest.raises(ValueError, match="PreprocessFunction: a role given by ARN"):
        roles_from_template(template, stack.resolver)


def test_a_thread_a_function_starts_signs_with_the_functions_role():
    """A pool of writers inside a function (the face scrub's) is the function on AWS: here too, or
    its requests would go unchecked by IAM and be the operator's on the meter."""
    from concurrent.futures import ThreadPoolExecutor

    from snaprace.local.iam import THREAD_CREDENTIALS, install_thread_credentials

    install_thread_credentials()
    outside = THREAD_CREDENTIALS.get_frozen_credentials().access_key

    def signs_with(_: int) -> str:
        return THREAD_CREDENTIALS.get_frozen_credentials().access_key

    THREAD_CREDENTIALS.use("AKIAJOBFUNCTIONROLE0")  # this thread runs JobFunction
    try:
        with ThreadPoolExecutor(4) as writers:
            keys = set(writers.map(signs_with, range(8)))
    finally:
        THREAD_CREDENTIALS.use(None)
    assert keys == {"AKIAJOBFUNCTIONROLE0"}
    with ThreadPoolExecutor(2) as operators:  # started by no function: the process's own keys
        assert set(operators.map(signs_with, range(2))) == {outside}
