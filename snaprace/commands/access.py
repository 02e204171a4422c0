"""Who may call the search API: `api-key`, `org-key`; and face data that ends: `retention`."""

import json

import click

from snaprace import operations
from snaprace.commands.common import stack_of


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
    from snaprace import org_keys

    created = org_keys.create(stack_of(ctx), org_id)
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

    found = org_keys.listing(stack_of(ctx), org_id)
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

    org_keys.revoke(stack_of(ctx), org_id, key_id)
    click.echo(f"revoked key {key_id} of org {org_id}")


@click.group()
def retention() -> None:
    """Face data that ends: events past their face retention lose their faces (bibs stay)."""


@retention.command("sweep")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def retention_sweep(ctx, as_json) -> None:
    """Run the daily retention sweep now (RetentionSweepFunction, on AWS or the local stack)."""
    swept = operations.run_retention_sweep(stack_of(ctx))
    if as_json:
        click.echo(json.dumps({"swept": swept}))
        return
    for event in swept:
        click.echo(f"{event['org']}/{event['event']}: {event['faces']} faces deleted (retention passed)")
    click.echo(f"{len(swept)} events swept")


@click.command("api-key")
@click.pass_context
def api_key(ctx) -> None:
    """Print the search API's URL and key (from the stack's secret), for curl and front ends."""
    stack = stack_of(ctx)
    name = stack.output("ApiKeySecretName")
    key = stack.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    click.echo(f"{stack.output('ApiUrl')}\n{key}")
