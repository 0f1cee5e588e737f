"""Podcast feeds served from a real loopback HTTP server, and a watched folder, through the real `onrecord` CLI."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ONRECORD, ROOT, SAMPLES, json_lines, run_cli
from onrecord.ingest.captions import parse_srt, parse_vtt
from onrecord.search.config import Settings
from onrecord.search.store import open_archive
from onrecord.search.store.archive import interview_from_doc

GARDENING = SAMPLES / "transcripts" / "gardening.vtt"
CHESS = SAMPLES / "transcripts" / "chess-podcast.srt"


@dataclass
class Site:
    url: str
    folder: Path
    requests: list[str] = field(default_factory=list)

    def fetched(self) -> list[str]:
        """The paths asked for since the last call."""
        got, self.requests[:] = list(self.requests), []
        return got


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.setenv("ONRECORD_ALLOW_PRIVATE_URLS", "true")  # the feeds are on loopback, refused by default
    folder = tmp_path / "site"
    folder.mkdir()
    served = Site("", folder)

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".vtt": "text/vtt"}

        def do_GET(self):
            served.requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield served
    server.shutdown()


def _item(site: Site, title: str, guid: str, published: str, *, audio: str | None = None,
          transcript: tuple[str, str] | None = None) -> str:
    parts = [f"<title>{title}</title>", f'<guid isPermaLink="false">{guid}</guid>', f"<pubDate>{published}</pubDate>"]
    if audio:
        parts.append(f'<enclosure url="{site.url}/{audio}" type="audio/mpeg" length="1000"/>')
    if transcript:
        parts.append('<podcast:transcript url="https://example.com/no-timings.html" type="text/html"/>')
        parts.append(f'<podcast:transcript url="{site.url}/{transcript[0]}" type="{transcript[1]}"/>')
    return "<item>" + "".join(parts) + "</item>"


def _write_feed(site: Site, name: str, items: list[str], show: str = "Small Spaces Radio") -> str:
    (site.folder / name).write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">'
        f"<channel><title>{show}</title><link>https://example.com/show</link>{''.join(items)}</channel></rss>")
    return f"{site.url}/{name}"


def _listed() -> dict[str, dict]:
    done = run_cli("list", "--json")
    assert done.returncode == 0, done.stderr
    return {item["title"]: item for item in json.loads(done.stdout)}


def _text(interview_id: str) -> list[str]:
    """The stored transcript, read in this process (a CLI process per read costs seconds)."""
    archive = open_archive(Settings())
    archive.refresh()  # see what the CLI processes committed
    return [s.text for s in archive.segments(archive.get(interview_id))]


@pytest.mark.models
def test_a_feed_is_ingested_episode_by_episode_and_rereading_it_adds_only_new_ones(site):
    shutil.copy(SAMPLES / "coffee-interview.ogg", site.folder / "coffee.ogg")
    shutil.copy(SAMPLES / "rockets-interview.mp3", site.folder / "gardening.mp3")  # there, but never fetched
    shutil.copy(GARDENING, site.folder / "gardening.vtt")
    shutil.copy(CHESS, site.folder / "chess.srt")
    items = [
        _item(site, "Gardening on a roof", "ep-2", "Mon, 09 Mar 2026 08:00:00 GMT", audio="gardening.mp3",
              transcript=("gardening.vtt", "text/vtt")),
        # Published late in the evening in New York: the publisher's own date, not the next day in UTC.
        # Its transcript is gone (404): the audio is transcribed instead, and the result says so.
        _item(site, "Coffee with a roaster", "ep-1", "Mon, 02 Mar 2026 23:30:00 -0500", audio="coffee.ogg",
              transcript=("coffee.vtt", "text/vtt")),
    ]
    feed = _write_feed(site, "feed.xml", items)  # served as text/xml, no feed content type: read to tell

    done = run_cli("ingest", feed, "--no-diarize", "--json")
    assert done.returncode == 0, done.stderr
    results = json_lines(done.stdout)
    assert [r["status"] for r in results] == ["added", "added"]
    assert "transcript was not usable (download failed: HTTP 404" in results[1]["notice"]
    assert "2 episodes" in done.stderr and "Coffee with a roaster" in done.stderr, "progress per episode on stderr"
    assert "/gardening.mp3" not in site.fetched(), "an episode with a transcript is not downloaded or transcribed"
    listed = _listed()
    assert set(listed) == {"Gardening on a roof", "Coffee with a roaster"}
    coffee, garden = listed["Coffee with a roaster"], listed["Gardening on a roof"]
    assert (coffee["date"], garden["date"]) == ("2026-03-02", "2026-03-09")
    assert coffee["show"] == garden["show"] == "Small Spaces Radio"
    assert coffee["kind"] == "url" and coffee["media"] == f"{site.url}/coffee.ogg" and coffee["segments"] > 0
    assert garden["kind"] == "transcript" and garden["media"] == f"{site.url}/gardening.mp3"
    assert _text(garden["id"]) == [s.text for s in parse_vtt(GARDENING.read_text(), "").segments]
    assert "coffee" in " ".join(_text(coffee["id"])).lower(), "the audio episode was transcribed"

    items.insert(0, _item(site, "Chess for grown-ups", "ep-3", "Mon, 16 Mar 2026 08:00:00 GMT",
                          transcript=("chess.srt", "application/x-subrip")))
    _write_feed(site, "feed.xml", items)
    again = run_cli("ingest", feed, "--no-diarize", "--json")
    assert again.returncode == 0, again.stderr
    assert [r["status"] for r in json_lines(again.stdout)] == ["added", "skipped", "skipped"]
    assert sorted(site.fetched()) == ["/chess.srt", "/feed.xml"], "episodes already in the archive are not fetched"
    listed = _listed()
    assert len(listed) == 3
    chess = listed["Chess for grown-ups"]
    assert chess["date"] == "2026-03-16" and chess["show"] == "Small Spaces Radio" and chess["kind"] == "transcript"
    assert chess["media"] == f"{site.url}/chess.srt"
    assert _text(chess["id"]) == [s.text for s in parse_srt(CHESS.read_text(), "").segments]


def test_limit_takes_the_newest_episodes_and_a_broken_enclosure_is_one_error_line(site):
    pieces = [{"speaker": "Ann", "startTime": 0.0, "endTime": 0.4, "body": "Welcome"},
              {"speaker": "Ann", "startTime": 0.4, "endTime": 0.9, "body": "back."},
              {"speaker": "Bo", "startTime": 1.5, "endTime": 4.0, "body": "Glad to be here talking about soup."}]
    (site.folder / "soup.json").write_text(json.dumps({"version": "1.0.0", "segments": pieces}))
    shutil.copy(GARDENING, site.folder / "gardening.vtt")
    # Oldest first in the file, and served with no extension (application/octet-stream): found by parsing it.
    feed = _write_feed(site, "podcast", [
        _item(site, "Oldest", "old", "Mon, 02 Mar 2026 08:00:00 GMT", transcript=("gardening.vtt", "text/vtt")),
        _item(site, "Soup", "soup", "Mon, 09 Mar 2026 08:00:00 GMT", transcript=("soup.json", "application/json")),
        _item(site, "The missing one", "gone", "Tue, 10 Mar 2026 08:00:00 GMT", audio="missing.mp3"),
    ])
    done = run_cli("ingest", feed, "--limit", "2", "--no-diarize")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert f"{site.url}/missing.mp3" in error and "The missing one" in error and "404" in error
    assert "/gardening.vtt" not in site.fetched(), "--limit 2: the oldest episode is left alone"
    [soup] = _listed().values()
    assert soup["title"] == "Soup" and soup["show"] == "Small Spaces Radio" and soup["date"] == "2026-03-09"
    assert _text(soup["id"]) == ["Welcome back.", "Glad to be here talking about soup."]


def test_records_written_before_shows_existed_still_load():
    old = {"id": "0123456789abcdef", "title": "Old", "source": "a.vtt", "kind": "transcript", "media": None,
           "duration": 3.0, "language": "en", "speakers": [], "segments": 1, "chunks": 1,
           "created": "2025-01-01T00:00:00+00:00", "date": None, "names": {}, "recognised": {}}
    interview = interview_from_doc(json.dumps(old))
    assert interview.show is None and interview.as_json()["show"] is None


def test_a_watched_folder_takes_each_file_once_it_is_complete_and_ctrl_c_exits_cleanly(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(GARDENING, inbox / "gardening.vtt")  # there before the watch starts
    watcher = subprocess.Popen([*ONRECORD, "ingest", "--watch", str(inbox)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(watcher.stdout), daemon=True).start()
    try:
        _wait_for(lambda: any("gardening" in line for line in lines), "the file already there")
        chess = CHESS.read_text()
        with open(inbox / "chess-podcast.srt", "w") as f:  # written in two parts, three seconds apart
            f.write(chess[:len(chess) // 2])
            f.flush()
            time.sleep(3)
            assert len(lines) == 1, f"a file still being written was taken: {lines}"
            f.write(chess[len(chess) // 2:])
        listed = _listed_once("chess-podcast")
        assert listed["chess-podcast"]["segments"] == len(parse_srt(chess, "").segments)
        outside = tmp_path / "elsewhere.vtt"  # written elsewhere, then moved in: no writer ever closes it here
        outside.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nMoved in whole, never written here.\n")
        os.rename(outside, inbox / "moved.vtt")
        _wait_for(lambda: any("moved" in line for line in lines), "a file moved in")
        assert len(lines) == 3 and all(line.startswith("added") for line in lines), lines
    finally:
        watcher.send_signal(signal.SIGINT)
        _, stderr = watcher.communicate(timeout=90)
    assert watcher.returncode == 0, stderr
    assert "Traceback" not in stderr and "stopped watching" in stderr


def _listed_once(title: str, timeout: float = 90) -> dict[str, dict]:
    """`list --json`, polled until `title` is in it."""
    deadline = time.monotonic() + timeout
    while title not in (listed := _listed()):
        assert time.monotonic() < deadline, f"timed out waiting for {title} in `list --json`"
        time.sleep(0.5)
    return listed


def _wait_for(condition, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)
