"""Cold-start import time of every Lambda handler, each in a clean interpreter.

    python bench/imports.py [--repeat 5] [--json]

Runs `python -X importtime -c "import pipeline.handlers.<name>"` per handler (best of --repeat) and
reports the handler's cumulative import time, the resident set after the import, the heaviest
top-level packages it pulls in, and whether Pillow or the X-Ray SDK are among them. A baseline
(`import boto3`, which every function needs) runs in the same loop, so the figures are also given
as ratios to it. --json prints one object on the last line:
{"baseline_ms", "handlers": {name: {"ms", "ratio", "resident_mb", ...}}}.
"""

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = sorted(
    p.stem for p in (ROOT / "src" / "pipeline" / "handlers").glob("*.py") if p.stem != "__init__"
)
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")
HEAVY = ("PIL", "pillow_heif", "aws_xray_sdk", "boto3", "botocore", "aws_lambda_powertools")


def importtime(module: str) -> dict:
    """One clean interpreter: {module: cumulative µs} for top-level modules and the total."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "AWS_DEFAULT_REGION": "ap-northeast-2"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    child = subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    packages, total = {}, 0
    for line in child.stderr.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        cumulative, indent, name = int(match.group(2)), len(match.group(3)), match.group(4)
        if indent == 1:  # imported directly by the -c statement or a top-level import chain
            total += cumulative
        top = name.split(".")[0]
        packages[top] = max(packages.get(top, 0), cumulative)
    return {"total_us": total, "packages": packages}


def resident_mb(module: str) -> float:
    """Peak resident set of a clean interpreter after importing the module (VmHWM), in MB: what
    a cold container holds before the first event."""
    code = f"import {module}; print(open('/proc/self/status').read())"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "AWS_DEFAULT_REGION": "ap-northeast-2"}
    child = subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    line = next(line for line in child.stdout.splitlines() if line.startswith("VmHWM:"))
    return round(int(line.split()[1]) / 1024, 1)


def best(module: str, repeat: int) -> dict:
    runs = [importtime(module) for _ in range(repeat)]
    return min(runs, key=lambda run: run["total_us"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    importtime("boto3")  # warm the bytecode caches, so no run pays for compiling
    for name in HANDLERS:
        importtime(f"pipeline.handlers.{name}")
    baseline = best("boto3", args.repeat)["total_us"] / 1000
    handlers = {}
    for name in HANDLERS:
        run = best(f"pipeline.handlers.{name}", args.repeat)
        handlers[name] = {
            "ms": round(run["total_us"] / 1000, 1),
            "ratio": round(run["total_us"] / 1000 / baseline, 2),
            "resident_mb": resident_mb(f"pipeline.handlers.{name}"),
            "pillow": "PIL" in run["packages"],
            "xray": "aws_xray_sdk" in run["packages"],
            "heaviest": {
                top: round(us / 1000, 1)
                for top, us in sorted(run["packages"].items(), key=lambda item: -item[1])
                if top in HEAVY
            },
        }
    if args.json:
        print(json.dumps({"baseline_ms": round(baseline, 1), "handlers": handlers}))
        return 0
    print(f"baseline: import boto3 {baseline:.0f} ms")
    print(f"{'handler':<18} {'ms':>6} {'x boto3':>8} {'RSS MB':>7} {'Pillow':>7} {'X-Ray':>6}  heaviest (ms)")
    for name, row in handlers.items():
        heaviest = ", ".join(f"{top} {ms:g}" for top, ms in row["heaviest"].items())
        print(
            f"{name:<18} {row['ms']:>6} {row['ratio']:>8} {row['resident_mb']:>7} "
            f"{'yes' if row['pillow'] else 'no':>7} {'yes' if row['xray'] else 'no':>6}  {heaviest}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
