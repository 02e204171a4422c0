"""What Lambda does around the functions: the SQS event source mapping (batches in, successful
records deleted, failed ones back after the visibility timeout and to the DLQ after
maxReceiveCount), each function invocation's AWS/Lambda metrics, and the AWS/States execution
metrics the alarms watch."""

import logging
import threading
import time
from dataclasses import dataclass

from snaprace.template import LOCAL_ACCOUNT, FunctionSpec

log = logging.getLogger("snaprace.local")
WATCH_SECONDS = 3.0  # listing every execution costs CPU that the functions need


@dataclass(frozen=True)
class SqsSource:
    url: str
    arn: str
    batch: int
    partial: bool  # ReportBatchItemFailures
    concurrency: int  # Lambda's pollers scale to MaximumConcurrency; the starter's pacing counts on it


def sqs_sources(specs: dict[str, FunctionSpec], endpoint_url: str) -> list[tuple[FunctionSpec, SqsSource]]:
    """Every function's SQS events, from the template."""
    sources = []
    for spec in specs.values():
        for event in spec.events.values():
            if event.get("Type") != "SQS":
                continue
            properties = event["Properties"]
            queue_name = properties["Queue"].rsplit(":", 1)[-1]
            sources.append(
                (
                    spec,
                    SqsSource(
                        url=f"{endpoint_url}/{LOCAL_ACCOUNT}/{queue_name}",
                        arn=properties["Queue"],
                        batch=int(properties.get("BatchSize", 10)),
                        partial="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
                        concurrency=max(
                            1, int(properties.get("ScalingConfig", {}).get("MaximumConcurrency", 2))
                        ),
                    ),
                )
            )
    return sources


def poll_queue(
    sqs, spec: FunctionSpec, source: SqsSource, functions, region: str, stop: threading.Event
) -> None:
    """One poller of Lambda's event source mapping (`sqs` signs with the function's role)."""
    while not stop.is_set():
        try:
            messages = sqs.receive_message(
                QueueUrl=source.url,
                MaxNumberOfMessages=source.batch,
                WaitTimeSeconds=1,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        except Exception:  # noqa: BLE001 - keep polling, as the event source mapping does
            log.exception("receive from %s failed", source.url)
            time.sleep(1)
            continue
        if not messages:
            continue
        event = {"Records": [sqs_record(m, source.arn, region) for m in messages]}
        invocation = functions.invoke(spec, event)
        if invocation.error:
            failed = {m["MessageId"] for m in messages}
        elif source.partial and isinstance(invocation.payload, dict):
            failed = {f["itemIdentifier"] for f in invocation.payload.get("batchItemFailures") or []}
        else:
            failed = set()
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=source.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )


def sqs_record(message: dict, queue_arn: str, region: str) -> dict:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def put_lambda_metrics(cloudwatch, meter, spec: FunctionSpec, invocation) -> None:
    """AWS/Lambda Invocations, Errors and Duration, as Lambda puts them; and the meter's record."""
    meter.invocation(spec.name, spec.memory, invocation.duration_ms, invocation.cpu_ms)
    dimensions = [{"Name": "FunctionName", "Value": spec.name}]
    data = [
        {"MetricName": "Invocations", "Value": 1, "Unit": "Count", "Dimensions": dimensions},
        {"MetricName": "Errors", "Value": int(invocation.error), "Unit": "Count", "Dimensions": dimensions},
        {
            "MetricName": "Duration",
            "Value": invocation.duration_ms,
            "Unit": "Milliseconds",
            "Dimensions": dimensions,
        },
    ]
    try:
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=data)
    except Exception:  # noqa: BLE001 - metrics never fail an invocation
        log.exception("could not put Lambda metrics")


def watch_executions(sfn, cloudwatch, progress, stop: threading.Event) -> None:
    """AWS/States ExecutionsSucceeded/Failed per state machine, and progress on the terminal."""
    seen: set[str] = set()
    counts = {"SUCCEEDED": 0, "FAILED": 0}
    last_line = ""
    while not stop.wait(WATCH_SECONDS):
        try:
            for machine in sfn.list_state_machines()["stateMachines"]:
                arn = machine["stateMachineArn"]
                running = 0
                for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
                    for execution in page["executions"]:
                        status = execution["status"]
                        running += status == "RUNNING"
                        if status in counts and execution["executionArn"] not in seen:
                            seen.add(execution["executionArn"])
                            counts[status] += 1
                            metric = "ExecutionsSucceeded" if status == "SUCCEEDED" else "ExecutionsFailed"
                            cloudwatch.put_metric_data(
                                Namespace="AWS/States",
                                MetricData=[
                                    {
                                        "MetricName": metric,
                                        "Value": 1,
                                        "Unit": "Count",
                                        "Dimensions": [{"Name": "StateMachineArn", "Value": arn}],
                                    }
                                ],
                            )
                done = f"{counts['SUCCEEDED']} succeeded, {counts['FAILED']} failed"
                line = f"executions: {running} running, {done}"
                if line != last_line:
                    progress(line)
                    last_line = line
        except Exception:  # noqa: BLE001 - the watcher outlives a bad poll
            log.exception("execution watcher")
