"""Personal data that ends: `retention sweep` (face data past its retention), and erasing it on
request: `purge-event`, `delete-runner`."""

import json
import sys

import click

from snaprace import operations
from snaprace.commands.common import Failure, event_options, say, stack_of

PURGE_WAIT_S = 1800.0  # a 150,000-photo event's purge: ~185 pages of a few seconds each


@click.command("purge-event")
@event_options
@click.option("--yes", is_flag=True, help="Really delete (without it, only say what would go).")
@click.option(
    "--wait", "wait_seconds", type=float, default=PURGE_WAIT_S, show_default=True, metavar="SECONDS",
    help="With --yes: wait up to SECONDS for the background job to finish (0: return once it started).",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
def purge_event(ctx, org_id, event_id, yes, wait_seconds, as_json) -> None:
    """Delete an event everywhere: the face collection at once, then, in a background job, every
    photo version, derived object and table item (an organiser's erasure request). Safe to run
    again: a job that stopped is finished by the next."""
    from snaprace import retention, runbook

    stack = stack_of(ctx)
    plan = retention.purge_plan(stack, org_id, event_id)
    summary = plan.summary()
    if plan.empty:
        say(as_json, {**summary, "deleted": False}, f"nothing stored for {org_id}/{event_id}")
        return
    found = (
        f"{org_id}/{event_id}: {summary['objectVersions']} object versions in {stack.bucket}, "
        f"{summary['tableItems']} table items, collection {summary['collection'] or '(none)'} "
        f"with {summary['faces']} faces"
    )
    if not yes:
        say(
            as_json,
            {**summary, "deleted": False},
            f"{found}\nnothing deleted (a preview): run again with --yes",
        )
        return
    if not as_json:
        click.echo(found)
    job_id = retention.start_purge(stack, plan)
    if wait_seconds <= 0:
        say(
            as_json,
            {**summary, "deleted": False, "jobId": job_id, "state": "running"},
            f"collection deleted; job {job_id} deletes the rest: `snaprace status` shows it",
        )
        return
    total = plan.object_versions + plan.table_items
    with click.progressbar(length=total, label="Deleting", file=sys.stderr) as bar:
        runbook.wait_for_purge(stack, org_id, event_id, job_id, wait_seconds, on_progress=bar.update)
    say(as_json, {**summary, "deleted": True, "jobId": job_id}, f"deleted {org_id}/{event_id}")


@click.command("delete-runner")
@event_options
@click.option("--bib", help="The runner's bib number.")
@click.option("--selfie", type=click.File("rb"), help="A selfie of the runner (JPEG or PNG).")
@click.option("--yes", is_flag=True, help="Really delete (without it, only say what would go).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
def delete_runner(ctx, org_id, event_id, bib, selfie, yes, as_json) -> None:
    """Erase one runner's face data from the event: their faces in the collection and the links
    to their bib. Other runners' photos and faces stay."""
    from snaprace import retention

    if (bib is None) == (selfie is None):
        raise Failure("give --bib or --selfie")
    stack = stack_of(ctx)
    image = selfie.read() if selfie is not None else None
    plan = retention.runner_plan(stack, org_id, event_id, bib, image)
    who = f"bib {bib}" if bib else "the selfie"
    counts = {"faces": len(plan.face_ids), "photos": len(plan.photo_ids)}
    if not plan.face_ids:
        say(as_json, {**counts, "deleted": False}, f"no face data found for {who} in {org_id}/{event_id}")
        return
    found = f"{who}: {len(plan.face_ids)} faces on {len(plan.photo_ids)} photos in {org_id}/{event_id}"
    if not yes:
        say(
            as_json,
            {**counts, "deleted": False},
            f"{found}\nnothing deleted (a preview): run again with --yes",
        )
        return
    retention.delete_runner(stack, org_id, event_id, plan)
    say(as_json, {**counts, "deleted": True}, f"{found}\ndeleted {len(plan.face_ids)} faces and their links")


@click.group()
def retention() -> None:
    """Face data that ends: events past their face retention lose their faces (bibs stay)."""


@retention.command("sweep")
@click.option(
    "--wait", "wait_seconds", type=float, default=None, metavar="SECONDS",
    help="Wait up to SECONDS for the jobs that clear the swept events' face links.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def retention_sweep(ctx, wait_seconds, as_json) -> None:
    """Run the daily retention sweep now (RetentionSweepFunction, on AWS or the local stack): the
    collections of events past their retention go, and a background job per event clears its items."""
    from snaprace import runbook

    stack = stack_of(ctx)
    swept = operations.run_retention_sweep(stack)
    if wait_seconds is not None:
        for event in swept:
            job = runbook.wait_for_job(stack, event["org"], event["event"], event["jobId"], wait_seconds)
            event["changed"] = job.get("changed", 0)
    if as_json:
        click.echo(json.dumps({"swept": swept}))
        return
    for event in swept:
        cleared = f"; face data off {event['changed']} items" if "changed" in event else " (job running)"
        click.echo(
            f"{event['org']}/{event['event']}: collection deleted ({event['faces']} faces); "
            f"job {event['jobId']}{cleared}"
        )
    click.echo(f"{len(swept)} events swept")
