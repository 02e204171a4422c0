"""Runs and queues, the runbook's commands: `preflight`, `status`, `failures`, `redrive`,
`reprocess`, `backup`, `logs`."""

import json
import time
from datetime import UTC, datetime, timedelta

import click

from snaprace import operations
from snaprace.commands.common import Failure, event_options, say, stack_of
from snaprace.template import find_function, load_template


def _since(value: str) -> timedelta:
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if len(value) < 2 or value[-1] not in units or not value[:-1].isdigit():
        raise click.BadParameter("use a number and m, h or d: 30m, 1h, 2d")
    return timedelta(**{units[value[-1]]: int(value[:-1])})


@click.command()
@click.option(
    "--photos", type=click.IntRange(min=1), help="An event's photos: forecast when they are searchable."
)
@click.option("--peak", type=click.FloatRange(min=0), help="Photos per second at the finish-line peak.")
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    default=6.0,
    show_default=True,
    help="Hours from the first upload to the last.",
)
@click.option(
    "--peak-minutes",
    type=click.FloatRange(min=0),
    default=20.0,
    show_default=True,
    help="How long the peak lasts.",
)
@click.option(
    "--peak-start",
    type=click.FloatRange(min=0),
    default=4.0,
    show_default=True,
    help="Hours after the first upload the peak starts.",
)
@click.option(
    "--target-minutes",
    type=click.FloatRange(min=0, min_open=True),
    help="A peak photo's p99 wait to meet: a check, and the quotas to request.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: ok, every check, and the forecast.")
@click.pass_context
def preflight(ctx, photos, peak, duration, peak_minutes, peak_start, target_minutes, as_json) -> None:
    """Before an event: Rekognition quotas against the stack's TPS parameters, Lambda concurrency,
    a confirmed alarm subscription, CORS, and the bucket's versioning, encryption and EventBridge
    notifications. With --photos and --peak, when the event's photos are searchable at the quotas
    in effect (snaprace/event_model.py). Exit 1 when a check fails."""
    from snaprace import event_model
    from snaprace import preflight as checks

    try:
        event, target_s = checks.planned_event(
            photos, peak, duration, peak_minutes, peak_start, target_minutes
        )
    except event_model.ImpossibleEvent as exc:
        raise Failure(str(exc)) from None
    facts = checks.gather(stack_of(ctx))
    planned, unforeseen = None, ""
    if event is not None:
        try:
            planned = checks.forecast(facts, event, target_s)
        except event_model.ImpossibleEvent as exc:  # no concurrency left for the pipeline
            unforeseen = str(exc)
    results = checks.evaluate(facts, planned)
    if as_json:
        found = checks.report(results, planned)
        if unforeseen:
            found["forecast"] = {"error": unforeseen}
        click.echo(json.dumps(found))
    else:
        for result in results:
            verdict = "ok  " if result.ok else "FAIL"
            click.echo(
                f"{verdict} {result.name:<32} {result.figure}" + (f" — {result.fix}" if result.fix else "")
            )
        for line in checks.forecast_lines(planned) if planned else []:
            click.echo(line)
        if unforeseen:
            click.echo(f"forecast     none: {unforeseen}")
    if not all(result.ok for result in results):
        ctx.exit(1)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object, with the stack's resources.")
@click.pass_context
def status(ctx, as_json) -> None:
    """Queues, executions in the last hour, alarms and collections. Exit 1 when an alarm is in
    ALARM or the DLQ is not empty."""
    from snaprace import runbook

    report = runbook.status(stack_of(ctx))
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
        for job in report["jobs"]:
            done = {
                "reprocess": f"{job.get('enqueued', 0)} photos queued",
                "purge": f"{job.get('objectsDeleted', 0)} objects, {job.get('itemsDeleted', 0)} items gone",
            }.get(job["kind"], f"{job.get('changed', 0)} items cleared") + (
                " - STOPPED (job DLQ)" if job["stopped"] else ""
            )
            where = f"{job['orgId']}/{job['eventId']}"
            click.echo(
                f"job          {where:<30} {job['kind']} {job['jobId']}: page {job.get('pages', 0)}, {done}"
            )
        for problem in problems:
            click.echo(f"PROBLEM      {problem}")
    if problems:
        ctx.exit(1)


