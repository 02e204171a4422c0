"""The local stack and running one function: `local up`, `invoke`, `demo`."""

import json
import os
import signal
import sys
import threading
import time
from contextlib import redirect_stdout, suppress
from pathlib import Path

import click

from snaprace.commands.common import Failure, stack_of
from snaprace.template import find_function, load_template


@click.group()
def local() -> None:
    """The embedded local stack (no AWS account needed)."""


@local.command("up")
@click.option("--port", default=4566, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--engine",
    type=click.Choice(["scripted", "vision"], case_sensitive=False),
    default="scripted",
    show_default=True,
)
@click.option(
    "--rekognition-tps",
    type=click.FloatRange(min=1),
    help="The emulated account's Rekognition quota: throttle each operation beyond it (and set the "
    "stack's DetectTextTps, IndexFacesTps, SearchFacesTps and SearchFacesByImageTps to it; without "
    "it they are 50 and nothing throttles).",
)
@click.option(
    "--log-file", type=click.Path(dir_okay=False, path_type=Path), help="Default: .snaprace/local.log"
)
@click.option(
    "--template",
    "template_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Run another template (a customised copy); paths in it are relative to its folder. "
    "Default: the project's template.yaml",
)
@click.option(
    "--parameter",
    "parameters",
    multiple=True,
    metavar="KEY=VALUE",
    help="A template parameter, as `sam deploy --parameter-overrides` takes it (repeatable).",
)
@click.pass_context
def local_up(
    ctx,
    port: int,
    engine: str,
    rekognition_tps: float | None,
    log_file: Path | None,
    template_path: Path | None,
    parameters: tuple[str, ...],
) -> None:
    """Start the local stack; runs until Ctrl-C or SIGTERM."""
    import logging

    from snaprace.local.engines import EngineUnavailable
    from snaprace.local.logs import FunctionLogs
    from snaprace.local.stack import (
        LocalStack,
        PortInUse,
        TemplateRulesFailed,
        default_log_file,
        wait_until_ready,
    )
    from snaprace.template import LOCAL_ACCOUNT

    log_file = log_file or default_log_file()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    terminal = sys.stdout
    log_stream = log_file.open("a", buffering=1)
    logging.basicConfig(
        stream=log_stream, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.captureWarnings(True)

    def progress(line: str) -> None:
        terminal.write(line + "\n")
        terminal.flush()

    try:
        stack = LocalStack(
            port=port,
            engine_name=engine,
            rekognition_tps=rekognition_tps,
            stack_name=stack_of(ctx).name,
            progress=progress,
            parameter_overrides=_key_values(parameters),
            **({"template_path": template_path} if template_path else {}),
        )
    except (EngineUnavailable, TemplateRulesFailed) as exc:
        raise Failure(str(exc)) from None
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    function_logs = FunctionLogs(log_stream, LOCAL_ACCOUNT, stack.region, stack.meter)
    try:
        # handler logs and metrics (stdout on Lambda) go to the log file and their log groups
        with redirect_stdout(function_logs):
            stack.start()
            if not wait_until_ready(stack.endpoint_url):
                raise Failure(f"the local stack did not answer on {stack.endpoint_url}")
            throttle = f", Rekognition throttled at {rekognition_tps:g}/s" if rekognition_tps else ""
            progress(
                "note: the local stack keeps everything in memory: stopping it (Ctrl-C, `snaprace local "
                "down`) loses its photos and results"
            )
            progress(
                f"ready: stack {stack.stack_name} at {stack.endpoint_url} (engine {engine}{throttle}); "
                f"logs in {log_file}"
            )
            progress(f"  export SNAPRACE_ENDPOINT_URL={stack.endpoint_url}")
            _write_state(
                {
                    "pid": os.getpid(),
                    "endpoint": stack.endpoint_url,
                    "engine": engine,
                    "logFile": str(log_file),
                }
            )
            stopping.wait()
    except PortInUse as exc:
        raise Failure(str(exc)) from None
    finally:
        stack.stop()
        _forget_state(os.getpid())
    progress("stopped")


def _state_file() -> Path:
    from snaprace.local.stack import default_log_file

    return default_log_file().parent / "local.json"  # beside the default log: .snaprace/


def _write_state(state: dict) -> None:
    _state_file().parent.mkdir(parents=True, exist_ok=True)
    _state_file().write_text(json.dumps(state))


def _forget_state(pid: int) -> None:
    with suppress(OSError, ValueError):
        if json.loads(_state_file().read_text()).get("pid") == pid:
            _state_file().unlink()


def _running() -> dict | None:
    """The local stack `local up` started (the last one, from this project), if it is still up."""
    try:
        state = json.loads(_state_file().read_text())
        os.kill(state["pid"], 0)
    except (OSError, ValueError, KeyError):
        return None
    return state


@local.command("status")
@click.option("--json", "as_json", is_flag=True)
def local_status(as_json) -> None:
    """Whether the local stack `local up` started is up, where, and what it holds; exit 1
    when it is not running."""
    from snaprace.local.stack import health

    state = _running()
    report = (
        {"running": False}
        if state is None
        else {"running": True, **state, "health": health(state["endpoint"])}
    )
    if as_json:
        click.echo(json.dumps(report))
    elif state is None:
        click.echo("the local stack is not running (snaprace local up)")
    else:
        calls = (
            sum(report["health"].get("rekognition", {}).get("calls", {}).values()) if report["health"] else 0
        )
        where = f"{state['endpoint']} (pid {state['pid']}, engine {state['engine']})"
        click.echo(f"up at {where}: {calls} Rekognition calls so far; logs in {state['logFile']}")
    if state is None:
        raise SystemExit(1)


@local.command("down")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(min=1), help="Seconds.")
def local_down(timeout) -> None:
    """Stop the local stack `local up` started (its photos and results go with it)."""
    state = _running()
    if state is None:
        click.echo("the local stack is not running")
        return
    os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _running() is None:
            click.echo(f"stopped the local stack at {state['endpoint']}")
            return
        time.sleep(0.2)
    raise Failure(f"the local stack (pid {state['pid']}) did not stop within {timeout:g} s")


