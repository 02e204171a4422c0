"""The runner's page and the organiser's page in a real browser: Debian's chromium, driven by
Playwright, against the local stack (the pages and the API it serves at the deployed paths).

Screenshots at 360 and 1280 px wide go to docs/screenshots/ (the README shows them)."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from local_stack import ROOT, next_seed

from snaprace.cli import main
from snaprace.samples import Runner, race_photo, selfie

ORG = "acme"
EVENT = "e2e-pages-marathon"
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="chromium is not installed (make browser)"
)


def snaprace(running, *args: str):
    return CliRunner().invoke(main, ["--endpoint-url", running.endpoint, *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def event(local_stack) -> dict:
    """A published event of 27 photos (more than a gallery page): runner 6101 on three of them,
    once with the bib hidden; and runner 6101's personal link."""
    shots = [[Runner("6101")], [Runner("6101"), Runner("6102")], [Runner("6101", show_bib=False)]]
    shots += [[Runner(str(6110 + n))] for n in range(24)]
    for index, runners in enumerate(shots):
        data, _ = race_photo(next_seed(), runners)
        local_stack.put(ORG, EVENT, f"IMG_{index:02d}.jpg", data)
    local_stack.wait(ORG, EVENT, timeout=180)
    dated = ("--date", "2026-04-12", "--timezone", "Asia/Seoul", "--publish")
    assert snaprace(local_stack, "event-settings", "--org", ORG, "--event", EVENT, *dated).exit_code == 0
    results = local_stack.log_file.parent / "pages-results.csv"
    results.write_text(
        "bib,checkpoint,time,name\n6101,FINISH,10:02:03,Ana Lima\n6102,FINISH,10:02:05,Ana Souza\n"
    )
    assert (
        snaprace(local_stack, "timing", "import", "--org", ORG, "--event", EVENT, str(results)).exit_code == 0
    )
    bibs = local_stack.log_file.parent / "pages-bibs.txt"
    bibs.write_text("6101\n")
    links = snaprace(local_stack, "runner-links", "--org", ORG, "--event", EVENT, "--bibs", str(bibs))
    link = links.stdout.splitlines()[1].split(",")[1]
    url = snaprace(local_stack, "web-url", "--org", ORG, "--event", EVENT).stdout.strip()
    return {"url": url, "link": link}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=False)


def test_the_gallery_shows_the_newest_photos_and_loads_more_as_one_scrolls(phone, event):
    phone.goto(event["url"])
    photos = phone.locator("#photos li")
    photos.nth(23).wait_for()
    assert photos.count() == 24  # one page
    assert phone.locator("#photos img").first.get_attribute("alt").startswith("Race photo, bib ")
    shot(phone, "runner-gallery-360")
    phone.locator("#photos li").last.scroll_into_view_if_needed()
    phone.mouse.wheel(0, 5000)
    photos.nth(26).wait_for()
    assert photos.count() == 27


def test_a_bib_search_a_deep_link_and_the_photo_view_with_its_download(phone, event):
    phone.goto(event["url"])
    phone.get_by_label("Your bib number").fill("6101")
    phone.keyboard.press("Enter")  # the form works from the keyboard
    phone.get_by_text("3 photos of bib 6101").wait_for()
    assert "?bib=6101" in phone.url
    assert phone.locator("#photos .tag").all_inner_texts().count("found by face") == 1  # bib hidden there
    phone.locator("#photos li button").first.click()
    download = phone.locator("#download").get_attribute("href")
    assert "response-content-disposition=attachment" in download and "X-Amz-Signature=" in download
    shot(phone, "runner-photo-360")
    phone.get_by_role("button", name="Close").click()

    phone.goto(event["url"] + "?bib=6102")  # a shared link opens straight onto that bib
    phone.get_by_text("1 photo of bib 6102").wait_for()
    assert phone.get_by_label("Your bib number").input_value() == "6102"


def test_a_runner_finds_their_photos_by_their_full_name(phone, event, local_stack):
    """Name search is the organiser's choice; it answers one runner's full name and nothing else:
    a first name two runners share, or half a name, is no answer (no directory of runners)."""
    phone.goto(event["url"])
    phone.get_by_label("Your bib number").fill("Ana Lima")  # off (the default): a name is no bib
    phone.keyboard.press("Enter")
    phone.get_by_text('"Ana Lima" is not a bib number').wait_for()
    on = ("event-settings", "--org", ORG, "--event", EVENT, "--name-search", "on")
    assert "name search on" in snaprace(local_stack, *on).output
    try:
        phone.goto(event["url"])
        phone.get_by_label("Your bib number or name").fill("ana lima")
        phone.keyboard.press("Enter")
        phone.get_by_text("3 photos of bib 6101").wait_for()
        shot(phone, "runner-name-360")
        phone.get_by_label("Your bib number or name").fill("SOUZA ANA")  # any order, no accents or case
        phone.keyboard.press("Enter")
        phone.get_by_text("1 photo of bib 6102").wait_for()
        for text in ("Ana", "Ana L", "Nobody Here"):
            phone.get_by_label("Your bib number or name").fill(text)
            phone.keyboard.press("Enter")
            phone.get_by_text(f'No single runner named "{text}" in the results').wait_for()
    finally:
        off = ("event-settings", "--org", ORG, "--event", EVENT, "--name-search", "off")
        snaprace(local_stack, *off)


