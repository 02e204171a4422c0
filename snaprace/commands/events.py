"""An event's photos and settings: `upload`, `event-settings`, `audit`, `wait`, `photos`."""

import json
import signal
import sys
import threading
from pathlib import Path

import click

from pipeline.common import keys
from pipeline.events.settings import OPEN, VERIFIED
from pipeline.processing.bibs import searched_bib
from snaprace import operations, timing, uploading
from snaprace.commands.common import Failure, event_options, say, stack_of


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@event_options
@click.option("--photographer", help="Photographer id; photos go under raw/{photographer}/")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option("--force", is_flag=True, help="Send files the pipeline cannot read too (it rejects them).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: every list in full.")
@click.pass_context
def upload(ctx, paths, org_id, event_id, photographer, concurrency, force, as_json) -> None:
    """Upload photos (files or folders) to an event. Safe to run again: files already uploaded
    with the same content are skipped. Ctrl-C stops at once: files not started are listed, and
    running the same command again finishes the job."""
    stack = stack_of(ctx)
    plans, unsupported = uploading.plan_uploads(paths, org_id, event_id, photographer, force)
    for path in unsupported[:10]:
        click.echo(f"  not a photo the pipeline reads, left out: {path}", err=True)
    if unsupported:
        more = f" ({len(unsupported) - 10} more not shown)" if len(unsupported) > 10 else ""
        click.echo(f"{len(unsupported)} files left out{more}: --force sends them anyway", err=True)
    if not plans:
        raise Failure("nothing to upload: no photos there (.jpg, .jpeg, .png, .heic, .heif)")
    stack.bucket  # noqa: B018 - a missing stack fails here, before the progress bar starts
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())  # finish the PUTs under way, start no more
    try:
        with click.progressbar(length=len(plans), label="Uploading", file=sys.stderr) as bar:
            report = uploading.upload(stack, plans, concurrency, on_done=lambda _: bar.update(1), stop=stop)
    finally:
        signal.signal(signal.SIGINT, previous)
    say(
        as_json,
        {
            "uploaded": report.uploaded,
            "skipped": report.skipped,
            "failed": report.failed,
            "notStarted": report.not_started,
            "leftOut": [str(path) for path in unsupported],
        },
        f"{len(report.uploaded)} uploaded, {len(report.skipped)} already there, {len(report.failed)} failed "
        f"-> s3://{stack.bucket}/{keys.raw_prefixes(org_id, event_id)[0]}",
    )
    for path, error in sorted(report.failed.items()):
        click.echo(f"  failed: {path}: {error}", err=True)
    if report.not_started:
        click.echo(
            f"stopped: {len(report.not_started)} files not uploaded; run the same command again to finish",
            err=True,
        )
        ctx.exit(130)
    if report.failed:
        ctx.exit(1)


@click.command("event-settings")
@event_options
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
    help="Face search for the event. off: no face is indexed any more, the event's collection is "
    "deleted now and its face ids and links by a background job; on again (once that job is done): "
    "`reprocess` indexes them.",
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
@click.option(
    "--selfie-search",
    "selfie_mode",
    type=click.Choice([VERIFIED, OPEN], case_sensitive=False),
    help="Who may search the published event by selfie without a key: verified (the default) only "
    "runners with their link (`snaprace runner-links`); open anyone, within the per-client limits.",
)
@click.option(
    "--name-search",
    type=click.Choice(["on", "off"], case_sensitive=False),
    help="Whether runners of the published event may find their bib by their full name in the timing "
    "results (off by default: strangers can guess names too; docs/security.md).",
)
@click.option(
    "--date",
    "event_date",
    metavar="YYYY-MM-DD",
    help="The event's date: timing results' times of day are on it.",
)
@click.option("--timezone", metavar="ZONE", help="The event's time zone (IANA), e.g. Asia/Seoul.")
@click.option(
    "--wait", "wait_seconds", type=float, default=None, metavar="SECONDS",
    help="With --faces off: wait up to SECONDS for the background job that clears the face links.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="The settings as one JSON object.")
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
    selfie_mode,
    name_search,
    event_date,
    timezone,
    wait_seconds,
    as_json,
) -> None:
    """Show or set the event's bib range and participant list: numbers outside them are not taken
    for bibs. New photos use them within a minute; `reprocess` applies them to earlier photos."""
    stack = stack_of(ctx)
    face_search = None if faces is None else faces.lower() == "on"
    settings, removed = operations.event_settings(
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
        selfie_mode,
        event_date,
        timezone,
        None if name_search is None else name_search.lower() == "on",
    )
    deleted = (
        ""
        if removed is None
        else f"\ndeleted the event's collection ({removed['faces']} faces); its photos' face ids and links "
        f"go in the background (job {removed['jobId']}: `snaprace status --org {org_id} --event {event_id}`)"
    )
    if removed is not None and wait_seconds is not None:
        from snaprace import runbook

        job = runbook.wait_for_job(stack, org_id, event_id, removed["jobId"], wait_seconds)
        removed = {**removed, "state": job["state"], "changed": job.get("changed", 0)}
        deleted += f"\njob {removed['jobId']} done: face data taken off {removed['changed']} items"
    answer = settings.summary() | ({} if removed is None else {"facesDeletion": removed})
    say(as_json, answer, f"{org_id}/{event_id}: {settings.describe()}{deleted}")


