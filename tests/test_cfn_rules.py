"""The team's template standards (tools/cfn_rules, run by `make lint`): the real template meets
them, and a copy that breaks one is caught by that rule alone."""

from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file

from snaprace.template import ROOT

RULES = str(ROOT / "tools" / "cfn_rules")


def custom_findings(path: Path) -> list[tuple[str, str]]:
    matches = lint_file(path, config=ManualArgs(append_rules=[RULES], regions=["ap-northeast-2"]))
    return [(m.rule.id, m.message) for m in matches if m.rule.id.startswith("E9")]


def test_the_template_meets_every_standard():
    assert custom_findings(ROOT / "template.yaml") == []


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
