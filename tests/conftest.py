"""Real parts everywhere: the bundled Whisper and MiniLM models, real Chroma in temp folders.

With `--chroma-url URL` (see tests/chroma_server.py) the archives the tests use live on that `chroma run` server
instead, one database per test (and one for the shared samples), so the same tests prove server mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared"
ONRECORD = [sys.executable, "-m", "onrecord.ui"]  # the CLI as a user runs it, in a process of its own


def pytest_addoption(parser):
    parser.addoption("--chroma-url", default=None, metavar="URL",
                     help="keep the tests' archives on this Chroma server, one database each")


@pytest.fixture(scope="session")
def chroma_url(request) -> str | None:
    return request.config.getoption("--chroma-url")


def fresh_archive(folder: Path, chroma_url: str | None) -> Path | str:
    """Where a new, empty archive lives: a folder, or a database of its own on the server."""
    return f"{chroma_url.rstrip('/')}/t{uuid.uuid4().hex[:12]}" if chroma_url else folder


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """One cache for the session, so the one-time ONNX export of MiniLM happens once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def isolated_archive(tmp_path, model_cache, monkeypatch, chroma_url) -> Path | str:
    """No test touches the user's home: the archive lives in tmp_path (or on the test server)."""
    archive = fresh_archive(tmp_path / "archive", chroma_url)
    monkeypatch.setenv("ONRECORD_ARCHIVE", str(archive))
    monkeypatch.setenv("XDG_CACHE_HOME", str(model_cache))
    monkeypatch.delenv("ONRECORD_CHROMA_URL", raising=False)
    return archive


def run_cli(*args: str, env: dict | None = None, input: str | None = None, timeout: float = 300):
    """`onrecord` as a user runs it: a real process."""
    return subprocess.run([*ONRECORD, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, input=input, timeout=timeout, cwd=ROOT)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def sample_archive(tmp_path_factory, model_cache, chroma_url) -> Path | str:
    """The bundled samples, ingested once through the real CLI; tests must not modify it."""
    archive = fresh_archive(tmp_path_factory.mktemp("samples") / "archive", chroma_url)
    done = run_cli("--archive", str(archive), "ingest", str(SAMPLES), "--json",
                   env={"XDG_CACHE_HOME": str(model_cache)})
    assert done.returncode == 0, done.stderr
    return archive


@pytest.fixture(scope="session")
def scripts() -> dict:
    return json.loads((SAMPLES / "scripts.json").read_text())


def script_vtt(path: Path, script: list[dict], *, voices: bool, seconds_per_cue: float = 4.0):
    """A sample's script as captions whose times are known exactly: one cue per sentence, cue n at
    [n * seconds_per_cue, (n + 1) * seconds_per_cue - 0.5], with `<v Speaker>` tags when `voices`.
    Returns the path and the cues as (speaker, text) pairs."""
    import re

    cues = [(turn["speaker"], s) for turn in script for s in re.split(r"(?<=[.?!]) ", turn["text"])]

    def stamp(seconds: float) -> str:
        return f"00:{int(seconds) // 60:02d}:{seconds % 60:06.3f}"

    body = "".join(f"{stamp(n * seconds_per_cue)} --> {stamp((n + 1) * seconds_per_cue - 0.5)}\n"
                   f"{f'<v {who}>' if voices else ''}{text}\n\n" for n, (who, text) in enumerate(cues))
    path.write_text("WEBVTT\n\n" + body)
    return path, cues


APP = str(ROOT / "ui" / "app" / "main.py")


@pytest.fixture
def app(monkeypatch, sample_archive):
    """The app on the sample archive; resources are per process, so each test starts them afresh."""
    import streamlit as st

    monkeypatch.setenv("ONRECORD_ARCHIVE", str(sample_archive))
    st.cache_resource.clear()

    def start(page: str | None = None, archive: Path | None = None) -> AppTest:
        if archive:
            monkeypatch.setenv("ONRECORD_ARCHIVE", str(archive))
            st.cache_resource.clear()
        at = AppTest.from_file(APP, default_timeout=120).run()
        if page:
            at.switch_page(f"views/{page}.py").run()
        assert not at.exception, at.exception
        return at

    yield start
    st.cache_resource.clear()
