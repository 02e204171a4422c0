"""Who may call the search API: `api-key`, `org-key`, `runner-links`"""

import csv
import json
import sys
from contextlib import nullcontext
from pathlib import Path

import click

from pipeline.events.settings import VERIFIED
from snaprace.commands.common import say, stack_of


@click.group("org-key")
def org_key() -> None:
    """Organiser keys: each opens one organiser's events in the search API (the operator's key,
    `snaprace api-key`, opens every org). A revoked key stops within the authorizer's 5-minute cache."""


@org_key.command("create")
@click.option("--org", "org_id", required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on the last line: org, keyId, key.")
@click.pass_context
def org_key_create(ctx, org_id, as_json) -> None:
    """A new key for an organiser, shown once (only its hash is stored)."""
    from snaprace import access

    created = access.create(stack_of(ctx), org_id)
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
    from snaprace import access

    found = access.listing(stack_of(ctx), org_id)
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
    from snaprace import access

    access.revoke(stack_of(ctx), org_id, key_id)
    click.echo(f"revoked key {key_id} of org {org_id}")


@click.command("runner-links")
@click.option("--org", "org_id", required=True)
@click.option("--event", "event_id", required=True)
@click.option(
    "--bibs",
    "bibs_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="One bib per line (or a CSV whose first column is the bib); default: the event's participant list.",
)
@click.option(
    "--days", default=30, show_default=True, type=click.IntRange(1, 365), help="Days the links work."
)
@click.option("--base-url", help="Where the runner page is served (default: the stack's ApiUrl).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the CSV here (default: standard output).",
)
@click.pass_context
def runner_links(ctx, org_id, event_id, bibs_file, days, base_url, out) -> None:
    """Each runner's personal link, one CSV row per bib (bib,link,token,expiresAt), for the
    organiser to send through their registration system. On an event whose selfie search is
    verified (the default), a link opens selfie search for that runner, on that event only."""
    from snaprace import access

    links, settings = access.make_runner_links(stack_of(ctx), org_id, event_id, bibs_file, days, base_url)
    with out.open("w", newline="", encoding="utf-8") if out else nullcontext(sys.stdout) as stream:
        writer = csv.DictWriter(stream, fieldnames=["bib", "link", "token", "expiresAt"])
        writer.writeheader()
        writer.writerows(link.row() for link in links)
    if out:
        click.echo(f"{len(links)} runner links for {org_id}/{event_id} -> {out}", err=True)
    for warning in _link_warnings(settings):
        click.echo(f"note: {warning}", err=True)


def _link_warnings(settings) -> list[str]:
    """What makes the links useless for now: the runners would meet a closed door."""
    warnings = []
    if not settings.published:
        warnings.append("the event is not published: runners find nothing until `event-settings --publish`")
    if not settings.faces:
        warnings.append("face search is off for the event: the links open bib search only")
    elif settings.selfie_mode != VERIFIED:
        warnings.append("the event's selfie search is open: anyone may search without a link")
    return warnings


@click.command("web-url")
@click.option("--org", "org_id", required=True)
@click.option("--event", "event_id", required=True)
@click.pass_context
def web_url(ctx, org_id, event_id) -> None:
    """The runner page's address for an event (the organiser's page: /o/ instead of /e/)."""
    from snaprace.operations import validate_ids

    validate_ids(org_id, event_id)
    click.echo(f"{stack_of(ctx).output('ApiUrl').rstrip('/')}/e/{org_id}/{event_id}")


@click.command("api-key")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
def api_key(ctx, as_json) -> None:
    """Print the search API's URL and key (from the stack's secret), for curl and front ends."""
    stack = stack_of(ctx)
    name = stack.output("ApiKeySecretName")
    key = stack.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    say(as_json, {"url": stack.output("ApiUrl"), "key": key}, f"{stack.output('ApiUrl')}\n{key}")
