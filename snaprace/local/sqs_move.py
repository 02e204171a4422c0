"""SQS message move tasks (StartMessageMoveTask, ListMessageMoveTasks), which moto lacks: the DLQ
redrive that the SQS console and `snaprace redrive` use. A task runs to completion before the call
returns (AWS runs it in the background); ListMessageMoveTasks reports it as AWS does."""

import json
import threading
import time
import uuid

from snaprace.queues import move_messages
from snaprace.template import LOCAL_ACCOUNT


class MessageMoveTasks:
    def __init__(self, sqs_client, endpoint_url: str):
        self.sqs_client, self.endpoint_url = sqs_client, endpoint_url
        self.tasks: list[dict] = []
        self.lock = threading.Lock()

    def _url(self, arn: str) -> str:
        return f"{self.endpoint_url}/{LOCAL_ACCOUNT}/{arn.rsplit(':', 1)[-1]}"

    def _source_queue_of(self, sqs, dlq_arn: str) -> str:
        """Without a destination, messages go back to the queue whose redrive policy names the DLQ."""
        for url in sqs.list_queues().get("QueueUrls", []):
            policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
            if json.loads(policy.get("RedrivePolicy", "{}")).get("deadLetterTargetArn") == dlq_arn:
                return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
        raise ValueError(f"no queue uses {dlq_arn} as its dead-letter queue")

    def handle(self, operation: str, request: dict) -> dict:
        if operation == "ListMessageMoveTasks":
            with self.lock:
                found = [t for t in self.tasks if t["SourceArn"] == request.get("SourceArn")]
            return {"Results": list(reversed(found))[: int(request.get("MaxResults", 1))]}
        sqs = self.sqs_client()
        source = request["SourceArn"]
        destination = request.get("DestinationArn") or self._source_queue_of(sqs, source)
        task = {
            "TaskHandle": str(uuid.uuid4()),
            "Status": "RUNNING",
            "SourceArn": source,
            "DestinationArn": destination,
            "ApproximateNumberOfMessagesMoved": 0,
            "StartedTimestamp": int(time.time() * 1000),
        }
        with self.lock:
            self.tasks.append(task)

        def moved(count: int) -> None:
            task["ApproximateNumberOfMessagesMoved"] += count

        move_messages(sqs, self._url(source), self._url(destination), moved, wait_seconds=0)
        task["Status"] = "COMPLETED"
        return {"TaskHandle": task["TaskHandle"]}
