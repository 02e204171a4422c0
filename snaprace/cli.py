"""`snaprace`: the operator's command for a deployed stack or the local stack.

    snaprace [--endpoint-url URL] [--stack NAME] [--region REGION] COMMAND ...

With --endpoint-url (or SNAPRACE_ENDPOINT_URL) every command talks to the local stack and needs
no credentials; without it, to the CloudFormation stack in the region.
"""

import json
import signal
import sys
import threading
import time
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from pipeline.bibs import searched_bib
from snaprace import operations
from snaprace.stack import DEFAULT_STACK, Stack, StackError
from snaprace.template import find_function, load_template


class Failure(click.ClickException):
    """An error with its fix, printed without a traceback."""


def _stack(ctx: click.Context) -> Stack:
    return ctx.find_root().obj


class Commands(click.Group):
    """Every command's StackError (a problem the operator can fix) becomes its one-line message."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except StackError as exc:
            raise Failure(str(exc)) from None


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--endpoint-url", envvar="SNAPRACE_ENDPOINT_URL", help="The local stack's endpoint.")
@click.option("--stack", "stack_name", envvar="SNAPRACE_STACK", default=DEFAULT_STACK, show_default=True)
@click.option(
    "--region", envvar="AWS_REGION", help="AWS region (default: your profile's, else ap-northeast-2)."
)
@click.pass_context
def main(ctx: click.Context, endpoint_url: str | None, stack_name: str, region: str | None) -> None:
    """SnapRace image pipeline: upload race photos, follow their processing, find runners."""
    ctx.obj = Stack(name=stack_name, region=region, endpoint_url=endpoint_url)


# ---------------------------------------------------------------- local stack


@main.group()
def local() -> None:
    """The embedded local stack (no AWS account needed)."""


@local.command("up")
@click.option("--port", default=4566, show_default=True, type=click.IntRange(1, 65535))
@click.option("--engine", type=click.Choice(["scripted", "vision"]), default="scripted", show_default=True)
@click.option(
    "--rekognition-tps",
    type=click.FloatRange(min=1),
    help="The emulated account's Rekognition quota: throttle each operation beyond it (and set the "
    "stack's RekognitionTps parameter to it).",
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
            stack_name=_stack(ctx).name,
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
                f"ready: stack {stack.stack_name} at {stack.endpoint_url} (engine {engine}{throttle}); "
                f"logs in {log_file}"
            )
            progress(f"  export SNAPRACE_ENDPOINT_URL={stack.endpoint_url}")
            stopping.wait()
    except PortInUse as exc:
        raise Failure(str(exc)) from None
    finally:
        stack.stop()
    progress("stopped")


def _key_values(pairs: tuple[str, ...]) -> dict[str, str]:
    parsed = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"{pair!r}: use KEY=VALUE", param_hint="--parameter")
        parsed[key] = value
    return parsed


# ---------------------------------------------------------------- invoke


@main.command()
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

    stack = _stack(ctx)
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


# ---------------------------------------------------------------- photos in and out


def _event_options(command):
    command = click.option("--event", "event_id", required=True, help="Event id, e.g. seoul-marathon-2026")(
        command
    )
    return click.option("--org", "org_id", required=True, help="Organiser id, e.g. acme")(command)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@_event_options
@click.option("--photographer", help="Photographer id; photos go under raw/{photographer}/")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 64))
@click.pass_context
def upload(ctx, paths, org_id, event_id, photographer, concurrency) -> None:
    """Upload photos (files or folders) to an event. Safe to run again: files already uploaded
    with the same content are skipped."""
    stack = _stack(ctx)
    plans = operations.plan_uploads(paths, org_id, event_id, photographer)
    if not plans:
        raise Failure("nothing to upload: the folders are empty")
    stack.bucket  # noqa: B018 - a missing stack fails here, before the progress bar starts
    with click.progressbar(length=len(plans), label="Uploading", file=sys.stderr) as bar:
        report = operations.upload(stack, plans, concurrency, on_done=lambda _: bar.update(1))
    click.echo(
        f"{len(report.uploaded)} uploaded, {len(report.skipped)} already there, {len(report.failed)} failed "
        f"-> s3://{stack.bucket}/{operations.raw_prefix(org_id, event_id)}"
    )
    for path, error in sorted(report.failed.items()):
        click.echo(f"  failed: {path}: {error}", err=True)
    if report.failed:
        ctx.exit(1)


@main.command("event-settings")
@_event_options
@click.option("--bibs", "bib_range", metavar="FIRST-LAST", help="The event's bib range, e.g. 1-5000.")
@click.option(
    "--participants",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file with one bib per line (or a CSV whose first column is the bib).",
)
@click.option("--clear", is_flag=True, help="Remove the event's bib settings.")
@click.option(
    "--faces",
    type=click.Choice(["on", "off"], case_sensitive=False),
    help="Face search for the event. off: no face is indexed any more, and the event's faces, face "
    "links and collection are deleted now; on again: `reprocess` indexes them.",
)
@click.option(
    "--publish/--unpublish",
    "published",
    default=None,
    help="Whether runners may search the event without a key (the API's /public routes).",
)
@click.option(
    "--face-retention-days",
    type=click.IntRange(0, 3650),
    help="Days the event's face data is kept (default 90), from the last upload or --retention-from.",
)
@click.option("--retention-from", metavar="YYYY-MM-DD", help="The date face retention counts from.")
@click.pass_context
def event_settings(
    ctx,
    org_id,
    event_id,
    bib_range,
    participants,
    clear,
    faces,
    published,
    face_retention_days,
    retention_from,
) -> None:
    """Show or set the event's bib range and participant list: numbers outside them are not taken
    for bibs. New photos use them within a minute; `reprocess` applies them to earlier photos."""
    stack = _stack(ctx)
    face_search = None if faces is None else faces.lower() == "on"
    settings = operations.event_settings(
        stack,
        org_id,
        event_id,
        bib_range,
        participants,
        clear,
        face_search,
        published,
        face_retention_days,
        retention_from,
    )
    click.echo(f"{org_id}/{event_id}: {settings.describe()}")
    if face_search is False:
        removed = operations.delete_event_faces(stack, org_id, event_id)
        click.echo(f"deleted the event's collection ({removed} faces) and its face links")


def _print_audit(result: operations.Audit, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return
    counts = result.as_dict()
    for name in ("raw", "indexed", "rejected", "failed", "missing"):
        click.echo(f"{'raw photos' if name == 'raw' else name:<10} {counts[name]:>6}")
    for label, keys_ in (
        ("missing", result.missing),
        ("failed", result.failed),
        ("problem", result.problems),
    ):
        for key in keys_[:20]:
            click.echo(f"  {label}: {key}")
        if len(keys_) > 20:
            click.echo(f"  ... and {len(keys_) - 20} more {label} (--json lists them all)")
    if result.orphaned:
        click.echo(f"orphaned   {len(result.orphaned):>6}  (results whose raw photo is gone)")


@main.command()
@_event_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
def audit(ctx, org_id, event_id, as_json) -> None:
    """Count raw photos and their final statuses, list the missing and failed ones, and check that
    every indexed photo has its processed photo, thumbnail and faces (and no face outlives its
    photo). Exit 1 when a photo is missing or anything is inconsistent."""
    result = operations.audit(_stack(ctx), org_id, event_id)
    _print_audit(result, as_json)
    if not result.complete:
        ctx.exit(1)


@main.command()
@_event_options
@click.option("--timeout", default=600.0, show_default=True, type=click.FloatRange(min=0), help="Seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the final audit as JSON.")
@click.pass_context
def wait(ctx, org_id, event_id, timeout, as_json) -> None:
    """Wait until every raw photo of the event has a final status; exit 1 on timeout."""
    stack = _stack(ctx)
    state = {"shown": None}

    def show(current: operations.Audit) -> None:
        done = current.raw - len(current.missing)
        line = f"{done}/{current.raw} photos final"
        if line != state["shown"]:
            click.echo(line, err=True)
            state["shown"] = line

    finished, result = operations.wait(stack, org_id, event_id, timeout, on_poll=show)
    _print_audit(result, as_json)
    if not finished:
        click.echo(f"timed out after {timeout:g} s with {len(result.missing)} photos still missing", err=True)
        ctx.exit(1)


@main.command()
@_event_options
@click.option("--bib", help="A runner's photos: where the bib was read, or their linked face seen.")
@click.option("--selfie", type=click.File("rb"), help="A runner's photos by a selfie (JPEG or PNG).")
@click.option("--json", "as_json", is_flag=True, help='{"photos": [...]} with presigned URLs.')
@click.pass_context
def photos(ctx, org_id, event_id, bib, selfie, as_json) -> None:
    """The event's indexed photos, newest first, or a runner's by bib or selfie."""
    if bib is not None and selfie is not None:
        raise Failure("give --bib or --selfie, not both")
    if bib is not None:
        try:
            bib = searched_bib(bib)
        except ValueError as exc:
            raise Failure(str(exc)) from None
    image = selfie.read() if selfie is not None else None
    found = operations.photos(_stack(ctx), org_id, event_id, bib, image)
    if as_json:
        click.echo(json.dumps({"photos": found}))
        return
    what = f" with bib {bib}" if bib else (" matching the selfie" if selfie else "")
    if not found:
        click.echo(f"no photos{what}")
        return
    click.echo(f"{'photo':<24}  {'matched':<12}  {'bibs':<14}  raw key")
    for photo in found:
        matched = photo["matchedBy"] or "-"
        if photo["similarity"] is not None:
            matched += f" {photo['similarity']:.0f}%"
        bibs = ",".join(photo["bibs"]) or "-"
        click.echo(f"{photo['photoId']:<24}  {matched:<12}  {bibs:<14.14}  {photo['rawKey']}")
    click.echo(f"{len(found)} photos{what}")


@main.group("org-key")
def org_key() -> None:
    """Organiser keys: each opens one organiser's events in the search API (the operator's key,
    `snaprace api-key`, opens every org). A revoked key stops within the authorizer's 5-minute cache."""