@click.command()
@click.option("--since", default="1h", show_default=True, help="How far back: 30m, 1h, 2d.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def failures(ctx, since, as_json) -> None:
    """Failed executions, newest first: photo, the step that failed, error and cause."""
    from snaprace import runbook

    found = runbook.failures(stack_of(ctx), _since(since))
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


@click.command()
@click.option("--dry-run", is_flag=True, help="Only count what would move.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
def redrive(ctx, dry_run, as_json) -> None:
    """Move the DLQ's messages back to the upload queue (after fixing what sent them there)."""
    from snaprace import runbook

    stack = stack_of(ctx)
    if dry_run:
        count = runbook.redrive(stack, dry_run=True)
        say(
            as_json,
            {"dryRun": True, "messages": count},
            f"{count} messages would move from the DLQ to the upload queue",
        )
        return
    moved = runbook.redrive(stack, on_moved=lambda n: click.echo(f"  moved {n}", err=True))
    say(
        as_json,
        {"dryRun": False, "messages": moved},
        f"{moved} messages moved from the DLQ to the upload queue",
    )


@click.command()
@event_options
@click.option("--photo", "photo", help="One photo: its id, its raw key, or its file name as uploaded.")
@click.option(
    "--status", "wanted_status", type=click.Choice(["FAILED", "REJECTED", "INDEXED"], case_sensitive=False)
)
@click.option(
    "--fresh",
    is_flag=True,
    help="Call Rekognition again even where a photo's answers were kept (a new model).",
)
@click.option("--progress", is_flag=True, help="How far the event's latest re-run got (starts nothing).")
@click.option("--wait", is_flag=True, help="With --yes: return once every photo of the re-run has started.")
@click.option("--yes", is_flag=True, help="Start it (without it, only say what would run and its cost).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
def reprocess(ctx, org_id, event_id, photo, wanted_status, fresh, progress, wait, yes, as_json) -> None:
    """Run an event's photos through the pipeline again (after a fix, a change of bib settings) as a
    job in the stack: it queues them page by page and the starter admits them at the Rekognition
    governors' pace, with live uploads; a laptop that sleeps stops nothing. A photo whose answers
    were kept makes no first-look Rekognition call. Without --yes, only says what would run and
    what it costs at most (like purge-event and delete-runner); --progress follows it."""
    from snaprace import runbook

    if photo and wanted_status:
        raise Failure("give --photo or --status, not both")
    stack = stack_of(ctx)
    operations.known_event(stack, org_id, event_id)
    if progress:
        found = runbook.reprocess_progress(stack, org_id, event_id)
        if found is None:
            say(as_json, {"job": None}, f"no re-run of {org_id}/{event_id} yet")
            return
        say(
            as_json,
            found,
            f"re-run {found['jobId']} {found['state']}: {found['enqueued']} photos queued "
            f"({found['pagesDone']} pages), {found['started']} started; {found['uploadQueue']} messages wait "
            "in the upload queue (uploads too)",
        )
        return
    photo_id = operations.photo_id_of(org_id, event_id, photo) if photo else None
    plan = runbook.reprocess_plan(stack, org_id, event_id, photo_id, wanted_status and wanted_status.upper())
    if not plan:
        missing = f" (no photo {photo} in {org_id}/{event_id})" if photo else ""
        say(as_json, {"preview": not yes, "executions": 0}, f"nothing to reprocess{missing}")
        if photo:
            ctx.exit(1)
        return
    cost = runbook.reprocess_preview(stack, org_id, event_id, plan, fresh)
    if not yes:
        say(
            as_json,
            {"preview": True, "executions": len(plan), **cost},
            f"would start {len(plan)} executions, {cost['answersKept']} of photos with their answers kept: "
            f"{cost['firstLookCalls']} first-look Rekognition calls and at most "
            f"{cost['secondLookCallsAtMost']} second looks, at most ${cost['usdAtMost']:.2f}: "
            "run again with --yes",
        )
        return
    if photo_id is not None:
        ((raw_key, etag),) = plan
        started = runbook.reprocess_photo(stack, raw_key, etag, fresh)
        say(as_json, {"preview": False, "executions": started}, f"{started} executions started")
        return
    job_id = runbook.start_reprocess_job(
        stack, org_id, event_id, wanted_status and wanted_status.upper(), fresh
    )
    if wait:
        job = runbook.wait_for_rerun(stack, org_id, event_id, job_id, timeout=max(600.0, len(plan) * 2.0))
        say(
            as_json,
            {"preview": False, "jobId": job_id, "executions": job.get("started", 0), **cost},
            f"re-run {job_id}: {job.get('started', 0)} executions started",
        )
        return
    say(
        as_json,
        {"preview": False, "jobId": job_id, "executions": len(plan), **cost},
        f"re-run {job_id} started for {len(plan)} photos; follow it with: "
        f"snaprace reprocess --org {org_id} --event {event_id} --progress",
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
def backup(ctx, as_json) -> None:
    """An on-demand backup of the table with a dated name (before any deletion)."""
    from snaprace import runbook

    made = runbook.backup(stack_of(ctx))
    say(as_json, made, f"backup {made['name']} ({made['status']})\n{made['arn']}")


@click.command()
@click.argument("function")
@click.option("--tail", is_flag=True, help="Keep printing new lines (Ctrl-C stops).")
@click.option("--filter", "pattern", help='A CloudWatch Logs filter pattern: ERROR, or \'"photoId":"<id>"\'.')
@click.option("--since", default="10m", show_default=True, help="How far back: 30m, 1h, 2d.")
@click.pass_context
def logs(ctx, function, tail, pattern, since) -> None:
    """A function's log lines from CloudWatch Logs (the local stack delivers them there too).
    On AWS, `sam logs -n FUNCTION --stack-name STACK [--tail] [--filter ...]` reads the same."""
    stack = stack_of(ctx)
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
