"""The team's template standards (tools/cfn_rules, run by `make lint`): the real template meets
them, and a copy that breaks one is caught by that rule alone.

cfn-lint runs in-process with `make lint`'s configuration. Its ~300 built-in rules take ~2 s a
template (`make lint` runs them): the real template gets the whole run once; the broken copies
are checked by cfn-lint's own template runner with only the team's rules, the ones that
configuration loads."""

from functools import cache
from pathlib import Path

import pytest
from cfnlint.config import ConfigMixIn
from cfnlint.rules import Rules
from cfnlint.runner import Runner, run_template_by_file_path

from snaprace.template import ROOT

RULES = str(ROOT / "tools" / "cfn_rules")
OURS = {"E9001", "E9002", "E9003"}


def make_lint(path: Path) -> Runner:
    """cfn-lint as `make lint` runs it: template.yaml --append-rules tools/cfn_rules."""
    return Runner(ConfigMixIn(["--template", str(path)], append_rules=[RULES], regions=["ap-northeast-2"]))


def custom(matches) -> list[tuple[str, str]]:
    return [(m.rule.id, m.message) for m in matches if m.rule.id.startswith("E9")]


def test_the_template_meets_every_standard():
    runner = make_lint(ROOT / "template.yaml")
    assert {rule_id for rule_id in runner.rules if rule_id.startswith("E9")} == OURS
    assert custom(runner.run()) == []


@cache
def make_lints_own_rules() -> tuple[ConfigMixIn, Rules]:
    runner = make_lint(ROOT / "template.yaml")
    return runner.config, Rules({rule_id: runner.rules[rule_id] for rule_id in OURS})


def custom_findings(path: Path) -> list[tuple[str, str]]:
    """The team's rules alone, through cfn-lint's template runner (decode, transform, directives)."""
    config, ours = make_lints_own_rules()
    return custom(run_template_by_file_path(str(path), config, ours, False))


@pytest.mark.parametrize(
    ("old", "new", "rule", "says"),
    [
        (
            "  DeletePhotoLogGroup:\n    Type: AWS::Logs::LogGroup\n    Properties:\n"
            "      LogGroupName: !Sub /aws/lambda/DeletePhotoFunction-${Stage}\n      RetentionInDays: 14\n",
            "",
            "E9001",
            "DeletePhotoFunction has no log group",
        ),
        (
            "              Action: states:StartExecution\n"
            "              Resource: !Ref ImageProcessingStateMachine\n",
            '              Action: states:StartExecution\n              Resource: "*"\n',
            "E9002",
            "StartProcessingFunction: Resource * for ['states:StartExecution']",
        ),
        (
            "              Action: states:StartExecution\n",
            "              Action: states:*\n",
            "E9002",
            "StartProcessingFunction: wildcard action ['states:*']",
        ),
        (
            "                - Name: FunctionName\n                  Value: !Ref DeletePhotoFunction\n",
            "                - Name: FunctionName\n                  Value: !Ref SaveResultsFunction\n",
            "E9003",
            "DeletePhotoFunction's Errors metric is in no alarm",
        ),
    ],
)
def test_a_broken_copy_is_caught_by_its_rule(tmp_path, old, new, rule, says):
    text = (ROOT / "template.yaml").read_text()
    assert text.count(old) == 1
    broken = tmp_path / "template.yaml"
    broken.write_text(text.replace(old, new))
    findings = custom_findings(broken)
    assert [found[0] for found in findings] == [rule]
    assert says in findings[0][1]