def _print_audit(result: operations.Audit, as_json: bool, rejected: bool = False) -> None:
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
    if result.in_flight:
        click.echo(f"in flight  {len(result.in_flight):>6}  (runs under way: not problems; `wait` for them)")
    if rejected:
        for photo in result.rejected:
            click.echo(f"  rejected: {photo['rawKey']}: {photo['reason']}")
    elif result.rejected:
        click.echo(f"  ({len(result.rejected)} rejected: --rejected lists them with their reasons)")


@click.command()
@event_options
@click.option("--rejected", is_flag=True, help="List the rejected photos with their reasons.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (every list in full).")
@click.pass_context
def audit(ctx, org_id, event_id, rejected, as_json) -> None:
    """Count raw photos and their final statuses, list the missing and failed ones, and check that
    every indexed photo has its processed photo, thumbnail and faces (and no face outlives its
    photo). Exit 1 when a photo is missing or anything is inconsistent."""
    operations.known_event(stack_of(ctx), org_id, event_id)
    result = operations.audit(stack_of(ctx), org_id, event_id)
    _print_audit(result, as_json, rejected)
    if not result.complete:
        ctx.exit(1)


@click.command()
@event_options
@click.option("--timeout", default=600.0, show_default=True, type=click.FloatRange(min=0), help="Seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the final audit as JSON.")
@click.pass_context
def wait(ctx, org_id, event_id, timeout, as_json) -> None:
    """Wait until every raw photo of the event has a final status. Exit 0 when they are all
    indexed or rejected, 1 on timeout, 2 when some failed (`snaprace failures` says why)."""
    stack = stack_of(ctx)
    operations.known_event(stack, org_id, event_id)
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
    if result.failed:
        click.echo(f"{len(result.failed)} photos failed: `snaprace failures` says why", err=True)
        ctx.exit(2)


@click.command()
@event_options
@click.option("--bib", help="A runner's photos: where the bib was read, or their linked face seen.")
@click.option("--selfie", type=click.File("rb"), help="A runner's photos by a selfie (JPEG or PNG).")
@click.option(
    "--name", help="A runner's photos by their name in the timing results (several runners: listed)."
)
@click.option(
    "--status",
    type=click.Choice(["REJECTED", "FAILED"], case_sensitive=False),
    help="The photos that were not indexed, with their keys and reasons.",
)
@click.option("--json", "as_json", is_flag=True, help='{"photos": [...]} with presigned URLs.')
@click.pass_context
def photos(ctx, org_id, event_id, bib, selfie, name, status, as_json) -> None:
    """The event's indexed photos, newest first, or a runner's by bib, name or selfie; or with
    --status the rejected or failed ones and why."""
    if sum(x is not None for x in (bib, selfie, name, status)) > 1:
        raise Failure("give one of --bib, --selfie, --name, --status")
    if name is not None:
        operations.known_event(stack_of(ctx), org_id, event_id)
        runners = timing.runners_named(stack_of(ctx), org_id, event_id, name)
        if len(runners) != 1:
            if as_json:
                click.echo(json.dumps({"runners": runners, "photos": []}))
                return
            for runner in runners:
                click.echo(f"{runner['bib']:>8}  {runner['name']}")
            click.echo(
                f"{len(runners)} runners named {name!r}" + (": choose one with --bib" if runners else "")
            )
            return
        bib = runners[0]["bib"]
        click.echo(f"bib {bib}: {runners[0]['name']}", err=True)
    if status is not None:
        operations.known_event(stack_of(ctx), org_id, event_id)
        listed = operations.photos_with_status(stack_of(ctx), org_id, event_id, status.upper())
        if as_json:
            click.echo(json.dumps({"photos": listed}))
            return
        for photo in listed:
            click.echo(f"{photo['rawKey']}: {photo['reason']}")
        click.echo(f"{len(listed)} photos {status.upper()}")
        return
    if bib is not None:
        try:
            bib = searched_bib(bib)
        except ValueError as exc:
            raise Failure(str(exc)) from None
    image = selfie.read() if selfie is not None else None
    operations.known_event(stack_of(ctx), org_id, event_id)
    found = operations.photos(stack_of(ctx), org_id, event_id, bib, image)
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
        if photo["secondsFromPassing"] is not None:
            matched += f" {photo['secondsFromPassing']:+.0f}s"
        bibs = ",".join(photo["bibs"]) or "-"
        click.echo(f"{photo['photoId']:<24}  {matched:<12}  {bibs:<14.14}  {photo['rawKey']}")
    click.echo(f"{len(found)} photos{what}")


@click.command()
@click.option("--org", "org_id", required=True, help="Organiser id, e.g. acme")
@click.option("--json", "as_json", is_flag=True, help='{"org", "events": [...]}')
@click.pass_context
def events(ctx, org_id, as_json) -> None:
    """The org's events: those with uploads."""
    found = operations.events_of(stack_of(ctx), org_id)
    if as_json:
        click.echo(json.dumps({"org": org_id, "events": found}))
        return
    for event_id in found:
        click.echo(event_id)
    if not found:
        click.echo(f"org {org_id} has no uploads yet")
