"""What the stack did, counted as AWS bills it: requests per service and operation, DynamoDB
write and read units, S3 request classes, Lambda invocations with their duration and memory, and
the bytes functions logged. Read at GET /_snaprace/meter, zeroed with POST; bench/cost.py prices it.

DynamoDB units follow the on-demand rules from the request and answer bodies: a write unit per 1 KB
of each item written (at least one; a delete counts one), a read unit per 4 KB read, halved for
eventually consistent reads. Item sizes are measured on the wire JSON, which overstates them a
little (type tags), so the write figure errs high.
"""

import json
import math
import threading
from collections import Counter

WRITE_UNIT_BYTES, READ_UNIT_BYTES = 1024, 4096
_DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
_DYNAMODB_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


def _item_bytes(item: dict) -> int:
    return len(json.dumps(item, separators=(",", ":")).encode())


def write_units(operation: str, request: dict) -> float:
    """On-demand write request units for one DynamoDB write request."""
    if operation == "PutItem":
        return max(1, math.ceil(_item_bytes(request.get("Item", {})) / WRITE_UNIT_BYTES))
    if operation in ("UpdateItem", "DeleteItem"):
        return 1  # the items this pipeline updates or deletes are well under 1 KB
    if operation == "BatchWriteItem":
        units = 0
        for writes in request.get("RequestItems", {}).values():
            for write in writes:
                item = write.get("PutRequest", {}).get("Item")
                units += max(1, math.ceil(_item_bytes(item) / WRITE_UNIT_BYTES)) if item else 1
        return units
    if operation == "TransactWriteItems":
        return 2 * len(request.get("TransactItems", []))  # transactions cost twice
    return 0


def read_units(request: dict, answer_bytes: int) -> float:
    units = max(1, math.ceil(answer_bytes / READ_UNIT_BYTES))
    return units if request.get("ConsistentRead") else units / 2


def s3_request_class(method: str, path: str, query: str) -> str:
    """S3's two priced request classes (PUT/COPY/POST/LIST and GET/HEAD/other); DELETE is free."""
    if method == "DELETE":
        return "free"
    bucket_level = path.strip("/").count("/") == 0
    if method in ("PUT", "POST") or (method == "GET" and bucket_level):
        return "put_copy_post_list"
    return "get_and_other"


class Meter:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: Counter = Counter()  # "service:operation"
            self.by_caller: Counter = Counter()  # "function logical id:service:operation" (a function's role)
            self.dynamodb_write_units = 0.0
            self.dynamodb_read_units = 0.0
            self.s3: Counter = Counter()
            self.lambda_invocations: Counter = Counter()
            self.lambda_ms: Counter = Counter()
            self.lambda_cpu_ms: Counter = Counter()
            self.lambda_memory: dict[str, int] = {}
            self.log_bytes = 0

    def request(self, service: str, operation: str, caller: str | None = None) -> None:
        with self._lock:
            self.requests[f"{service}:{operation}"] += 1
            if caller:
                self.by_caller[f"{caller}:{service}:{operation}"] += 1

    def dynamodb(self, operation: str, request: dict, answer_bytes: int) -> None:
        with self._lock:
            if operation in _DYNAMODB_WRITES:
                self.dynamodb_write_units += write_units(operation, request)
            elif operation in _DYNAMODB_READS:
                self.dynamodb_read_units += read_units(request, answer_bytes)

    def s3_request(self, method: str, path: str, query: str) -> None:
        with self._lock:
            self.s3[s3_request_class(method, path, query)] += 1

    def invocation(self, function_name: str, memory_mb: int, duration_ms: float, cpu_ms: float = 0.0) -> None:
        with self._lock:
            self.lambda_invocations[function_name] += 1
            self.lambda_ms[function_name] += duration_ms
            self.lambda_cpu_ms[function_name] += cpu_ms
            self.lambda_memory[function_name] = memory_mb

    def logged(self, size: int) -> None:
        with self._lock:
            self.log_bytes += size

    def describe(self) -> dict:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "requestsByCaller": dict(self.by_caller),
                "dynamodb": {"writeUnits": self.dynamodb_write_units, "readUnits": self.dynamodb_read_units},
                "s3": dict(self.s3),
                "lambda": {
                    name: {
                        "invocations": count,
                        "durationMs": round(self.lambda_ms[name], 1),
                        "cpuMs": round(self.lambda_cpu_ms[name], 1),
                        "memoryMb": self.lambda_memory[name],
                    }
                    for name, count in self.lambda_invocations.items()
                },
                "logBytes": self.log_bytes,
            }
