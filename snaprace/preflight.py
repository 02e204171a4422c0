"""`snaprace preflight`: before an event, check that the account and the stack can carry it.

Facts are gathered from the stack (deployed or local) once, then judged by `evaluate`, a pure
function, so every verdict is table-tested without AWS:
- Rekognition: the region's quota (Service Quotas) for each API must be at least the stack's
  parameter the governor paces it to (DetectTextTps, IndexFacesTps, SearchFacesTps,
  SearchFacesByImageTps; a stack without them has RekognitionTps for DetectText and IndexFaces, and
  its searches are only reported).
- Lambda: unreserved concurrency for the pipeline at the rate those quotas allow
  (event_model.LAMBDA_SECONDS_PER_PHOTO of function time per photo), the starters and the APIs (their
  ApiReservedConcurrency, else API_CONCURRENCY kept free).
- Alarms: the alarm topic has a confirmed subscription (an e-mail one stays pending until its
  link is clicked).
- CORS is not * in prod; the bucket's versioning, default encryption and EventBridge notifications are on.
- With an event (`--photos`, `forecast`): when its photos are searchable (snaprace.event_model) at the
  quotas in effect, min(parameter, account quota) per API, and at the account's quotas; with a
  target, a check that the peak photo's p99 meets it and the quotas to request when it does not.
"""

import re
from dataclasses import asdict, dataclass, field

from snaprace.event_model import (
    PIPELINE_LATENCY_S,
    Event,
    ImpossibleEvent,
    Needed,
    Prediction,
    lambda_concurrency_for,
    needed_quotas,
    predict,
    service_rate,
)
from snaprace.stack import Stack

PIPELINE_OPERATIONS = ("DetectText", "IndexFaces")
SEARCH_OPERATIONS = ("SearchFaces", "SearchFacesByImage")
API_CONCURRENCY = 10  # kept free for runners' searches during an upload burst when none is reserved
API_FUNCTIONS = 2  # the search API and the organiser API, each reserving ApiReservedConcurrency
LEGACY_TPS = "RekognitionTps"  # one parameter for DetectText and IndexFaces, before one per API
LAMBDA_UNRESERVED_FLOOR = 100  # Lambda refuses a reservation that leaves the account fewer unreserved


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    figure: str
    fix: str = ""


@dataclass
class Facts:
    stage: str
    # operation -> (the stack parameter the governor paces it to, its TPS); the searches only when
    # the stack has their own parameter
    rekognition_tps: dict[str, tuple[str, float]]
    starter_concurrency: int
    cors_origins: list[str]
    quotas: dict[str, float | None]  # operation -> transactions per second (None: not found)
    unreserved_concurrency: int
    concurrency_limit: int = 1000  # the account's ConcurrentExecutions
    api_reserved_concurrency: int = 0  # ApiReservedConcurrency, for each of the two API functions
    subscriptions: list[dict] = field(default_factory=list)  # {"protocol", "confirmed"}
    versioning: str = ""
    encryption: str = ""
    eventbridge: bool = False


def tps_parameters(parameters: dict[str, str]) -> dict[str, tuple[str, float]]:
    """Operation -> (parameter, TPS): its own `{Operation}Tps`, else RekognitionTps for the pipeline's two."""
    found = {}
    for operation in PIPELINE_OPERATIONS + SEARCH_OPERATIONS:
        own = f"{operation}Tps"
        if parameters.get(own):
            found[operation] = (own, float(parameters[own]))
        elif operation in PIPELINE_OPERATIONS:
            found[operation] = (LEGACY_TPS, float(parameters.get(LEGACY_TPS) or 0))
    return found


def effective_quotas(facts: Facts) -> dict[str, float]:
    """The pipeline's TPS per API: the governor paces to the parameter, the account throttles
    above its quota."""
    found = {}
    for operation in PIPELINE_OPERATIONS:
        _, paced = facts.rekognition_tps[operation]
        quota = facts.quotas.get(operation)
        found[operation] = paced if quota is None else min(paced, quota)
    return found


def reserved_for_apis(facts: Facts) -> int:
    """Concurrency the stack reserves for its APIs: already out of the account's unreserved count."""
    return API_FUNCTIONS * facts.api_reserved_concurrency


def api_concurrency(facts: Facts) -> int:
    return reserved_for_apis(facts) or API_CONCURRENCY


def needed_concurrency(facts: Facts) -> int:
    """The pipeline at the rate its Rekognition quotas allow, the starters and the APIs."""
    pipeline = lambda_concurrency_for(service_rate(effective_quotas(facts)).photos_per_s)
    return pipeline + facts.starter_concurrency + api_concurrency(facts)


