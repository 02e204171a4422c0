"""Moving SQS messages from one queue to another (a DLQ's redrive), receive -> send -> delete in
batches: a crash in between duplicates a message, never loses one (the pipeline dedupes)."""

from collections.abc import Callable


class MoveRefused(RuntimeError):
    """The destination refused messages; they stay where they were."""


def move_messages(
    sqs,
    source_url: str,
    destination_url: str,
    on_moved: Callable[[int], None] = lambda n: None,
    wait_seconds: int = 1,
) -> int:
    """Move every message; returns how many moved."""
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=source_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return moved
        sent = sqs.send_message_batch(
            QueueUrl=destination_url,
            Entries=[
                {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": m.get("MessageAttributes", {})}
                for i, m in enumerate(messages)
            ],
        )
        done = [messages[int(ok["Id"])] for ok in sent.get("Successful", [])]
        if done:
            sqs.delete_message_batch(
                QueueUrl=source_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        moved += len(done)
        on_moved(len(done))
        if sent.get("Failed"):
            raise MoveRefused(
                f"the destination refused {len(sent['Failed'])} messages; they stay in the source"
            )
