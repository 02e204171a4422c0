"""`snaprace`: the operator's command for a deployed stack or the local stack.

    snaprace [--endpoint-url URL] [--stack NAME] [--region REGION] COMMAND ...

With --endpoint-url (or SNAPRACE_ENDPOINT_URL) every command talks to the local stack and needs
no credentials; without it, to the CloudFormation stack in the region.
"""

import click
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from snaprace.commands import access, corrections, events, local, operate, retention, timing
from snaprace.commands.common import Failure
from snaprace.stack import DEFAULT_STACK, Stack, StackError

BUSY = {"ThrottlingException", "ProvisionedThroughputExceededException", "ServiceUnavailable",
        "InternalServerError", "InternalFailure", "RequestLimitExceeded", "SlowDown"}  # fmt: skip


GLOBAL_OPTIONS = ("--endpoint-url", "--stack", "--region", "--profile")


def hoisted(args: list[str]) -> list[str]:
    """The global options moved to the front wherever they were typed (`snaprace audit --org a
    --event b --endpoint-url URL`, as aws and sam take them); everything after `--` stays."""
    front, rest, index = [], [], 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        if arg.split("=", 1)[0] in GLOBAL_OPTIONS:
            taken = 1 if "=" in arg else 2
            front += args[index : index + taken]
            index += taken
            continue
        rest.append(arg)
        index += 1
    return front + rest


class Commands(click.Group):
    """Global options anywhere on the line; every command's StackError (a problem the operator
    can fix) and every AWS or connection error becomes one line that says what to do, never a
    traceback."""

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, hoisted(list(args)))

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except StackError as exc:
            raise Failure(str(exc)) from None
        except EndpointConnectionError as exc:
            raise Failure(
                f"cannot reach {exc.kwargs.get('endpoint_url', 'AWS')}: is the local stack running "
                "(snaprace local up), or the network up?"
            ) from None
        except NoCredentialsError:
            raise Failure(
                "no AWS credentials: configure a profile (--profile), or use --endpoint-url"
            ) from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, status = (
                error.get("Code", "?"),
                exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0),
            )
            what = f"{exc.operation_name} failed: {code}: {error.get('Message', '')}".rstrip(": ")
            if code in BUSY or status >= 500:
                raise Failure(
                    f"{what} — AWS is busy or failing; nothing was lost, run the command again in a minute"
                ) from None
            raise Failure(
                f"{what} — check the stack, your credentials' permissions, or the ids given"
            ) from None
        except BotoCoreError as exc:
            raise Failure(f"AWS client error: {exc}") from None


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="snaprace")
@click.option(
    "--endpoint-url",
    envvar=["SNAPRACE_ENDPOINT_URL", "AWS_ENDPOINT_URL"],
    help="The local stack's endpoint (http://127.0.0.1:4566); also SNAPRACE_ENDPOINT_URL, AWS_ENDPOINT_URL.",
)
@click.option("--stack", "stack_name", envvar="SNAPRACE_STACK", default=DEFAULT_STACK, show_default=True)
@click.option(
    "--region", envvar="AWS_REGION", help="AWS region (default: your profile's, else ap-northeast-2)."
)
@click.option("--profile", envvar="AWS_PROFILE", help="AWS profile (not used with --endpoint-url).")
@click.pass_context
def main(ctx: click.Context, endpoint_url: str | None, stack_name: str, region: str | None, profile) -> None:
    """SnapRace image pipeline: upload race photos, follow their processing, find runners.

    Exit codes: 0 done; 1 an error or a check that failed (the message says which); 2 `wait`
    finished with failed photos."""
    ctx.obj = Stack(name=stack_name, region=region, endpoint_url=endpoint_url, profile=profile)


COMMANDS = (  # the order of --help
    local.local,
    local.invoke,
    events.upload,
    events.event_settings,
    events.audit,
    events.wait,
    events.photos,
    events.events,
    timing.timing_group,
    timing.checkpoint_group,
    corrections.review,
    corrections.tag,
    access.api_key,
    access.org_key,
    access.runner_links,
    access.web_url,
    retention.retention,
    operate.preflight,
    operate.status,
    operate.failures,
    operate.redrive,
    operate.reprocess,
    retention.purge_event,
    retention.delete_runner,
    operate.backup,
    operate.logs,
    local.demo,
)
for command in COMMANDS:
    main.add_command(command)


if __name__ == "__main__":
    main()