def test_empty_and_error_states_say_what_to_do(phone, event, local_stack):
    phone.goto(event["url"])
    phone.get_by_label("Your bib number").fill("12-34!")
    phone.get_by_role("button", name="Find my photos").click()
    assert "is not a bib number" in phone.locator("#status").inner_text()
    phone.get_by_label("Your bib number").fill("9999")
    phone.get_by_role("button", name="Find my photos").click()
    phone.get_by_text("No photos of bib 9999 yet").wait_for()
    shot(phone, "runner-no-results-360")

    phone.route("**/bibs/*/photos", lambda route: route.fulfill(
        status=429, headers={"Retry-After": "42"}, content_type="application/json",
        body=json.dumps({"message": "too many requests: try again in 42 s"}),
    ))  # fmt: skip
    phone.get_by_role("button", name="Find my photos").click()
    phone.get_by_text("Too many searches from here: try again in 42 seconds.").wait_for()
    phone.unroute("**/bibs/*/photos")

    phone.goto(event["url"].replace(EVENT, "e2e-pages-unknown"))  # unknown and unpublished alike
    phone.get_by_text("No photos here yet").wait_for()
    assert phone.locator("#search").is_hidden()
    shot(phone, "runner-closed-360")

    phone.goto(event["url"])  # verified selfie mode and no link: the page says where the link is
    phone.get_by_text("Selfie search opens with your personal link").wait_for()
    assert phone.locator("#selfie-box").is_hidden()


def test_a_runners_link_opens_the_selfie_search_after_consent(phone, event, tmp_path):
    picture = tmp_path / "me.jpg"
    picture.write_bytes(selfie("6101"))
    phone.goto(event["link"])
    assert phone.locator("#selfie").is_disabled()  # nothing can be sent before consent
    phone.get_by_label("I agree").check()
    phone.locator("#selfie").set_input_files(str(picture))
    phone.get_by_text("3 photos with your face").wait_for()
    assert phone.locator("#photos li").count() == 3
    shot(phone, "runner-selfie-360")

    faceless, _ = race_photo(next_seed(), [Runner("6199", show_face=False)], width=600, height=800)
    picture.write_bytes(faceless)
    phone.locator("#selfie").set_input_files(str(picture))
    phone.get_by_text("no face was found in the selfie").wait_for()


def test_face_search_off_leaves_the_bib_search(phone, event, local_stack):
    other = "e2e-pages-no-faces"
    data, _ = race_photo(next_seed(), [Runner("6301")])
    local_stack.put(ORG, other, "IMG_0.jpg", data)
    local_stack.wait(ORG, other)
    snaprace(local_stack, "event-settings", "--org", ORG, "--event", other, "--publish", "--faces", "off")
    phone.goto(event["url"].replace(EVENT, other))
    phone.get_by_text("turned face search off").wait_for()
    assert phone.locator("#selfie-box").is_hidden() and phone.locator("#bib-form").is_visible()


def test_the_organisers_page_shows_progress_and_makes_a_correction(browser, event, local_stack):
    made = snaprace(local_stack, "org-key", "create", "--org", ORG, "--json")
    key = json.loads(made.stdout.strip().splitlines()[-1])["key"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(event["url"].replace("/e/", "/o/"))
    page.get_by_label("Organiser key").fill("snr.acme.wrong")
    page.get_by_role("button", name="Open").click()
    page.get_by_text("This key does not open this event").wait_for()
    page.get_by_label("Organiser key").fill(key)
    page.get_by_role("button", name="Open").click()
    page.locator("#counts [data-count=indexed] b").wait_for()
    assert page.locator("#counts [data-count=indexed] b").inner_text() == "27"
    assert page.locator("#counts [data-count=raw] b").inner_text() == "27"
    assert page.get_by_label("Published").is_checked()
    hidden = page.locator("#queue li", has_text="IMG_02.jpg")  # 6101 with the bib hidden
    hidden.get_by_text("faces, and no bib read").wait_for()
    shot(page, "organiser-1280")
    hidden.get_by_label("Bibs to add to IMG_02.jpg").fill("6101")
    hidden.get_by_role("button", name="Save").click()
    page.get_by_text("Saved: bibs 6101.").wait_for()
    page.locator("#queue li", has_text="IMG_02.jpg").wait_for(state="detached")  # the queue reloads
    page.get_by_label("Bib range").fill("6000-6999")
    assert not page.get_by_label("Name search").is_checked()  # off until the organiser says so
    page.get_by_label("Name search").check()
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()
    saved = local_stack.stack.photo_table.settings.get(ORG, EVENT)
    assert (saved["bibFirst"], saved["bibLast"], saved["published"]) == (6000, 6999, True)
    assert saved["nameSearch"] == "on"
    page.get_by_label("Name search").uncheck()
    with page.expect_response(lambda answer: answer.request.method == "PUT" and answer.ok):
        page.get_by_role("button", name="Save settings").click()
    assert "nameSearch" not in local_stack.stack.photo_table.settings.get(ORG, EVENT)
    context.close()

    runner = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    runner.goto(event["url"] + "?bib=6101")
    runner.get_by_text("3 photos of bib 6101").wait_for()  # the hidden bib is a bib now, not a face
    assert "found by face" not in runner.locator("#photos").inner_text()
    shot(runner, "runner-bib-1280")