@org_key.command("create")
@click.option("--org", "org_id", required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on the last line: org, keyId, key.")
@click.pass_context
def org_key_create(ctx, org_id, as_json) -> None:
    """A new key for an organiser, shown once (only its hash is stored)."""
    from snaprace import org_keys

    created = org_keys.create(_stack(ctx), org_id)
    if as_json:
        click.echo(json.dumps({"org": created.org, "keyId": created.key_id, "key": created.key}))
    else:
        click.echo(f"key {created.key_id} for org {created.org} (shown once: give it to the organiser)")
        click.echo(created.key)


@org_key.command("list")
@click.option("--org", "org_id", required=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def org_key_list(ctx, org_id, as_json) -> None:
    """An organiser's keys (ids and dates; never the keys)."""
    from snaprace import org_keys

    found = org_keys.listing(_stack(ctx), org_id)
    if as_json:
        click.echo(json.dumps({"keys": found}))
        return
    for key in found:
        state = f"revoked {key['revokedAt']}" if key["revokedAt"] else "active"
        click.echo(f"{key['keyId']}  created {key['createdAt']}  {state}")
    if not found:
        click.echo(f"org {org_id} has no keys")


@org_key.command("revoke")
@click.option("--org", "org_id", required=True)
@click.option("--key-id", required=True)
@click.pass_context
def org_key_revoke(ctx, org_id, key_id) -> None:
    """Revoke a key: refused within the authorizer's 5-minute cache."""
    from snaprace import org_keys

    org_keys.revoke(_stack(ctx), org_id, key_id)
    click.echo(f"revoked key {key_id} of org {org_id}")


@main.group()
def retention() -> None:
    """Face data that ends: events past their face retention lose their faces (bibs stay)."""


@retention.command("sweep")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def retention_sweep(ctx, as_json) -> None:
    """Run the daily retention sweep now (RetentionSweepFunction, on AWS or the local stack)."""
    swept = operations.run_retention_sweep(_stack(ctx))
    if as_json:
        click.echo(json.dumps({"swept": swept}))
        return
    for event in swept:
        click.echo(f"{event['org']}/{event['event']}: {event['faces']} faces deleted (retention passed)")
    click.echo(f"{len(swept)} events swept")


@main.command("api-key")
@click.pass_context
def api_key(ctx) -> None:
    """Print the search API's URL and key (from the stack's secret), for curl and front ends."""
    stack = _stack(ctx)
    name = stack.output("ApiKeySecretName")
    key = stack.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    click.echo(f"{stack.output('ApiUrl')}\n{key}")


# ---------------------------------------------------------------- runbook (docs/operations.md)


def _since(value: str) -> timedelta:
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if len(value) < 2 or value[-1] not in units or not value[:-1].isdigit():
        raise click.BadParameter("use a number and m, h or d: 30m, 1h, 2d")
    return timedelta(**{units[value[-1]]: int(value[:-1])})


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object: ok, and every check.")
@click.pass_context
def preflight(ctx, as_json) -> None:
    """Before an event: Rekognition quotas against RekognitionTps, Lambda concurrency, a confirmed
    alarm subscription, CORS, and the bucket's versioning, encryption and EventBridge notifications.
    Exit 1 when a check fails."""
    from snaprace import preflight as checks

    results = checks.evaluate(checks.gather(_stack(ctx)))
    if as_json:
        click.echo(json.dumps(checks.report(results)))
    else:
        for result in results:
            verdict = "ok  " if result.ok else "FAIL"
            click.echo(
                f"{verdict} {result.name:<32} {result.figure}" + (f" — {result.fix}" if result.fix else "")
            )
    if not all(result.ok for result in results):
        ctx.exit(1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object, with the stack's resources.")
@click.pass_context
def status(ctx, as_json) -> None:
    """Queues, executions in the last hour, alarms and collections. Exit 1 when an alarm is in
    ALARM or the DLQ is not empty."""
    from snaprace import runbook

    report = runbook.status(_stack(ctx))
    problems = runbook.unhealthy(report)
    if as_json:
        click.echo(json.dumps({**report, "problems": problems}, default=str))
    else:
        queue, dlq, runs = report["queue"], report["dlq"], report["executionsLastHour"]
        click.echo(f"stack        {report['stack']}")
        click.echo(f"upload queue {queue['visible']} waiting, {queue['inFlight']} in flight")
        click.echo(f"DLQ          {dlq['visible']} waiting, {dlq['inFlight']} in flight")
        click.echo(
            f"last hour    {runs['RUNNING']} running, {runs['SUCCEEDED']} succeeded, "
            f"{runs['FAILED']} failed, {runs['TIMED_OUT'] + runs['ABORTED']} timed out or aborted"
        )
        for alarm in report["alarms"]:
            click.echo(f"alarm        {alarm['name']:<40} {alarm['state']}")
        for collection in report["collections"]:
            erased = f", {collection['erasures']} runners erased" if collection["erasures"] else ""
            where = f"{collection['org']}/{collection['event']}"
            click.echo(f"collection   {where:<30} {collection['faces']:>7} faces{erased}")
        for event in report["faceRetentionDue"]:
            click.echo(f"retention    {event['org']}/{event['event']:<30} faces deleted on {event['due']}")
        for problem in problems:
            click.echo(f"PROBLEM      {problem}")
    if problems:
        ctx.exit(1)


@main.command()
@click.option("--since", default="1h", show_default=True, help="How far back: 30m, 1h, 2d.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def failures(ctx, since, as_json) -> None:
    """Failed executions, newest first: photo, the step that failed, error and cause."""
    from snaprace import runbook

    found = runbook.failures(_stack(ctx), _since(since))
    if as_json:
        click.echo(json.dumps({"failures": found}))
        return
    if not found:
        click.echo(f"no failed executions in the last {since}")
        return
    for failure in found:
        click.echo(f"{failure['startDate'][:19]}  {failure['step'] or '-'}: {failure['error']}")
        click.echo(f"  photo {failure['rawKey']}")
        click.echo(f"  {failure['cause']}")
    click.echo(f"{len(found)} failed executions in the last {since}")


@main.command()
@click.option("--dry-run", is_flag=True, help="Only count what would move.")
@click.pass_context
def redrive(ctx, dry_run) -> None:
    """Move the DLQ's messages back to the upload queue (after fixing what sent them there)."""
    from snaprace import runbook

    stack = _stack(ctx)
    if dry_run:
        count = runbook.redrive(stack, dry_run=True)
        click.echo(f"{count} messages would move from the DLQ to the upload queue")
        return
    moved = runbook.redrive(stack, on_moved=lambda n: click.echo(f"  moved {n}", err=True))
    click.echo(f"{moved} messages moved from the DLQ to the upload queue")


@main.command()
@_event_options
@click.option("--photo", "photo_id", help="One photo id.")
@click.option("--status", "wanted_status", type=click.Choice(["FAILED", "REJECTED", "INDEXED"]))
@click.option(
    "--rate",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Executions started per second.",
)
@click.pass_context
def reprocess(ctx, org_id, event_id, photo_id, wanted_status, rate) -> None:
    """Run photos of an event through the pipeline again (after a fix), at a bounded rate: each
    execution makes two Rekognition calls, so keep 2 x rate under the account's TPS quota."""
    from snaprace import runbook

    if photo_id and wanted_status:
        raise Failure("give --photo or --status, not both")
    stack = _stack(ctx)
    plan = runbook.reprocess_plan(stack, org_id, event_id, photo_id, wanted_status)
    if not plan:
        click.echo("nothing to reprocess")
        return
    with click.progressbar(length=len(plan), label="Starting", file=sys.stderr) as bar:
        started = runbook.reprocess(stack, plan, rate, on_started=lambda key: bar.update(1))
    click.echo(
        f"{started} executions started; follow them with: snaprace wait --org {org_id} --event {event_id}"
    )


@main.command("purge-event")
@_event_options
@click.option("--yes", is_flag=True, help="Really delete (without it, only say what would go).")
@click.pass_context
def purge_event(ctx, org_id, event_id, yes) -> None:
    """Delete an event everywhere: every photo version, derived object, table item and the face
    collection (an organiser's erasure request). Safe to run twice."""
    from snaprace import erasure

    stack = _stack(ctx)
    plan = erasure.purge_plan(stack, org_id, event_id)
    summary = plan.summary()
    if plan.empty:
        click.echo(f"nothing stored for {org_id}/{event_id}")
        return
    click.echo(
        f"{org_id}/{event_id}: {summary['objectVersions']} object versions in {stack.bucket}, "
        f"{summary['tableItems']} table items, collection {summary['collection'] or '(none)'} "
        f"with {summary['faces']} faces"
    )
    if not yes:
        raise Failure("nothing deleted: run again with --yes to delete all of it")
    total = len(plan.objects) + len(plan.items)
    with click.progressbar(length=total, label="Deleting", file=sys.stderr) as bar:
        erasure.purge(stack, plan, on_progress=bar.update)
    click.echo(f"deleted {org_id}/{event_id}")


@main.command("delete-runner")
@_event_options
@click.option("--bib", help="The runner's bib number.")
@click.option("--selfie", type=click.File("rb"), help="A selfie of the runner (JPEG or PNG).")
@click.option("--yes", is_flag=True, help="Really delete (without it, only say what would go).")
@click.pass_context
def delete_runner(ctx, org_id, event_id, bib, selfie, yes) -> None:
    """Erase one runner's face data from the event: their faces in the collection and the links
    to their bib. Other runners' photos and faces stay."""
    from snaprace import erasure

    if (bib is None) == (selfie is None):
        raise Failure("give --bib or --selfie")
    stack = _stack(ctx)
    image = selfie.read() if selfie is not None else None
    plan = erasure.runner_plan(stack, org_id, event_id, bib, image)
    who = f"bib {bib}" if bib else "the selfie"
    if not plan.face_ids:
        click.echo(f"no face data found for {who} in {org_id}/{event_id}")
        return
    click.echo(f"{who}: {len(plan.face_ids)} faces on {len(plan.photo_ids)} photos in {org_id}/{event_id}")
    if not yes:
        raise Failure("nothing deleted: run again with --yes to delete these faces")
    erasure.delete_runner(stack, org_id, event_id, plan)
    click.echo(f"deleted {len(plan.face_ids)} faces and their links")


@main.command()
@click.pass_context
def backup(ctx) -> None:
    """An on-demand backup of the table with a dated name (before any deletion)."""
    from snaprace import runbook

    made = runbook.backup(_stack(ctx))
    click.echo(f"backup {made['name']} ({made['status']})\n{made['arn']}")


@main.command()
@click.argument("function")
@click.option("--tail", is_flag=True, help="Keep printing new lines (Ctrl-C stops).")
@click.option("--filter", "pattern", help='A CloudWatch Logs filter pattern: ERROR, or \'"photoId":"<id>"\'.')
@click.option("--since", default="10m", show_default=True, help="How far back: 30m, 1h, 2d.")
@click.pass_context
def logs(ctx, function, tail, pattern, since) -> None:
    """A function's log lines from CloudWatch Logs (the local stack delivers them there too).
    On AWS, `sam logs -n FUNCTION --stack-name STACK [--tail] [--filter ...]` reads the same."""
    stack = _stack(ctx)
    try:
        logical_id = find_function(load_template(), function)
    except KeyError as exc:
        raise Failure(exc.args[0]) from None
    name = stack.physical_ids[logical_id]
    group, client = f"/aws/lambda/{name}", stack.client("logs")
    start = int((datetime.now(UTC) - _since(since)).timestamp() * 1000)
    seen: set[str] = set()
    while True:
        kwargs = {
            "logGroupName": group,
            "startTime": start,
            **({"filterPattern": pattern} if pattern else {}),
        }
        try:
            for page in client.get_paginator("filter_log_events").paginate(**kwargs):
                for event in page["events"]:
                    if event["eventId"] in seen:
                        continue
                    seen.add(event["eventId"])
                    start = max(start, event["timestamp"])
                    when = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).strftime("%H:%M:%S")
                    click.echo(f"{when} {event['message']}")
        except client.exceptions.ResourceNotFoundException:
            if not tail:
                raise Failure(f"no logs for {name} yet ({group}): has it run?") from None
        if not tail:
            return
        time.sleep(2)


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Default: a free port.")
@click.option("--engine", type=click.Choice(["vision", "scripted"]), default="vision", show_default=True)
def demo(port: int | None, engine: str) -> None:
    """Start the local stack, upload the sample photos, wait, summarise, search, stop."""
    from snaprace.demo import run_demo

    raise SystemExit(run_demo(port=port, engine=engine))


if __name__ == "__main__":
    main()
