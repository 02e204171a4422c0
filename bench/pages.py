"""The runner page on the local stack: its transfer size, and the time to its first results.

    python bench/pages.py [--photos 30] [--runs 5] [--json]

Starts a local stack (scripted engine), uploads --photos runner photos to a published event, then
in Debian's chromium (Playwright) opens the runner page --runs times, each in a fresh browser
context (nothing cached): `first_photo_ms` is from navigation to the first gallery thumbnail
decoded; the baseline, in the same process, is the page's own API call made directly
(`api_ms`: the gallery's JSON over HTTP, no browser), so `ratio` = page / API says what the page
adds. Medians. `page_bytes` is what the page itself transfers (HTML, script, style sheet; the photos
are the event's and not counted), `photos_bytes` the first screen's thumbnails. --json prints one
object on the last line.
"""

import argparse
import json
import shutil
import statistics
import time
import urllib.request
from pathlib import Path

from snaprace import operations
from snaprace.local.launch import launch
from snaprace.samples import race_photo, runner_groups
from snaprace.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
ORG, EVENT = "bench", "pages-marathon"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if not chromium:
        print("chromium is not installed (make browser)")
        return 2
    from playwright.sync_api import sync_playwright

    work = ROOT / ".snaprace" / "pages-bench"
    work.mkdir(parents=True, exist_ok=True)
    local = launch(work / "local.log", "--engine", "scripted")
    try:
        stack = Stack(endpoint_url=local.endpoint)
        for index, group in enumerate(runner_groups(args.photos, 7)):
            data, _ = race_photo(70_000 + index, group)
            stack.client("s3").put_object(
                Bucket=stack.bucket, Key=f"{ORG}/{EVENT}/raw/{index:04d}.jpg", Body=data
            )
        operations.wait(stack, ORG, EVENT, timeout=300, interval=0.5)
        operations.event_settings(stack, ORG, EVENT, published=True)
        api = stack.output("ApiUrl").rstrip("/")
        page_url = f"{api}/e/{ORG}/{EVENT}"
        api_ms, page_ms, sizes = [], [], {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
            )
            for _ in range(args.runs):
                started = time.perf_counter()
                gallery = f"{api}/public/orgs/{ORG}/events/{EVENT}/photos?limit=24"
                request = urllib.request.Request(gallery, headers={"x-snaprace-client": "bench"})  # noqa: S310
                with urllib.request.urlopen(request) as answer:  # noqa: S310 - the local stack
                    answer.read()
                api_ms.append((time.perf_counter() - started) * 1000)
                # bypass_csp: the page forbids eval, which Playwright's wait_for_function uses
                context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
                page = context.new_page()
                sizes.clear()
                page.on("response", lambda response: sizes.__setitem__(response.url, len(response.body())))
                started = time.perf_counter()
                page.goto(page_url)
                page.wait_for_function(
                    "document.querySelector('#photos img') && document.querySelector('#photos img').complete"
                )
                page_ms.append((time.perf_counter() - started) * 1000)
                page.wait_for_load_state("networkidle")
                context.close()
            browser.close()
        own = sum(size for url, size in sizes.items() if "/e/" in url or "/assets/" in url)
        photos = sum(size for url, size in sizes.items() if "/thumbnails/" in url)
        result = {
            "photos": args.photos,
            "first_photo_ms": round(statistics.median(page_ms)),
            "api_ms": round(statistics.median(api_ms), 1),
            "ratio": round(statistics.median(page_ms) / statistics.median(api_ms), 1),
            "page_bytes": own,
            "photos_bytes": photos,
        }
    finally:
        local.stop()
    print(
        f"runner page: first photo in {result['first_photo_ms']} ms (median of {args.runs}; the gallery API "
        f"alone {result['api_ms']} ms, x{result['ratio']}); the page transfers {result['page_bytes']} bytes, "
        f"the first screen's thumbnails {result['photos_bytes']}"
    )
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