def _key_values(pairs: tuple[str, ...]) -> dict[str, str]:
    parsed = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"{pair!r}: use KEY=VALUE", param_hint="--parameter")
        parsed[key] = value
    return parsed


@click.command()
@click.argument("function")
@click.option("--event", "event_file", required=True, type=click.File("r"), help="An events/*.json fixture.")
@click.pass_context
def invoke(ctx, function: str, event_file) -> None:
    """Run one function's handler here with its template environment, like `sam local invoke`.

    FUNCTION is a logical id (PreprocessFunction) or its short form (preprocess, detect-text).
    The result goes to stdout, the function's logs to stderr; exit 1 when the handler raises.
    """
    import os

    from snaprace.local.functions import FunctionRuntime

    stack = stack_of(ctx)
    try:
        logical_id = find_function(load_template(), function)
    except KeyError as exc:
        raise Failure(exc.args[0]) from None
    try:
        event = json.load(event_file)
    except ValueError as exc:
        raise Failure(f"{event_file.name} is not JSON: {exc}") from None
    specs = stack.function_specs()
    spec = specs[logical_id]
    os.environ.update(spec.environment)
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = stack.region
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon outside Lambda
    if stack.endpoint_url:
        os.environ.update(AWS_ENDPOINT_URL=stack.endpoint_url, AWS_ACCESS_KEY_ID="local")
        os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105 - the local stack takes any
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_PROFILE", None)
    runtime = FunctionRuntime(specs, stack.region, stack.account)
    with redirect_stdout(sys.stderr):
        invocation = runtime.invoke(spec, event)
    click.echo(json.dumps(invocation.payload, indent=2, default=str))
    click.echo(
        f"{spec.name}: {'error' if invocation.error else 'ok'} in {invocation.duration_ms:.0f} ms", err=True
    )
    if invocation.error:
        ctx.exit(1)


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Default: a free port.")
@click.option(
    "--engine",
    type=click.Choice(["vision", "scripted"], case_sensitive=False),
    default="vision",
    show_default=True,
)
@click.option(
    "--keep/--no-keep",
    default=None,
    help="Leave the local stack up with the pages' URLs and an organiser key until Ctrl-C "
    "(default: on a terminal; --no-keep stops it and prints no links).",
)
def demo(port: int | None, engine: str, keep: bool | None) -> None:
    """Start the local stack, upload the sample photos, wait while they make progress, summarise,
    search, then stay up with the pages to try until Ctrl-C (or stop, --no-keep)."""
    from snaprace.demo import run_demo

    if keep is None:
        keep = sys.stdin.isatty() and sys.stdout.isatty()
    raise SystemExit(run_demo(port=port, engine=engine, keep=keep))
