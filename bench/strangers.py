"""What a stranger holding the public page learns and spends, measured through the search API's
handler (template's table on moto, Rekognition emulated, every request from a new address).

    python bench/strangers.py [--runners 150[,1000]] [--requests 2000] [--json]

1. Names: an event per --runners size with census-weighted names (snaprace.strangers), name search
   on. Two walks of --requests requests each: the two-letter prefix walk that recovered every
   runner before, and a dictionary of the most common full names. Reported: runners recovered.
2. Cost: --requests anonymous requests on a published event whose 20 popular bibs were each read
   on 10 photos with the runner's face linked (the most faces a bib search looks up), and show
   in one more photo by face only: 70 % bib searches of those bibs, 20 % junk
   selfie POSTs without a link (verified mode), 10 % bib searches of unknown bibs. Counted:
   Rekognition calls by operation and DynamoDB requests by operation, priced at Seoul's list
   prices; with the bib's face matches cached (as deployed) and, as the baseline in the same
   process, without (FACE_MATCHES_SECONDS = 0: every search asks Rekognition again).
--json prints one object on the last line.
"""

import argparse
import base64
import contextlib
import datetime
import json
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
ORG, EVENT, STAGE, REGION = "acme", "seoul-marathon-2026", "bench", "ap-northeast-2"
SEARCHES_USD = 0.0013  # Rekognition SearchFaces / SearchFacesByImage, Seoul, first 1M a month
DYNAMODB_READ_USD, DYNAMODB_WRITE_USD = 0.1355e-6 * 2, 0.678e-6  # on-demand per request unit, Seoul
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "STAGE": STAGE,
        "BUCKET_NAME": f"snaprace-images-{STAGE}",
        "TABLE_NAME": f"PhotoService-{STAGE}",
        "COLLECTION_PREFIX": f"snaprace-{STAGE}",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "SnapRace",
        "POWERTOOLS_SERVICE_NAME": "image-rekognition",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_DISABLED": "true",  # the handler's metrics would print to stdout
        "PUBLIC_SEARCHES_PER_MINUTE": "60",
    }
)
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
    os.environ.pop(name, None)


class Context:
    function_name, memory_limit_in_mb = "SearchApiFunction-bench", 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:SearchApiFunction-bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@contextlib.contextmanager
def stack():
    """moto with the template's table and the signing key; the handlers' clients made afresh."""
    import boto3
    from moto import mock_aws

    from pipeline.common import clients
    from pipeline.common.config import get_config
    from snaprace.local.engines import ScriptedEngine
    from snaprace.local.rekognition import RekognitionEmulator, answer_in_process
    from snaprace.template import create_table_kwargs, load_template

    with mock_aws():
        for factory in (clients.rekognition, clients.dynamodb_table, clients.s3_presigner, get_config):
            factory.cache_clear()
        boto3.client("dynamodb", region_name=REGION).create_table(
            **create_table_kwargs(load_template(), STAGE)
        )
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=f"{STAGE}/image-rekognition/signing-key", SecretString="k" * 64
        )
        emulator = RekognitionEmulator(ScriptedEngine(), lambda *_: None, REGION, "123456789012")
        answer_in_process(clients.rekognition(), emulator)
        requests: Counter = Counter()
        clients.dynamodb_table(os.environ["TABLE_NAME"]).meta.client.meta.events.register(
            "before-call.dynamodb", lambda model, **_: requests.update([model.name])
        )
        yield emulator, requests


def request(path: str, address: str, method: str = "GET", body: dict | None = None, query=None) -> dict:
    from pipeline.handlers import api

    event = json.loads((ROOT / "events" / "api_bib.json").read_text())
    event["rawPath"] = path
    event["routeKey"] = "$default"
    event["requestContext"].pop("authorizer", None)
    event["requestContext"]["http"].update({"path": path, "method": method, "sourceIp": address})
    event["headers"] = {"content-type": "application/json", "x-snaprace-client": "bench"}
    event["queryStringParameters"] = query
    event["pathParameters"] = None
    event["body"] = json.dumps(body) if body is not None else None
    answer = api.lambda_handler(event, Context())
    if answer["statusCode"] >= 500:
        raise SystemExit(f"{path}: {answer['statusCode']} {answer['body'][:200]}")
    return answer


def addresses():
    n = 0
    while True:
        n += 1
        yield f"198.18.{n // 250 % 250}.{n % 250 + 1}"


