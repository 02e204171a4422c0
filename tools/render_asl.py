"""Render each state machine of template.yaml with its DefinitionSubstitutions filled in.

Validators need concrete ARNs where the ASL file has ``${PreprocessFunctionArn}``; a Lambda ARN of
the function's own logical id stands in. Fails when the ASL file uses a substitution the
template does not define, or the template defines one the file does not use.

    python tools/render_asl.py template.yaml OUT_DIR
"""

import json
import re
import sys
from pathlib import Path

from cfn_flip import load_yaml

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")
FAKE_ARN = "arn:aws:lambda:ap-northeast-2:123456789012:function:{}"


def render(template_path: Path, out_dir: Path) -> list[Path]:
    template = load_yaml(template_path.read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::StateMachine":
            continue
        properties = resource["Properties"]
        definition = (template_path.parent / properties["DefinitionUri"]).read_text()
        substitutions = properties.get("DefinitionSubstitutions", {})
        used = set(PLACEHOLDER.findall(definition))
        if used != set(substitutions):
            sys.exit(
                f"{logical_id}: ASL placeholders {sorted(used)} "
                f"!= DefinitionSubstitutions {sorted(substitutions)}"
            )
        rendered = PLACEHOLDER.sub(lambda match: FAKE_ARN.format(match.group(1)), definition)
        json.loads(rendered)  # the rendered file must still be JSON
        target = out_dir / f"{logical_id}.asl.json"
        target.write_text(rendered)
        written.append(target)
    if not written:
        sys.exit("no AWS::Serverless::StateMachine in the template")
    return written


if __name__ == "__main__":
    for path in render(Path(sys.argv[1]), Path(sys.argv[2])):
        print(f"rendered {path}")