def pipeline_concurrency(facts: Facts) -> int:
    """What the account leaves the pipeline's functions once the starters and the APIs have theirs."""
    available = facts.unreserved_concurrency + reserved_for_apis(facts)
    return available - facts.starter_concurrency - api_concurrency(facts)


def concurrency_to_request(facts: Facts, needed: int) -> int:
    """The account's ConcurrentExecutions that leaves `needed` for the stack and, while any function
    reserves some, the 100 unreserved Lambda insists on."""
    shortfall = needed - facts.unreserved_concurrency - reserved_for_apis(facts)
    reserved_in_account = facts.concurrency_limit - facts.unreserved_concurrency
    floor = reserved_in_account + LAMBDA_UNRESERVED_FLOOR if reserved_in_account else 0
    return max(facts.concurrency_limit + max(shortfall, 0), floor)


@dataclass(frozen=True)
class Forecast:
    event: Event
    quotas: dict[str, float]  # in effect: min(parameter, account quota)
    deployed: Prediction
    account_quotas: dict[str, float]  # the account's, were the parameters raised to them
    at_account_quotas: Prediction
    target_s: float | None = None
    needed: Needed | None = None


def planned_event(
    photos: int | None,
    peak_per_s: float | None,
    hours: float,
    peak_minutes: float,
    peak_start_hours: float,
    target_minutes: float | None,
) -> tuple[Event | None, float | None]:
    """The event and target (seconds) `preflight` was given, checked before any AWS call: (None,
    None) without --photos; ImpossibleEvent says what cannot be."""
    if photos is None:
        if peak_per_s is not None or target_minutes is not None:
            raise ImpossibleEvent("--peak and --target-minutes describe an event: give its --photos too")
        return None, None
    if peak_per_s is None:
        raise ImpossibleEvent("give the finish-line peak in photos per second: --peak 60")
    event = Event(photos, peak_per_s, hours, peak_minutes, peak_start_hours)
    event.check()
    target_s = None if target_minutes is None else target_minutes * 60
    if target_s is not None and target_s < PIPELINE_LATENCY_S:
        raise ImpossibleEvent(
            f"--target-minutes {target_minutes:g} is under the pipeline's own latency "
            f"({PIPELINE_LATENCY_S:g} s)"
        )
    return event, target_s


def forecast(
    facts: Facts, event: Event, target_s: float | None = None, latency_s: float = PIPELINE_LATENCY_S
) -> Forecast:
    """When the event's photos are searchable with these facts (snaprace.event_model); raises
    ImpossibleEvent for an arrival curve or a target that cannot be."""
    in_effect = effective_quotas(facts)
    account = {op: facts.quotas.get(op) or in_effect[op] for op in PIPELINE_OPERATIONS}
    lambda_concurrency = pipeline_concurrency(facts)
    return Forecast(
        event=event,
        quotas=in_effect,
        deployed=predict(event, service_rate(in_effect, lambda_concurrency), latency_s),
        account_quotas=account,
        at_account_quotas=predict(event, service_rate(account, lambda_concurrency), latency_s),
        target_s=target_s,
        needed=None if target_s is None else needed_quotas(event, target_s, latency_s),
    )


def target_fix(facts: Facts, needed: Needed) -> str:
    """What to request and set so the target is met: only what falls short."""
    steps, parameters = [], {}
    for operation, tps in (("DetectText", needed.detect_text_tps), ("IndexFaces", needed.index_faces_tps)):
        quota = facts.quotas.get(operation)
        if quota is None or quota < tps:
            now = "not found" if quota is None else f"now {quota:g}"
            steps.append(f"request {operation} {tps}/s in Service Quotas ({now})")
        parameter, paced = facts.rekognition_tps[operation]
        if paced < tps:
            parameters[parameter] = max(tps, parameters.get(parameter, 0))
    steps += [f"set {parameter}={tps}" for parameter, tps in parameters.items()]
    concurrency = needed.lambda_concurrency + facts.starter_concurrency + api_concurrency(facts)
    if pipeline_concurrency(facts) < needed.lambda_concurrency:
        steps.append(f"request Lambda concurrent executions {concurrency_to_request(facts, concurrency)}")
    return "; ".join(steps)


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def check(name: str, ok: bool, figure: str, fix: str) -> Check:
    return Check(name, ok, figure, "" if ok else fix)


