"""CloudFormation's DescribeStacks and DescribeStackResources for the local stack's own name, so the
`snaprace` commands find every resource from the stack's outputs and physical ids exactly as they
do on AWS. Other stacks and actions go on to moto."""

from xml.sax.saxutils import escape

from snaprace.template import LOCAL_ACCOUNT

ACTIONS = ("DescribeStacks", "DescribeStackResources")


def answer(form: dict, stack) -> bytes | None:
    """The XML answer, or None when the request is not for this stack."""
    action = form.get("Action", [""])[0]
    if form.get("StackName", [""])[0] != stack.stack_name or action not in ACTIONS:
        return None
    stack_id = f"arn:aws:cloudformation:{stack.region}:{LOCAL_ACCOUNT}:stack/{stack.stack_name}/local"
    if action == "DescribeStacks":
        outputs = "".join(
            f"<member><OutputKey>{escape(k)}</OutputKey><OutputValue>{escape(v)}</OutputValue></member>"
            for k, v in stack.outputs.items()
        )
        parameters = "".join(
            f"<member><ParameterKey>{escape(k)}</ParameterKey><ParameterValue>{escape(v)}</ParameterValue>"
            "</member>"
            for k, v in stack.resolver.parameters.items()
        )
        inner = (
            f"<Stacks><member><StackName>{stack.stack_name}</StackName><StackId>{stack_id}</StackId>"
            f"<Parameters>{parameters}</Parameters>"
            "<CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus>"
            f"<Outputs>{outputs}</Outputs></member></Stacks>"
        )
    else:
        members = "".join(
            f"<member><StackName>{stack.stack_name}</StackName><StackId>{stack_id}</StackId>"
            f"<LogicalResourceId>{escape(logical)}</LogicalResourceId>"
            f"<PhysicalResourceId>{escape(str(physical))}</PhysicalResourceId>"
            f"<ResourceType>{escape(stack.template['Resources'][logical]['Type'])}</ResourceType>"
            "<Timestamp>2026-01-01T00:00:00Z</Timestamp><ResourceStatus>CREATE_COMPLETE</ResourceStatus>"
            "</member>"
            for logical, physical in stack.resolver.physical_ids.items()
        )
        inner = f"<StackResources>{members}</StackResources>"
    return (
        f'<{action}Response xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
        f"<{action}Result>{inner}</{action}Result>"
        "<ResponseMetadata><RequestId>local</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    ).encode()
