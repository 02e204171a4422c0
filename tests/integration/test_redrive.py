"""The DLQ redrive's fallback (accounts without SQS message move tasks) on moto's SQS."""

import boto3
from conftest import REGION

from snaprace.runbook import _move_by_hand


def test_moving_by_hand_moves_every_message_once(aws):
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    queue = sqs.create_queue(QueueName="queue")["QueueUrl"]
    bodies = {f'{{"n": {n}}}' for n in range(23)}  # more than one batch of 10
    for body in bodies:
        sqs.send_message(QueueUrl=dlq, MessageBody=body)
    batches = []
    assert _move_by_hand(sqs, dlq, queue, batches.append) == 23
    assert sum(batches) == 23
    moved = set()
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        moved |= {m["Body"] for m in messages}
        sqs.delete_message_batch(
            QueueUrl=queue,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    assert moved == bodies
    assert sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []
