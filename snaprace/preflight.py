"""`snaprace preflight`: before an event, check that the account and the stack can carry it.

Facts are gathered from the stack (deployed or local) once, then judged by `evaluate`, a pure
function, so every verdict is table-tested without AWS:
- Rekognition: the region's quota (Service Quotas) for DetectText and IndexFaces, which every
  photo calls once, must be at least the stack's RekognitionTps (the starter paces to 90 % of it);
  SearchFaces and SearchFacesByImage serve the search API and are reported.
- Lambda: unreserved concurrency for the pipeline at that rate (LAMBDA_SECONDS_PER_PHOTO of
  function time per photo, a generous bound on what bench/cost.py measures), the starters and the API.
- Alarms: the alarm topic has a confirmed subscription (an e-mail one stays pending until its
  link is clicked).
- CORS is not * in prod; the bucket's versioning, default encryption and EventBridge notifications are on.
"""

import re
from dataclasses import asdict, dataclass, field

from snaprace.stack import Stack

PIPELINE_OPERATIONS = ("DetectText", "IndexFaces")
SEARCH_OPERATIONS = ("SearchFaces", "SearchFacesByImage")
LAMBDA_SECONDS_PER_PHOTO = 4.0
API_CONCURRENCY = 10  # kept free for runners' searches during an upload burst


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    figure: str
    fix: str = ""


@dataclass
class Facts:
    stage: str
    rekognition_tps: float
    starter_concurrency: int
    cors_origins: list[str]
    quotas: dict[str, float | None]  # operation -> transactions per second (None: not found)
    unreserved_concurrency: int
    subscriptions: list[dict] = field(default_factory=list)  # {"protocol", "confirmed"}
    versioning: str = ""
    encryption: str = ""
    eventbridge: bool = False


def needed_concurrency(facts: Facts) -> int:
    photos_per_second = 0.9 * facts.rekognition_tps
    return round(photos_per_second * LAMBDA_SECONDS_PER_PHOTO + facts.starter_concurrency + API_CONCURRENCY)


def check(name: str, ok: bool, figure: str, fix: str) -> Check:
    return Check(name, ok, figure, "" if ok else fix)


def evaluate(facts: Facts) -> list[Check]:
    checks = []
    for operation in PIPELINE_OPERATIONS + SEARCH_OPERATIONS:
        quota = facts.quotas.get(operation)
        if quota is None:
            checks.append(check(f"rekognition {operation}", False, "quota not found", "see Service Quotas"))
        elif operation in PIPELINE_OPERATIONS:
            fix = f"lower RekognitionTps to {quota:g}, or ask for a quota increase"
            figure = f"{quota:g}/s for RekognitionTps {facts.rekognition_tps:g}"
            checks.append(check(f"rekognition {operation}", quota >= facts.rekognition_tps, figure, fix))
        else:
            checks.append(check(f"rekognition {operation}", True, f"{quota:g}/s for the search API", ""))
    needed = needed_concurrency(facts)
    checks.append(
        check(
            "lambda concurrency",
            facts.unreserved_concurrency >= needed,
            f"{facts.unreserved_concurrency} unreserved, {needed} needed",
            "ask for a Lambda concurrency increase, or lower RekognitionTps",
        )
    )
    confirmed = sum(1 for s in facts.subscriptions if s["confirmed"])
    checks.append(
        check(
            "alarm subscription",
            confirmed > 0,
            f"{confirmed} confirmed, {len(facts.subscriptions) - confirmed} pending",
            "deploy with AlarmEmail=... and click the link in the confirmation mail",
        )
    )
    origins = ",".join(o for o in facts.cors_origins if o) or "none"
    checks.append(
        check(
            "cors",
            not (facts.stage == "prod" and "*" in facts.cors_origins),
            origins,
            "list the front ends' origins in CorsOrigins",
        )
    )
    checks.append(
        check("bucket versioning", facts.versioning == "Enabled", facts.versioning or "off", "redeploy")
    )
    checks.append(check("bucket encryption", bool(facts.encryption), facts.encryption or "none", "redeploy"))
    checks.append(
        check(
            "bucket eventbridge",
            facts.eventbridge,
            "on" if facts.eventbridge else "off",
            "uploads reach no queue: redeploy the stack",
        )
    )
    return checks


def gather(stack: Stack) -> Facts:
    parameters = stack.parameters
    return Facts(
        stage=parameters.get("Stage", ""),
        rekognition_tps=float(parameters.get("RekognitionTps") or 0),
        starter_concurrency=int(parameters.get("StarterMaxConcurrency") or 0),
        cors_origins=[o.strip() for o in parameters.get("CorsOrigins", "").split(",")],
        quotas=rekognition_quotas(stack),
        unreserved_concurrency=stack.client("lambda").get_account_settings()["AccountLimit"][
            "UnreservedConcurrentExecutions"
        ],
        subscriptions=alarm_subscriptions(stack),
        **bucket_facts(stack),
    )


def rekognition_quotas(stack: Stack) -> dict[str, float | None]:
    """Operation -> its TPS quota in this region: the applied value, else AWS's default. Quotas are
    found by the operation named in their name, not by code."""
    client = stack.client("service-quotas")
    found: dict[str, float] = {}
    for lister in ("list_service_quotas", "list_aws_default_service_quotas"):
        for page in client.get_paginator(lister).paginate(ServiceCode="rekognition"):
            for quota in page["Quotas"]:
                for operation in PIPELINE_OPERATIONS + SEARCH_OPERATIONS:
                    if operation not in found and re.search(rf"\b{operation}\b", quota["QuotaName"]):
                        found[operation] = float(quota["Value"])
    return {operation: found.get(operation) for operation in PIPELINE_OPERATIONS + SEARCH_OPERATIONS}


def alarm_subscriptions(stack: Stack) -> list[dict]:
    topic = stack.output("AlarmTopicArn")
    subscriptions = []
    for page in stack.client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
        for subscription in page["Subscriptions"]:
            subscriptions.append(
                {
                    "protocol": subscription["Protocol"],
                    "confirmed": subscription["SubscriptionArn"].startswith(
                        "arn:"
                    ),  # else PendingConfirmation
                }
            )
    return subscriptions


def bucket_facts(stack: Stack) -> dict:
    s3 = stack.client("s3")
    versioning = s3.get_bucket_versioning(Bucket=stack.bucket).get("Status", "")
    rules = s3.get_bucket_encryption(Bucket=stack.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    encryption = ",".join(rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in rules)
    notification = s3.get_bucket_notification_configuration(Bucket=stack.bucket)
    return {
        "versioning": versioning,
        "encryption": encryption,
        "eventbridge": "EventBridgeConfiguration" in notification,
    }


def report(checks: list[Check]) -> dict:
    return {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}
