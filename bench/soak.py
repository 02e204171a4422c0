"""Soak run: a mixed batch of photos through the local stack, faults optional, invariants checked.

    python bench/soak.py --photos 1000 [--faults] [--seed 1] [--json]

Starts its own local stack (snaprace local up), uploads ~70% runner photos, 10% duplicate uploads,
10% re-uploads, 5% deletions and 5% bad input, waits until every photo has a final status, then
checks: one photo item with a final status per raw photo; no bib item without its indexed photo;
no face without its indexed photo and no indexed photo without its faces, processed photo and
thumbnail; nothing left of deleted photos; an empty DLQ. With --faults, Rekognition 5xx and
throttling, DynamoDB throttling and partial batch writes, StartExecution failures and handler
timeouts are injected (snaprace.soak.FAULTS). Exit 1 on any violation; --json prints the counts as
one object on the last line.
"""

import argparse
import json
import time
import urllib.request
from pathlib import Path

from snaprace.local.launch import launch
from snaprace.soak import FAULTS, soak
from snaprace.stack import Stack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(__file__).resolve().parent.parent / ".snaprace" / "soak"
    work.mkdir(parents=True, exist_ok=True)
    # the local stack's log stays in .snaprace/soak/local.log for reading afterwards
    local = launch(work / "local.log")
    try:
        if args.faults:
            request = urllib.request.Request(  # noqa: S310 - the local stack
                f"{local.endpoint}/_snaprace/faults",
                data=json.dumps({**FAULTS, "seed": args.seed}).encode(),
            )
            urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
        started = time.time()
        report = soak(Stack(endpoint_url=local.endpoint), args.photos, args.seed)
        report["seconds"] = round(time.time() - started, 1)
        with urllib.request.urlopen(f"{local.endpoint}/_snaprace/faults", timeout=10) as answer:  # noqa: S310
            report["injected"] = json.loads(answer.read())["injected"]
    finally:
        local.stop()
    violations = report["violations"]
    if not args.json:
        for name in (
            "photos",
            "indexed",
            "rejected",
            "failed",
            "missing",
            "deleted",
            "failedExecutions",
            "dlq",
        ):
            print(f"{name:<17} {report[name]}")
        print(f"failure causes    {report['failureCauses'] or 'none'}")
        print(f"injected faults   {report['injected'] or 'none'}")
        print(f"time              {report['seconds']} s (uploads {report['uploadSeconds']} s)")
        for violation in violations[:50]:
            print(f"VIOLATION {violation}")
        print("no violations" if not violations else f"{len(violations)} violations")
    else:
        print(json.dumps({**report, "violations": len(violations), "violationList": violations[:50]}))
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
