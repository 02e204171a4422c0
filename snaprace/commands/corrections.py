"""A person fixes what recognition got wrong: `review` lists the photos to look at, `tag` corrects
one (pipeline.corrections.review, pipeline.corrections.records: the code the organiser API runs too)."""

import getpass
import json

import click

from pipeline.corrections import review as queue
from pipeline.corrections.records import CorrectionError, Corrector
from pipeline.processing.results import now_iso
from snaprace import operations
from snaprace.commands.common import Failure, event_options, stack_of


@click.command()
@event_options
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--json", "as_json", is_flag=True, help='{"photos": [{"photoId", "name", "bibs", "reasons", "why"}]}'
)
@click.pass_context
def review(ctx, org_id, event_id, limit, as_json) -> None:
    """Photos whose reads a person should look at, most useful first, each with its reasons.
    `tag` a photo (or `tag --confirm` it) to take it out of the queue."""
    operations.known_event(stack_of(ctx), org_id, event_id)
    items = stack_of(ctx).photo_table.corrections.review_queue(org_id, event_id, limit)
    photos = [queue.entry(item) for item in items]
    if as_json:
        click.echo(json.dumps({"photos": photos, "count": len(photos)}))
        return
    for photo in photos:
        click.echo(f"{photo['photoId']}  {photo['name']}  bibs {','.join(photo['bibs']) or '-'}")
        for why in photo["why"]:
            click.echo(f"    {why}")
    click.echo(f"{len(photos)} photos to review in {org_id}/{event_id}")


@click.command()
@event_options
@click.option(
    "--photo", "photo", required=True, help="The photo: its id, its raw key, or its file name as uploaded."
)
@click.option("--add", "add", multiple=True, metavar="BIB", help="A bib the photo shows (repeatable).")
@click.option("--remove", "remove", multiple=True, metavar="BIB", help="A bib read wrongly (repeatable).")
@click.option("--confirm", is_flag=True, help="The reads are right as they are: the photo leaves the queue.")
@click.option("--face", type=click.IntRange(1, 100), help="The face the added bib belongs to (1 = leftmost).")
@click.option("--spread", is_flag=True, help="Add the bib to the runner's other photos, found by face.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def tag(ctx, org_id, event_id, photo, add, remove, confirm, face, spread, as_json) -> None:
    """Correct a photo's bibs. The correction is recorded (who, when, what) and holds against every
    later run (`reprocess`, retries); a re-upload of new content starts fresh."""
    stack = stack_of(ctx)
    operations.known_event(stack, org_id, event_id)
    photo_id = operations.photo_id_of(org_id, event_id, photo)
    corrector = Corrector(stack.photo_table, stack.client("rekognition"), stack.collection_prefix, now_iso)
    try:
        result = corrector.tag(
            org_id,
            event_id,
            photo_id,
            add=add,
            remove=remove,
            confirm=confirm,
            face=face,
            spread=spread,
            who=f"operator {getpass.getuser()} (snaprace)",
        )
    except CorrectionError as exc:
        raise Failure(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return
    if result.dropped:
        click.echo("the photo's content changed since its last correction: that one no longer applies")
    linked = f" ({result.linked} linked to the runner's face)" if result.linked else ""
    click.echo(f"{photo_id}: bibs {','.join(result.bibs) or '-'}{linked}")
    for changed in result.spread:
        click.echo(f"  + {changed['bib']} on {changed['photoId']} (face {changed['similarity']:.1f}% alike)")
    if spread:
        click.echo(f"spread to {len(result.spread)} other photos")
