"""The in-process Lambda runtime: error payloads as Lambda shapes them, one invocation per
container and a bounded number of containers per function, metrics per invocation."""

import threading
import time

from snaprace.local.functions import CONTAINERS, FunctionRuntime
from snaprace.template import FunctionSpec


def spec(name: str) -> FunctionSpec:
    return FunctionSpec(name, f"{name}-dev", "unused.handler", {}, timeout=3, memory=256, events={})


class Runtime(FunctionRuntime):
    """Handlers given as functions instead of module paths."""

    def __init__(self, handlers: dict, **kwargs):
        super().__init__({name: spec(name) for name in handlers}, "ap-northeast-2", "123456789012", **kwargs)
        self.handlers = handlers

    def handler(self, spec):
        return self.handlers[spec.logical_id]


def test_a_raising_handler_becomes_lambdas_error_payload():
    def broken(event, context):
        raise ValueError(f"cannot read {event['key']}")

    recorded = []
    runtime = Runtime({"Broken": broken}, put_metrics=lambda s, invocation: recorded.append(invocation))
    invocation = runtime.invoke(runtime.specs["Broken"], {"key": "a.jpg"})
    assert invocation.error
    assert invocation.payload["errorType"] == "ValueError"
    assert invocation.payload["errorMessage"] == "cannot read a.jpg"
    assert invocation.payload["stackTrace"]
    assert recorded == [invocation]


def test_a_result_lambda_cannot_serialise_is_an_error():
    runtime = Runtime({"Odd": lambda event, context: {"when": object()}})
    assert runtime.invoke(runtime.specs["Odd"], {}).payload["errorType"] == "TypeError"


def test_context_carries_the_functions_identity_and_deadline():
    seen = {}

    def handler(event, context):
        seen.update(name=context.function_name, arn=context.invoked_function_arn)
        seen["remaining"] = context.get_remaining_time_in_millis()
        return {"ok": True}

    runtime = Runtime({"Named": handler})
    assert runtime.invoke(runtime.specs["Named"], {}).payload == {"ok": True}
    assert seen["name"] == "Named-dev"
    assert seen["arn"] == "arn:aws:lambda:ap-northeast-2:123456789012:function:Named-dev"
    assert 2000 < seen["remaining"] <= 3000
    assert runtime.find(seen["arn"]) is runtime.specs["Named"]
    assert runtime.find("Named-dev:$LATEST") is runtime.specs["Named"]


def test_a_function_runs_as_many_invocations_at_once_as_it_has_containers():
    running, most = {"A": 0, "B": 0, "all": 0}, {"A": 0, "B": 0, "all": 0}
    lock = threading.Lock()

    def handler_for(name):
        def handler(event, context):
            with lock:
                running[name] += 1
                running["all"] += 1
                most[name] = max(most[name], running[name])
                most["all"] = max(most["all"], running["all"])
            time.sleep(0.2)
            with lock:
                running[name] -= 1
                running["all"] -= 1
            return {}

        return handler

    runtime = Runtime({"A": handler_for("A"), "B": handler_for("B")}, containers={"A": 1})
    threads = [
        threading.Thread(target=runtime.invoke, args=(runtime.specs[name], {}))
        for name in ["A"] * 3 + ["B"] * (CONTAINERS + 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == {"A": 1, "B": CONTAINERS, "all": 1 + CONTAINERS}
