"""The app in a real browser: Debian's Chromium driven by Playwright against `onrecord ui` on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from llm_servers import free_port

# Debian's chromium on PATH, or wherever ONRECORD_CHROMIUM points.
CHROMIUM = shutil.which(os.environ.get("ONRECORD_CHROMIUM", "chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
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
        server = subprocess.Popen([sys.executable, "-m", "ui", "--archive", str(sample_archive), "ui", "--port",
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


def test_library_search_and_play_a_hit(page, app_url, sample_archive):
    page.goto(f"{app_url}/")
    page.get_by_text("rockets-interview").first.wait_for()
    page.screenshot(path=OUTPUT / "library.png", full_page=True)
    assert page.get_by_text("Deploy", exact=True).count() == 0, "Streamlit's developer chrome is hidden"

    query = "how does the booster land"
    hit = json.loads(run_cli("--archive", str(sample_archive), "search", query, "--json").stdout)[0]
    page.get_by_role("link", name="Search").click()
    page.get_by_label("What was said?").fill(query)
    page.keyboard.press("Enter")
    page.get_by_role("button", name="▶ Play").first.click()
    t = _media_time(page)
    page.screenshot(path=OUTPUT / "search.png", full_page=True)
    assert hit["start"] - 1 <= t <= hit["start"] + 2, (t, hit["start"])


def test_interview_timestamp_plays_from_there(page, app_url, sample_archive):
    listed = json.loads(run_cli("--archive", str(sample_archive), "list", "--json").stdout)
    rockets = next(i["id"] for i in listed if i["title"] == "rockets-interview")
    page.goto(f"{app_url}/")
    # Streamlit streams a page in element by element; the card's own keyed button is there once it is drawn.
    page.locator(f".st-key-open-{rockets} button").click()
    page.get_by_role("heading", name="rockets-interview").wait_for()
    stamp = page.get_by_role("button", name="00:2").first  # a transcript timestamp twenty-something seconds in
    label = stamp.inner_text().strip()
    stamp.click()
    page.wait_for_timeout(1000)
    t = _media_time(page)
    seconds = int(label[:2]) * 60 + int(label[3:5])
    page.screenshot(path=OUTPUT / "interview.png", full_page=True)
    assert seconds - 1 <= t <= seconds + 2, (t, label)


def test_ask_and_play_a_quote_chip(page, app_url):
    page.goto(f"{app_url}/ask")
    page.get_by_placeholder("Ask about what was said…").fill("how do they bring the booster back?")
    page.keyboard.press("Enter")
    chip = page.get_by_role("button", name="▶ ").first
    chip.wait_for()
    label = chip.inner_text().strip()  # "▶ 00:20–00:28"
    chip.click()
    page.wait_for_timeout(1000)
    t = _media_time(page)
    start = int(label[2:4]) * 60 + int(label[5:7])
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
    write_up = page.get_by_role("button", name="Write up the topics")
    if write_up.count():  # another test may have written it up already
        write_up.click()
    sponsor = page.locator("details", has=page.locator("summary", has_text="Sponsor"))
    sponsor.first.wait_for()
    assert sponsor.first.get_attribute("open") is None, "a sponsor read is shown collapsed"
    opened = page.locator("details[open]").first
    assert opened.get_by_role("button", name="▶ ").count() >= 1, "the first topic opens with quotes to play"
    assert page.get_by_role("button", name="Write up the topics").count() == 0
    sponsor.first.scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "writeup.png")
