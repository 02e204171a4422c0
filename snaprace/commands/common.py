"""What every command shares: the error type that prints its fix, the stack, the event options."""

import json

import click

from snaprace.stack import Stack


class Failure(click.ClickException):
    """An error with its fix, printed without a traceback."""


def say(as_json: bool, data: dict, text: str) -> None:
    """A command's report: one JSON object with --json, else the sentence."""
    click.echo(json.dumps(data, default=str) if as_json else text)


def stack_of(ctx: click.Context) -> Stack:
    return ctx.find_root().obj


def event_options(command):
    command = click.option("--event", "event_id", required=True, help="Event id, e.g. seoul-marathon-2026")(
        command
    )
    return click.option("--org", "org_id", required=True, help="Organiser id, e.g. acme")(command)
