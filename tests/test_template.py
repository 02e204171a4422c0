"""The template, the state machine, the handlers and events/ agree with each other and with the
operational rules in docs/operations.md and docs/security.md."""

import importlib
import json
import re

import pytest

from snaprace.template import ROOT, resources_of_type


def functions(template):
    return resources_of_type(template, "AWS::Serverless::Function")


def test_every_function_has_an_importable_handler_and_a_sample_event(template):
    assert len(functions(template)) == 14  # with JobFunction (pipeline.jobs)
    for logical_id, function in functions(template).items():
        module_name, _, attribute = function["Properties"]["Handler"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        assert callable(handler), logical_id
        stem = module_name.rsplit(".", 1)[-1]
        samples = sorted((ROOT / "events").glob(f"{stem}*.json"))
        assert samples, f"{logical_id} has no events/{stem}*.json"
        for sample in samples:
            json.loads(sample.read_text())


def test_functions_carry_the_stage_in_their_names(template):
    """(Their log groups are a template standard: tools/cfn_rules E9001.)"""
    for logical_id, function in functions(template).items():
        assert function["Properties"]["FunctionName"] == {"Fn::Sub": f"{logical_id}-${{Stage}}"}


def test_runtime_is_python313_on_arm64_with_tracing(template):
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Tracing"] == "Active"


def test_state_machine_uses_every_substitution_and_names_only_template_functions(template):
    (machine,) = resources_of_type(template, "AWS::Serverless::StateMachine").values()
    properties = machine["Properties"]
    definition = (ROOT / properties["DefinitionUri"]).read_text()
    placeholders = set(re.findall(r"\$\{(\w+)\}", definition))
    assert placeholders == set(properties["DefinitionSubstitutions"])
    for name, value in properties["DefinitionSubstitutions"].items():
        assert value == {"Fn::GetAtt": [name.removesuffix("Arn"), "Arn"]}
        assert name.removesuffix("Arn") in functions(template)
    invoked = {
        policy["LambdaInvokePolicy"]["FunctionName"]["Ref"]
        for policy in properties["Policies"]
        if "LambdaInvokePolicy" in policy
    }
    assert invoked == {name.removesuffix("Arn") for name in placeholders}
    assert properties["Type"] == "STANDARD" and properties["Tracing"] == {"Enabled": True}


def test_state_machine_routes_every_outcome():
    asl = json.loads((ROOT / "statemachine/image_processing.asl.json").read_text())
    states = asl["States"]
    preprocess_catches = {tuple(c["ErrorEquals"]): c["Next"] for c in states["Preprocess"]["Catch"]}
    assert preprocess_catches[("InvalidImage",)] == "RecordRejection"
    assert preprocess_catches[("States.ALL",)] == "RecordFailure"
    assert states["RecordFailure"]["Next"] == "Failed" and states["Failed"]["Type"] == "Fail"
    for name, state in states.items():
        if state["Type"] == "Task":
            retried = {error for rule in state["Retry"] for error in rule["ErrorEquals"]}
            assert {
                "Lambda.ServiceException",
                "Lambda.TooManyRequestsException",
                "RekognitionThrottled",
            } <= retried, name
            assert all(rule["JitterStrategy"] == "FULL" for rule in state["Retry"]), name


def test_bucket_denies_plain_http_and_foreign_encryption(template):
    policy = template["Resources"]["ImageBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    by_sid = {statement["Sid"]: statement for statement in policy}
    assert by_sid["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    encryption = by_sid["DenyEncryptionOtherThanAES256"]
    assert encryption["Effect"] == "Deny"
    assert encryption["Condition"]["StringNotEquals"] == {"s3:x-amz-server-side-encryption": "AES256"}
    bucket = template["Resources"]["ImageBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


def test_upload_rule_matches_only_raw_layouts(template):
    pattern = template["Resources"]["UploadRule"]["Properties"]["EventPattern"]
    assert pattern["detail"]["object"]["key"] == [{"wildcard": "*/*/raw/*"}, {"prefix": "raw/"}]
    queue = template["Resources"]["UploadQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5


@pytest.mark.parametrize("logical_id", ["ImageBucket", "PhotoTable"])
def test_production_data_is_retained(template, logical_id):
    assert template["Resources"][logical_id]["DeletionPolicy"] == {"Fn::If": ["IsProd", "Retain", "Delete"]}


def task_states(states: dict):
    for state in states.values():
        if state["Type"] == "Task":
            yield state
        for branch in state.get("Branches", []):
            yield from task_states(branch["States"])


def test_lambda_throttling_is_retried_for_minutes_not_seconds():
    """A new account's Lambda concurrency can be 10: a burst throttles invocations, and four quick
    retries (about 15 s) would fail photos that a minute's patience processes."""
    asl = json.loads((ROOT / "statemachine/image_processing.asl.json").read_text())
    tasks = list(task_states(asl["States"]))
    assert len(tasks) >= 6
    for state in tasks:
        (rule,) = [r for r in state["Retry"] if "Lambda.TooManyRequestsException" in r["ErrorEquals"]]
        assert rule["MaxAttempts"] >= 8 and rule["MaxDelaySeconds"] >= 60, state["Resource"]


def test_each_stage_writes_its_own_metric_namespace_and_its_dashboard_reads_it(template):
    from snaprace.template import Resolver

    namespaces = set()
    for stage in ("dev", "prod"):
        resolver = Resolver(template, region="ap-northeast-2", parameters={"Stage": stage})
        resolver.physical_ids.update({name: name for name in template["Resources"]})
        namespace = resolver.resolve(template["Globals"]["Function"]["Environment"]["Variables"])[
            "POWERTOOLS_METRICS_NAMESPACE"
        ]
        dashboard = resolver.resource_properties("Dashboard")["DashboardBody"]
        assert f'["{namespace}", "PhotosIndexed"' in dashboard, stage
        namespaces.add(namespace)
    assert len(namespaces) == 2


def test_an_upload_event_eventbridge_cannot_deliver_is_kept_and_alarmed(template):
    (target,) = template["Resources"]["UploadRule"]["Properties"]["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["UploadDeadLetterQueue", "Arn"]}}
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400
    dlq_policy = template["Resources"]["UploadDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]
    (allow,) = [s for s in dlq_policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["UploadRule", "Arn"]}}}
    alarm = template["Resources"]["UploadDeliveryFailedAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Events", "FailedInvocations")
    assert alarm["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": "UploadRule"}}]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_raw_photos_stay_readable_without_a_restore(template):
    """Intelligent-Tiering's opt-in Archive and Deep Archive Access tiers answer InvalidObjectState
    until restored: a `reprocess` of an old event would fail. Only the automatic tiers are used."""
    bucket = template["Resources"]["ImageBucket"]["Properties"]
    assert "IntelligentTieringConfigurations" not in bucket
    (rule,) = [
        r for r in bucket["LifecycleConfiguration"]["Rules"] if r["Id"] == "raw-photos-to-intelligent-tiering"
    ]
    assert [t["StorageClass"] for t in rule["Transitions"]] == ["INTELLIGENT_TIERING"]


def test_every_variable_the_functions_read_is_declared_in_the_template(template):
    """Configuration is read in one place (pipeline/common/config.py) from variables the template sets."""
    source = (ROOT / "src" / "pipeline" / "common" / "config.py").read_text()
    read = set(re.findall(r"""(?:_int|_float|os\.environ\.get)\("([A-Z_]+)\"""", source))
    declared = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for function in functions(template).values():
        declared |= set(function["Properties"].get("Environment", {}).get("Variables", {}))
    assert len(read) >= 8
    assert read <= declared, f"read but not declared: {sorted(read - declared)}"


def test_the_templates_bib_lengths_default_to_the_rules_own(template):
    """One source for bib defaults: the template deploys what pipeline.processing.bibs.BibRules assumes."""
    from pipeline.processing.bibs import BibRules

    parameters = template["Parameters"]
    assert int(parameters["BibMinLength"]["Default"]) == BibRules.min_length
    assert int(parameters["BibMaxLength"]["Default"]) == BibRules.max_length


def test_the_search_apis_own_5xx_rate_is_alarmed_and_never_its_4xx(template):
    alarm = template["Resources"]["SearchApi5xxAlarm"]["Properties"]
    watched = {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert watched == {"5xx", "Count"}
    for metric in alarm["Metrics"]:
        if "MetricStat" in metric:
            assert metric["MetricStat"]["Metric"]["Dimensions"] == [
                {"Name": "ApiId", "Value": {"Ref": "SearchApi"}}
            ]
    (rate,) = [m for m in alarm["Metrics"] if m.get("ReturnData")]
    assert "errors / requests" in rate["Expression"] and alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    pipeline = template["Resources"]["LambdaErrorsAlarm"]["Properties"]["Metrics"]
    dims = [m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"] for m in pipeline if "MetricStat" in m]
    assert (
        "SearchApiFunction" not in dims and "ApiAuthorizerFunction" not in dims
    )  # the pipeline's alarm is the pipeline's


@pytest.mark.parametrize(("reserved", "expected"), [("0", None), ("50", "50")])
def test_the_apis_reserve_concurrency_only_when_asked(template, reserved, expected):
    """0, the default, reserves nothing: Lambda refuses a reservation that leaves an account fewer
    than 100 unreserved executions, and a new account may have 10."""
    from snaprace.template import Resolver

    resolver = Resolver(template, region="ap-northeast-2", parameters={"ApiReservedConcurrency": reserved})
    resolver.physical_ids.update({name: name for name in template["Resources"]})
    assert template["Parameters"]["ApiReservedConcurrency"]["Default"] == 0
    for logical_id in ("SearchApiFunction", "OrganiserApiFunction"):
        assert resolver.resource_properties(logical_id).get("ReservedConcurrentExecutions") == expected
    reserving = [
        name
        for name, function in functions(template).items()
        if "ReservedConcurrentExecutions" in function["Properties"]
    ]
    assert sorted(reserving) == ["OrganiserApiFunction", "SearchApiFunction"]


def test_uploads_and_their_dead_letters_are_kept_14_days(template):
    for logical_id in ("UploadQueue", "UploadDeadLetterQueue"):
        assert template["Resources"][logical_id]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
