"""The `snaprace` command line: global options wherever they are typed."""

from snaprace.cli import hoisted


def test_global_options_are_hoisted_but_nothing_after_a_double_dash():
    assert hoisted(["audit", "--org", "a", "--region=eu-west-1", "--endpoint-url", "http://x", "--json"]) == [
        "--region=eu-west-1", "--endpoint-url", "http://x", "audit", "--org", "a", "--json",
    ]  # fmt: skip
    assert hoisted(["invoke", "f", "--", "--stack", "s"]) == ["invoke", "f", "--", "--stack", "s"]
