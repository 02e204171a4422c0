"""`snaprace`: the operator's command for a deployed stack or the local stack.

    snaprace [--endpoint-url URL] [--stack NAME] [--region REGION] COMMAND ...

With --endpoint-url (or SNAPRACE_ENDPOINT_URL) every command talks to the local stack and needs
no credentials; without it, to the CloudFormation stack in the region.
"""

import click

from snaprace.commands import access, erase, events, local, operate, review
from snaprace.commands.common import Failure
from snaprace.stack import DEFAULT_STACK, Stack, StackError


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


COMMANDS = (  # the order of --help
    local.local,
    local.invoke,
    events.upload,
    events.event_settings,
    events.audit,
    events.wait,
    events.photos,
    review.review,
    review.tag,
    access.api_key,
    access.org_key,
    access.runner_links,
    access.web_url,
    access.retention,
    operate.preflight,
    operate.status,
    operate.failures,
    operate.redrive,
    operate.reprocess,
    erase.purge_event,
    erase.delete_runner,
    operate.backup,
    operate.logs,
    local.demo,
)
for command in COMMANDS:
    main.add_command(command)


if __name__ == "__main__":
    main()
