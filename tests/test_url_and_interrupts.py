"""URLs through yt-dlp against a real loopback server; interrupted ingests leave nothing visible."""

from __future__ import annotations

import functools
import json
import http.server
import socket
import threading

import pytest

from conftest import SAMPLES, json_lines, run_cli
from onrecord.ingest.pipeline import Ingestor
from onrecord.ingest.sources import expand
from onrecord.ingest.transcribe import TranscribeOptions, WhisperTranscriber
from onrecord.search.config import Settings
from onrecord.search.retrieval.embedder import embedder_for
from onrecord.search.store import open_archive
from onrecord.search.timefmt import format_timestamp


@pytest.fixture
def media_server(monkeypatch):
    monkeypatch.setenv("ONRECORD_ALLOW_PRIVATE_URLS", "true")  # the server is on loopback, refused by default
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SAMPLES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.models
def test_url_is_downloaded_transcribed_and_linked(media_server):
    url = f"{media_server}/rockets-interview.mp3"
    dead = f"http://127.0.0.1:{_closed_port()}/talk.mp3"
    done = run_cli("ingest", url, dead, "--json", process=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    ok, failed = json_lines(done.stdout)
    assert ok["status"] == "added" and ok["source"] == url
    assert failed["status"] == "failed" and failed["source"] == dead
    assert "refused" in failed["error"].lower() and "\n" not in failed["error"]
    [item] = json.loads(run_cli("list", "--json").stdout)
    assert item["kind"] == "url" and item["media"] == url and item["title"] == "rockets-interview"
    again = json_lines(run_cli("ingest", url, "--json", process=True).stdout)[0]
    assert again["status"] == "skipped" and again["interview_id"] == ok["interview_id"]


class _InterruptAfter:
    """Progress that raises Ctrl-C once the transcript has passed `seconds`."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def started(self, source, total):
        pass

    def advanced(self, seconds):
        if seconds > self.seconds:
            raise KeyboardInterrupt


def _long_vtt(path, cues=900):
    stamp = functools.partial(format_timestamp, always_hours=True)
    body = "".join(f"{stamp(2.0 * i)} --> {stamp(2.0 * i + 1.5)}\nCue {i} talks about topic {i % 17}.\n\n"
                   for i in range(cues))
    path.write_text("WEBVTT\n\n" + body)


def _ingestor(archive, progress=None):
    settings = Settings()
    return Ingestor(archive, WhisperTranscriber(TranscribeOptions.from_settings(settings)),
                    embedder_for(settings, archive.embed_model), progress=progress)


def _state(archive):
    chunks = archive.chunks().get(include=[])["ids"]
    pages = archive.transcripts.get(include=[])["ids"]
    return [i.id for i in archive.list()], sorted(chunks), sorted(pages)


def test_an_interrupted_ingest_is_invisible_and_the_rerun_completes_it(tmp_path, monkeypatch):
    from onrecord.ingest import pipeline

    monkeypatch.setattr(pipeline, "PAGES_PER_WRITE", 2)  # 400 segments (800 s here) per write
    vtt = tmp_path / "long.vtt"
    _long_vtt(vtt)
    clean = open_archive(Settings(archive=tmp_path / "clean"), create=True)
    assert next(_ingestor(clean).run(expand([str(vtt)]))).status == "added"

    archive = open_archive(Settings(archive=tmp_path / "crashed"), create=True)
    for cut in (1000.0, 1700.0):  # after the first write of pages, then deep into the chunks
        with pytest.raises(KeyboardInterrupt):
            list(_ingestor(archive, _InterruptAfter(cut)).run(expand([str(vtt)])))
        visible, chunks, pages = _state(archive)
        assert visible == [] and pages, "staged pages exist but no interview is visible"
    assert next(_ingestor(archive).run(expand([str(vtt)]))).status == "added"
    assert _state(archive) == _state(clean)
    assert archive.list()[0].segments == 900
