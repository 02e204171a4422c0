"""Fault injection for the local stack: the failures AWS produces under load, on purpose.

Switched on with `POST /_snaprace/faults` (a JSON object of the fields below) and read back, with
what was injected, from `GET /_snaprace/faults`. Shares are probabilities per call, drawn from a
seeded generator so a run can be repeated.
"""

import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field, fields


@dataclass
class Faults:
    rekognition_errors: float = 0.0  # Rekognition calls answered 500 InternalServerError
    rekognition_throttles: float = 0.0  # ... answered ProvisionedThroughputExceededException
    dynamodb_throttles: float = 0.0  # DynamoDB calls answered ProvisionedThroughputExceededException
    dynamodb_unprocessed: float = 0.0  # share of each BatchWriteItem's requests left unprocessed
    start_execution_errors: float = 0.0  # StartExecution answered 500 ServiceUnavailable
    function_timeouts: dict = field(default_factory=dict)  # function name -> share that time out
    seed: int = 0
    injected: Counter = field(default_factory=Counter)

    def __post_init__(self):
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def configure(self, settings: dict) -> None:
        names = {f.name for f in fields(self)} - {"injected"}
        unknown = set(settings) - names
        if unknown:
            raise ValueError(
                f"unknown faults: {', '.join(sorted(unknown))}; known: {', '.join(sorted(names))}"
            )
        with self._lock:
            for name, value in settings.items():
                setattr(self, name, value)
            self._random = random.Random(self.seed)

    def roll(self, kind: str, share: float) -> bool:
        if share <= 0:
            return False
        with self._lock:
            hit = self._random.random() < share
            if hit:
                self.injected[kind] += 1
            return hit

    def split(self, items: list) -> tuple[list, list]:
        """(kept, left unprocessed) for a BatchWriteItem's requests."""
        if self.dynamodb_unprocessed <= 0:
            return items, []
        with self._lock:
            left = [item for item in items if self._random.random() < self.dynamodb_unprocessed]
        kept = [item for item in items if all(item is not other for other in left)]
        if left:
            with self._lock:
                self.injected["dynamodb_unprocessed"] += len(left)
        return kept, left

    def describe(self) -> dict:
        settings = asdict(self)
        settings["injected"] = dict(self.injected)
        return settings
