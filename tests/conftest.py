"""Real parts everywhere: the bundled Whisper and MiniLM models, real Chroma in temp folders.

With `--chroma-url URL` (see tests/chroma_server.py) the archives the tests use live on that `chroma run` server
instead, one database per test (and one for the shared samples), so the same tests prove server mode."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import uuid
import warnings
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


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    """A test on the ingested samples (`sample_archive`, which `app` uses too) is in the models tier, wherever
    it is; pyproject.toml lists the tiers."""
    for item in items:
        if "sample_archive" in getattr(item, "fixturenames", ()):
            item.add_marker("models")


@pytest.fixture(scope="session")
def chroma_url(request) -> str | None:
    return request.config.getoption("--chroma-url")


def fresh_archive(folder: Path, chroma_url: str | None) -> Path | str:
    """Where a new, empty archive lives: a folder, or a database of its own on the server."""
    return f"{chroma_url.rstrip('/')}/t{uuid.uuid4().hex[:12]}" if chroma_url else folder


def pytest_configure(config):
    """onrecord's settings take their default folders from XDG_CACHE_HOME and XDG_DATA_HOME once, when it is first
    imported (collecting the tests, or the first command run in this process): point both at a folder of the
    session's before that, so that nothing reaches the home directory."""
    config.onrecord_home = Path(tempfile.mkdtemp(prefix="onrecord-tests-"))
    os.environ["XDG_CACHE_HOME"] = str(config.onrecord_home / "cache")
    os.environ["XDG_DATA_HOME"] = str(config.onrecord_home / "data")
    for folder in ("cache", "data"):
        (config.onrecord_home / folder).mkdir()


def pytest_unconfigure(config):
    shutil.rmtree(config.onrecord_home, ignore_errors=True)


@pytest.fixture(scope="session")
def model_cache(pytestconfig) -> Path:
    """One cache for the session, so the one-time ONNX export of MiniLM happens once: the one the settings'
    defaults were made with."""
    return pytestconfig.onrecord_home / "cache"


@pytest.fixture(autouse=True)
def isolated_archive(tmp_path, model_cache, monkeypatch, chroma_url) -> Path | str:
    """No test touches the user's home: the archive lives in tmp_path (or on the test server)."""
    archive = fresh_archive(tmp_path / "archive", chroma_url)
    monkeypatch.setenv("ONRECORD_ARCHIVE", str(archive))
    monkeypatch.setenv("XDG_CACHE_HOME", str(model_cache))
    monkeypatch.delenv("ONRECORD_CHROMA_URL", raising=False)
    return archive


# Commands that become or start a server (`ui` execs Streamlit): never inside the test's own process.
SERVERS = {"ui", "serve", "mcp"}
# How a fresh interpreter filters warnings: what it would print on stderr, an in-process run prints too.
FRESH_INTERPRETER_IGNORES = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def run_cli(*args: str, env: dict | None = None, input: str | None = None, timeout: float = 300,
            process: bool | None = None) -> subprocess.CompletedProcess:
    """`onrecord ARGS` with `env` added to the environment, from the repository root: its exit code, stdout and
    stderr. In this process through click's CliRunner (no new interpreter importing torch and Chroma again), or,
    with `process=True`, as a user runs it: a real process, for what only a process has (its own stdin, signals,
    an exit that kills it, `timeout`). The server commands always get a process, except for --help; so does every
    command with ONRECORD_TEST_CLI=process set (to tell whether a failure is this process's doing)."""
    if process is None:
        process = (_command(args) in SERVERS and not {"-h", "--help"} & set(args)) or \
            os.environ.get("ONRECORD_TEST_CLI") == "process"
    if process:
        return subprocess.run([*ONRECORD, *args], capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, input=input, timeout=timeout, cwd=ROOT)
    return _in_process(list(args), env, input)


def _command(args) -> str | None:
    """The subcommand in `args`: the first word that is neither a group option nor its value."""
    words = iter(args)
    for word in words:
        if word in ("--archive", "--chroma-url"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _in_process(args: list[str], env: dict | None, input: str | None) -> subprocess.CompletedProcess:
    """As a fresh process would run it: Chroma's per-process cache of open archives dropped first, runtime
    warnings printed on stderr, an uncaught exception as a traceback and exit 1. (Output that C code writes
    straight to file descriptor 1 or 2 is not seen here; pytest's capture gets it.)"""
    from chromadb.api.client import SharedSystemClient
    from click.testing import CliRunner

    from onrecord.ui.cli import main

    SharedSystemClient.clear_system_cache()
    with contextlib.chdir(ROOT), warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        for category in FRESH_INTERPRETER_IGNORES:
            warnings.simplefilter("ignore", category)
        result = CliRunner(env=env).invoke(main, args, input=input, prog_name="python -m onrecord.ui")
    stderr = result.stderr + "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line)
                                     for w in caught)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess([*ONRECORD, *args], result.exit_code, result.stdout, stderr)


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