def names(runners: int, budget: int) -> dict:
    from pipeline.common import clients
    from pipeline.store import Store
    from pipeline.timing import results_file
    from pipeline.timing import rules as timing
    from snaprace import strangers

    event_names = strangers.runners_with_names(runners)
    rows = ["bib,checkpoint,time,name"] + [
        f"{bib},FINISH,10:00:00,{name}" for bib, name in event_names.items()
    ]
    results = results_file.parse_results(
        "\n".join(rows), results_file.Columns(), datetime.date(2026, 4, 12), timing.event_zone("Asia/Seoul")
    )
    table = Store(clients.dynamodb_table(os.environ["TABLE_NAME"]))
    table.timing.replace_results(ORG, EVENT, results, "results.csv")
    table.settings.put(ORG, EVENT, {"published": True, "nameSearch": "on"})
    sources = addresses()

    def ask(name: str) -> list[dict]:
        answer = request(f"/public/orgs/{ORG}/events/{EVENT}/runners", next(sources), query={"name": name})
        return json.loads(answer["body"]).get("runners", []) if answer["statusCode"] == 200 else []

    prefix = strangers.prefix_walk(ask, budget)
    dictionary = strangers.dictionary_walk(ask, budget)
    shared = Counter(name.casefold() for name in event_names.values())
    return {
        "runners": runners,
        "prefix_walk_recovered": len(prefix),
        "dictionary_walk_recovered": len(dictionary),
        "dictionary_walk_share": round(len(dictionary) / runners, 4),
        "runners_with_a_name_no_other_runner_has": sum(
            1 for n in event_names.values() if shared[n.casefold()] == 1
        ),
    }


def cost(budget: int, cached: bool) -> dict:
    from pipeline.common import clients
    from pipeline.search import photos as search
    from pipeline.store import Store
    from snaprace import strangers
    from snaprace.samples import selfie

    with stack() as (emulator, dynamodb):
        search.FACE_MATCHES_SECONDS = 600 if cached else 0
        table = Store(clients.dynamodb_table(os.environ["TABLE_NAME"]))
        table.settings.put(ORG, EVENT, {"published": True})
        rekognition = clients.rekognition()
        collection = f"snaprace-{STAGE}.{ORG}.{EVENT}"
        popular = [str(3000 + n) for n in range(20)]
        for bib in popular:  # read on 10 photos with the face linked, and seen by face on one more
            for n in range(search.MAX_LINKED_FACES + 1):
                shown = n < search.MAX_LINKED_FACES
                photo_id = f"p{bib}-{n}" if shown else f"p{bib}-face"
                seed = int(bib) * 100 + n
                strangers.index_runner_photo(
                    table, rekognition, collection, ORG, EVENT, photo_id, bib, seed, bib_read=shown
                )
        emulator.calls.clear()
        dynamodb.clear()
        junk = base64.b64encode(selfie(popular[0])).decode()
        sources = addresses()
        statuses: Counter = Counter()
        for n in range(budget):
            kind = n % 10
            if kind < 7:
                path = f"/public/orgs/{ORG}/events/{EVENT}/bibs/{popular[(n // 10 * 7 + kind) % 20]}/photos"
                answer = request(path, next(sources))
            elif kind < 9:
                path = f"/public/orgs/{ORG}/events/{EVENT}/selfie-search"
                answer = request(path, next(sources), "POST", {"consent": True, "image": junk})
            else:
                answer = request(f"/public/orgs/{ORG}/events/{EVENT}/bibs/{90000 + n}/photos", next(sources))
            statuses[answer["statusCode"]] += 1
        rekognition_calls = dict(emulator.calls)
        calls = sum(rekognition_calls.values())
        return {
            "cached": cached,
            "requests": budget,
            "statuses": dict(statuses),
            "rekognition_calls": rekognition_calls,
            "dynamodb_requests": dict(dynamodb),
            "rekognition_usd": round(calls * SEARCHES_USD, 2),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runners", default="150")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    walks = []
    for runners in (int(n) for n in args.runners.split(",")):
        with stack():
            walks.append(names(runners, args.requests))
    baseline, deployed = cost(args.requests, cached=False), cost(args.requests, cached=True)
    for walk in walks:
        print(
            f"{walk['runners']} runners, {args.requests} requests each walk: prefix walk recovered "
            f"{walk['prefix_walk_recovered']}, dictionary walk {walk['dictionary_walk_recovered']} "
            f"({walk['dictionary_walk_share']:.1%}; {walk['runners_with_a_name_no_other_runner_has']} "
            "runners have a name no other runner has)"
        )
    for run in (baseline, deployed):
        label = "face matches cached" if run["cached"] else "baseline, no cache"
        print(
            f"{run['requests']} anonymous requests, {label}: Rekognition {run['rekognition_calls']} "
            f"(${run['rekognition_usd']}), DynamoDB {run['dynamodb_requests']}, answers {run['statuses']}"
        )
    saved = baseline["rekognition_usd"] / max(deployed["rekognition_usd"], 0.0013)
    print(f"Rekognition spend: {saved:.0f} x less with the cache")
    if args.json:
        print(json.dumps({"names": walks, "cost": {"baseline": baseline, "cached": deployed}}))


if __name__ == "__main__":
    main()
