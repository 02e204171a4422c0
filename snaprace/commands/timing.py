"""Timing results: `timing import`, `timing offsets`, `checkpoint set` (docs/timing.md)."""

from pathlib import Path

import click

from pipeline.timing.results_file import Columns
from pipeline.timing.rules import WINDOW_SECONDS
from snaprace import timing
from snaprace.commands.common import event_options, say, stack_of


@click.group("timing")
def timing_group() -> None:
    """The event's timing results: a runner's photos by the time they passed a photographer."""


@timing_group.command("import")
@event_options
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bib-column", default="bib", show_default=True, help="The column holding the bib.")
@click.option("--checkpoint-column", default="checkpoint", show_default=True, help="The timing point.")
@click.option("--time-column", default="time", show_default=True, help="Time of day, or a date-time.")
@click.option(
    "--name-column",
    "name_columns",
    multiple=True,
    help="The runner's name (default 'name'); give it twice for first and last name columns.",
)
@click.option("--json", "as_json", is_flag=True, help="The import's summary and the cameras' offsets.")
@click.pass_context
def timing_import(
    ctx, org_id, event_id, path, bib_column, checkpoint_column, time_column, name_columns, as_json
) -> None:
    """Import the event's timing results (CSV: one row per passing of a bib at a checkpoint).
    Times of day are on the event's date and in its time zone (`event-settings --date
    --timezone`). A file with any bad row is refused whole, with the rows' line numbers; an
    import replaces the previous one."""
    columns = Columns(bib_column, checkpoint_column, time_column, tuple(name_columns) or ("name",))
    summary = timing.import_results(stack_of(ctx), org_id, event_id, path, columns)
    text = (
        f"{org_id}/{event_id}: {summary['runners']} runners, {summary['passings']} passings at "
        f"{len(summary['checkpoints'])} checkpoints ({', '.join(summary['checkpoints'])}); "
        f"{summary['named']} with names"
    )
    say(as_json, summary, text + "\n" + _offsets_text(summary["cameras"]))


@timing_group.command("offsets")
@event_options
@click.option("--json", "as_json", is_flag=True, help='{"cameras": [...]}')
@click.pass_context
def offsets(ctx, org_id, event_id, as_json) -> None:
    """Estimate each camera's clock offset again from its photos' bib reads, and show the
    offsets the search uses (one set by hand wins)."""
    cameras = timing.estimate_offsets(stack_of(ctx), org_id, event_id)
    say(as_json, {"cameras": cameras, "windowSeconds": WINDOW_SECONDS}, _offsets_text(cameras))


@click.group("checkpoint")
def checkpoint_group() -> None:
    """Where each photographer stood: their camera's checkpoint and clock."""


@checkpoint_group.command("set")
@event_options
@click.option("--photographer", required=True, help="The upload's photographer, or its first folder.")
@click.option("--checkpoint", required=True, help="The timing results' checkpoint they stood at.")
@click.option(
    "--clock-offset",
    type=float,
    help="Seconds to add to the camera's clock to get the timing system's; without it, estimated.",
)
@click.option("--json", "as_json", is_flag=True, help='{"cameras": [...]}')
@click.pass_context
def checkpoint_set(ctx, org_id, event_id, photographer, checkpoint, clock_offset, as_json) -> None:
    """Place a photographer's camera at a checkpoint. Their photos are then found by the time a
    runner passed it, once the camera's offset is known."""
    cameras = timing.set_checkpoint(stack_of(ctx), org_id, event_id, photographer, checkpoint, clock_offset)
    say(as_json, {"cameras": cameras}, _offsets_text(cameras))


def _offsets_text(cameras: list[dict]) -> str:
    if not cameras:
        return "no camera at a checkpoint yet: snaprace checkpoint set --photographer NAME --checkpoint CP"
    lines = [f"{'photographer':<20} {'checkpoint':<14} {'offset s':>10}  {'source':<9}  estimate"]
    for camera in cameras:
        offset = "-" if camera["offset"] is None else f"{camera['offset']:+.1f}"
        estimate = (
            f"{camera['estimated']:+.1f} s, spread {camera['spread']:.1f} s, "
            f"{camera['agreeingPhotos']} photos agree"
            if camera["estimated"] is not None
            else f"none ({camera['comparedReads']} bib reads to compare; at least 3 photos must agree)"
        )
        lines.append(
            f"{camera['photographer']:<20.20} {camera['checkpoint']:<14.14} {offset:>10}  "
            f"{camera['source']:<9}  {estimate}"
        )
    return "\n".join(lines)
