"""The app in a real browser: Debian's Chromium driven by Playwright against `onrecord ui` on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ONRECORD, ROOT, run_cli
from llm_servers import free_port

pytestmark = pytest.mark.browser

# Debian's chromium on PATH, or wherever ONRECORD_CHROMIUM points.
CHROMIUM = shutil.which(os.environ.get("ONRECORD_CHROMIUM", "chromium"))
# Autoplay allowed: a page that started audio by itself would be heard, so the tests that it never does can fail.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required"]
OUTPUT = Path(os.environ.get("ONRECORD_TEST_OUTPUT", ROOT / "tests" / "output")) / "browser"


@pytest.fixture(scope="module")
def app_url(sample_archive, model_cache, tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not on PATH (apt-get install chromium, or set ONRECORD_CHROMIUM)")
        pytest.skip("chromium is not on PATH (apt-get install chromium, or set ONRECORD_CHROMIUM)")
    port = free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    env = {**os.environ, "XDG_CACHE_HOME": str(model_cache)}
    with open(log, "w") as out:
        server = subprocess.Popen([*ONRECORD, "--archive", str(sample_archive), "ui", "--port",
                                   str(port)], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_healthy(url: str, server, log: Path, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("the app did not start: " + log.read_text()[-2000:])


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def _media_time(page) -> float:
    page.wait_for_selector("audio, video", state="attached")
    page.wait_for_function("() => { const m = document.querySelector('audio, video'); return m && m.readyState >= 1 }")
    return page.evaluate("() => document.querySelector('audio, video').currentTime")


def _playing(page) -> list[bool]:
    """For each player on the page: is it playing?"""
    return page.evaluate("() => [...document.querySelectorAll('audio, video')].map(m => !m.paused)")


def _id(sample_archive, title: str) -> str:
    listed = json.loads(run_cli("--archive", str(sample_archive), "list", "--json").stdout)
    return next(i["id"] for i in listed if i["title"] == title)


def _here(page) -> tuple[float, float]:
    """The highlighted paragraph's start, and the next paragraph's (or infinity)."""
    return page.evaluate("""() => {
        const here = document.querySelector('.or-para.or-here'), next = here.nextElementSibling;
        return [parseFloat(here.dataset.start), next ? parseFloat(next.dataset.start) : 1e9];
    }""")


def test_search_plays_a_hit_once_and_a_second_search_starts_silent(page, app_url, sample_archive):
    page.goto(f"{app_url}/")
    page.get_by_text("rockets-interview").first.wait_for()
    page.screenshot(path=OUTPUT / "library.png", full_page=True)
    assert page.get_by_text("Deploy", exact=True).count() == 0, "Streamlit's developer chrome is hidden"

    query = "how does the booster land"
    hit = json.loads(run_cli("--archive", str(sample_archive), "search", query, "--json").stdout)[0]
    page.get_by_role("link", name="Search").click()
    page.get_by_label("What was said?").fill(query)
    page.keyboard.press("Enter")
    page.locator(".st-key-play-0 button").click()
    t = _media_time(page)
    page.wait_for_function("() => { const m = document.querySelector('audio, video'); return !m.paused || m.ended }")
    page.screenshot(path=OUTPUT / "search.png", full_page=True)
    assert hit["start"] - 1 <= t <= hit["start"] + 2, (t, hit["start"])
    assert "q=how+does+the+booster+land" in page.url or "q=how%20does" in page.url, page.url

    page.get_by_label("What was said?").fill("why does reuse matter")
    page.keyboard.press("Enter")
    page.get_by_text("reuse", exact=False).first.wait_for()
    page.wait_for_timeout(1500)
    assert not any(_playing(page)), "a second search never plays by itself"


def test_a_deep_link_cues_the_reader_which_follows_playback(page, app_url, sample_archive):
    rockets = _id(sample_archive, "rockets-interview")
    page.goto(f"{app_url}/interview?id={rockets}&t=20")
    page.locator(".or-para.or-here").wait_for()
    start, following = _here(page)
    assert start <= 20 < following, "the linked moment's paragraph is highlighted"
    assert 19.5 <= _media_time(page) <= 21 and not any(_playing(page)), "cued there, silent until pressed"
    page.screenshot(path=OUTPUT / "reader-deep-link.png")
    src = page.evaluate("() => document.querySelector('audio').currentSrc")
    assert src.startswith(f"{app_url}/api/media/"), "the app's own route streams it, not a copy in memory"
    part = page.request.get(src, headers={"Range": "bytes=100-199"})
    assert part.status == 206 and len(part.body()) == 100

    page.evaluate("() => document.querySelector('audio').play()")  # the user presses the player's play
    page.wait_for_timeout(3000)
    t = page.evaluate("() => document.querySelector('audio').currentTime")
    assert 21 <= t <= 25, t
    now = page.evaluate("() => parseFloat(document.querySelector('.or-seg.or-now').parentElement"
                        ".closest('.or-para').dataset.start)")
    assert now <= t, "the highlight follows what is being said"
    assert page.locator(".or-word-now").count() == 1, "word by word, where word times are known"
    page.screenshot(path=OUTPUT / "reader-playing.png")

    first = page.locator(".or-seg").first
    first.click()  # clicking a sentence plays from there, and the URL keeps the moment
    page.wait_for_timeout(500)
    assert page.evaluate("() => document.querySelector('audio').currentTime") < 3
    assert "t=0" in page.url and f"id={rockets}" in page.url
    page.evaluate("() => document.querySelector('audio').pause()")

    page.get_by_placeholder("Find in transcript").fill("booster")
    page.locator("mark.or-match-now").wait_for()
    assert page.locator(".or-count").inner_text().startswith("1 of ")
    page.screenshot(path=OUTPUT / "reader-find.png")


def test_a_hit_opens_the_reader_on_its_moment_and_the_url_follows(page, app_url, sample_archive):
    page.goto(f"{app_url}/search?q=volunteers+in+the+garden")
    page.locator(".st-key-hit-0").wait_for()
    hit = json.loads(run_cli("--archive", str(sample_archive), "search", "volunteers in the garden",
                             "--json").stdout)[0]
    page.locator(".st-key-hit-0").get_by_role("link", name="Open in transcript").click()
    page.locator(".or-para.or-here").wait_for()
    assert f"id={hit['interview_id']}" in page.url and f"t={int(hit['start'])}" in page.url, page.url
    start, following = _here(page)
    assert start <= int(hit["start"]) < following
    assert page.locator(".st-key-reader-player audio").count() == 0, "a transcript has a reader, no player"
    page.screenshot(path=OUTPUT / "reader-transcript.png")

    def rename(who: str, name: str) -> None:  # click a name in the transcript, type the new one
        page.locator(".or-who", has_text=who).first.click()
        page.get_by_role("dialog").get_by_role("textbox", name="Name").fill(name)
        page.get_by_role("dialog").get_by_role("button", name="Rename").click()
        page.locator(".or-who", has_text=name).first.wait_for()

    rename("Interviewer", "Sam Lee")
    page.screenshot(path=OUTPUT / "reader-renamed.png")
    assert page.locator(".or-who", has_text="Interviewer").count() == 0
    rename("Sam Lee", "Interviewer")  # the label undoes it: the shared sample archive is as it was

    page.get_by_label("Interview").click()
    page.keyboard.type("ocean")  # typing opens the list even when the click only focused the box
    page.get_by_role("option", name="ocean-podcast").click()
    page.get_by_role("heading", name="ocean-podcast").wait_for()
    page.wait_for_function(f"() => location.search.includes('id={_id(sample_archive, 'ocean-podcast')}')")
    assert "t=" not in page.url and not any(_playing(page))


def test_ask_and_play_a_quote_chip(page, app_url):
    page.goto(f"{app_url}/ask")
    page.get_by_placeholder("Ask about what was said…").fill("how do they bring the booster back?")
    page.keyboard.press("Enter")
    chip = page.locator(".st-key-ask0-q1 button")
    chip.wait_for()
    label = chip.inner_text().strip().split()[-1]  # "00:20–00:28" after the icon
    chip.click()
    page.wait_for_timeout(1000)
    t = _media_time(page)
    start = int(label[0:2]) * 60 + int(label[3:5])
    page.screenshot(path=OUTPUT / "ask.png", full_page=True)
    assert start - 1 <= t <= start + 2, (t, label)
    for name in ("Topics", "Add", "Settings"):
        page.get_by_role("link", name=name).click()
        page.get_by_role("heading", name=name if name != "Add" else "Add interviews").wait_for()
        page.screenshot(path=OUTPUT / f"{name.lower()}.png", full_page=True)


def test_write_up_shows_topics_with_the_ad_set_aside(page, app_url, sample_archive):
    listed = json.loads(run_cli("--archive", str(sample_archive), "list", "--json").stdout)
    ocean = next(i["id"] for i in listed if i["title"] == "ocean-podcast")
    page.goto(f"{app_url}/")
    page.locator(f".st-key-open-{ocean} button").click()
    page.get_by_role("heading", name="ocean-podcast").wait_for()
    page.get_by_role("heading", name="Export").wait_for()  # drawn after the topics (or their button)
    write_up = page.get_by_role("button", name="Write up the topics")
    if write_up.count():  # another test may have written it up already
        write_up.click()
    sponsor = page.locator("details", has=page.locator("summary", has_text="Sponsor"))
    sponsor.first.wait_for(timeout=180_000)  # the first write-up loads its models
    assert sponsor.first.get_attribute("open") is None, "a sponsor read is shown collapsed"
    assert f"id={ocean}" in page.url, "the URL follows the interview opened from the library"
    opened = page.locator("details[open]").first
    chip = opened.locator("[class*='-q1'] button").first
    assert chip.count() == 1, "the first topic opens with quotes to play"
    assert page.get_by_role("button", name="Write up the topics").count() == 0
    page.get_by_role("button", name="Download SRT").scroll_into_view_if_needed()
    box = page.locator(".st-key-reader-player audio").bounding_box()
    assert box and 0 <= box["y"] <= 900 - box["height"], "the one player stays in view as the page scrolls"
    page.screenshot(path=OUTPUT / "writeup.png")
    label = chip.inner_text().strip().split()[-1]  # "01:09–01:15" after the icon
    chip.click()  # a quote moves the page's one player there and plays it
    page.wait_for_function("() => !document.querySelector('audio').paused")
    t = page.evaluate("() => document.querySelector('audio').currentTime")
    start = int(label[0:2]) * 60 + int(label[3:5])
    assert page.locator("audio").count() == 1 and start - 1 <= t <= start + 3, (t, label)
    page.evaluate("() => document.querySelector('audio').pause()")