def evaluate(facts: Facts, planned: Forecast | None = None) -> list[Check]:
    checks = []
    for operation in PIPELINE_OPERATIONS + SEARCH_OPERATIONS:
        quota = facts.quotas.get(operation)
        paced = facts.rekognition_tps.get(operation)
        if quota is None:
            checks.append(check(f"rekognition {operation}", False, "quota not found", "see Service Quotas"))
        elif paced is not None:
            parameter, tps = paced
            fix = f"lower {parameter} to {quota:g}, or ask for a quota increase"
            figure = f"{quota:g}/s for {parameter} {tps:g}"
            checks.append(check(f"rekognition {operation}", quota >= tps, figure, fix))
        else:
            checks.append(check(f"rekognition {operation}", True, f"{quota:g}/s for the search API", ""))
    needed = needed_concurrency(facts)
    reserved = reserved_for_apis(facts)
    checks.append(
        check(
            "lambda concurrency",
            facts.unreserved_concurrency + reserved >= needed,
            f"{facts.unreserved_concurrency} unreserved"
            + (f" + {reserved} reserved for the APIs" if reserved else "")
            + f", {needed} needed",
            f"request Lambda concurrent executions {concurrency_to_request(facts, needed)} in Service Quotas "
            f"(now {facts.concurrency_limit}), or lower the Rekognition TPS parameters",
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
    if planned is not None and planned.target_s is not None and planned.needed is not None:
        p99 = planned.deployed.peak_p99_s
        checks.append(
            check(
                "time to searchable",
                p99 <= planned.target_s,
                f"peak p99 {duration(p99)} for a {duration(planned.target_s)} target",
                target_fix(facts, planned.needed),
            )
        )
    return checks


def gather(stack: Stack) -> Facts:
    parameters = stack.parameters
    limit = stack.client("lambda").get_account_settings()["AccountLimit"]
    return Facts(
        stage=parameters.get("Stage", ""),
        rekognition_tps=tps_parameters(parameters),
        starter_concurrency=int(parameters.get("StarterMaxConcurrency") or 0),
        cors_origins=[o.strip() for o in parameters.get("CorsOrigins", "").split(",")],
        quotas=rekognition_quotas(stack),
        unreserved_concurrency=limit["UnreservedConcurrentExecutions"],
        concurrency_limit=limit["ConcurrentExecutions"],
        api_reserved_concurrency=int(parameters.get("ApiReservedConcurrency") or 0),
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


def report(checks: list[Check], planned: Forecast | None = None) -> dict:
    found = {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}
    if planned is not None:
        event = planned.event
        found["forecast"] = {
            "event": {**asdict(event), "quiet_per_s": round(event.quiet_per_s, 4)},
            "quotas": planned.quotas,
            "deployed": asdict(planned.deployed),
            "account_quotas": planned.account_quotas,
            "at_account_quotas": asdict(planned.at_account_quotas),
            "target_s": planned.target_s,
            "needed": planned.needed and asdict(planned.needed),
        }
    return found


def forecast_lines(planned: Forecast) -> list[str]:
    """The forecast as `preflight` prints it under the checks."""
    event = planned.event
    lines = [
        f"event        {event.photos:,} photos over {event.hours:g} h, {event.peak_per_s:g}/s for "
        f"{event.peak_minutes:g} min from {event.peak_start_hours:g} h, {event.quiet_per_s:.2f}/s otherwise"
    ]
    shown = [("in effect", planned.quotas, planned.deployed)]
    if planned.account_quotas != planned.quotas:
        shown.append(("at quotas", planned.account_quotas, planned.at_account_quotas))
    for label, quotas, prediction in shown:
        tps = ", ".join(f"{operation} {value:g}/s" for operation, value in quotas.items())
        lines.append(
            f"{label:<12} {tps}: {prediction.photos_per_s:.2f} photos/s, bound by {prediction.binding}; "
            f"all searchable {duration(prediction.all_done_s)} after the first upload; a peak photo waits "
            f"{duration(prediction.peak_p50_s)} (p50), {duration(prediction.peak_p99_s)} (p99)"
        )
    if planned.needed is not None and planned.target_s is not None:
        needed = planned.needed
        lines.append(
            f"target       peak p99 ≤ {duration(planned.target_s)}: DetectText {needed.detect_text_tps}/s, "
            f"IndexFaces {needed.index_faces_tps}/s ({needed.photos_per_s:.1f} photos/s, "
            f"{needed.lambda_concurrency} Lambda executions for the pipeline)"
        )
    return lines
