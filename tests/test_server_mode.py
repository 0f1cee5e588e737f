"""Server mode: a real `chroma run` on loopback; ingest in one process, read from others, one archive."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SAMPLES, json_lines, run_cli
from llm_servers import free_port

# `chroma` comes with the chromadb package, beside this Python (make test does not activate the venv).
CHROMA = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    chroma = CHROMA
    if chroma is None:
        pytest.fail("the `chroma` command (from the chromadb package) is not installed")
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = open(folder / "server.log", "w")
    server = subprocess.Popen([chroma, "run", "--path", str(folder / "data"), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            assert server.poll() is None, (folder / "server.log").read_text()
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=30)


def test_ingest_in_one_process_and_read_in_others(chroma_url, tmp_path):
    env = {"ONRECORD_CHROMA_URL": chroma_url, "ONRECORD_ARCHIVE": str(tmp_path / "must-stay-unused")}
    added = json_lines(run_cli("ingest", str(SAMPLES / "transcripts"), str(SAMPLES / "rockets-interview.mp3"),
                               "--json", env=env).stdout)
    assert [r["status"] for r in added] == ["added"] * 3
    listed = json.loads(run_cli("--chroma-url", chroma_url, "list", "--json").stdout)
    assert {i["title"] for i in listed} == {"gardening", "chess-podcast", "rockets-interview"}
    hits = json.loads(run_cli("search", "drip irrigation on a timer", "--json", env=env).stdout)
    assert hits[0]["title"] == "gardening"
    answer = json.loads(run_cli("ask", "how do they get the booster back?", "--json", env=env).stdout)
    assert answer["quotes"][0]["title"] == "rockets-interview"
    again = json_lines(run_cli("ingest", str(SAMPLES / "transcripts"), "--json", env=env).stdout)
    assert {r["status"] for r in again} == {"skipped"}
    assert not (tmp_path / "must-stay-unused").exists(), "server mode writes nothing locally"
    vtt = run_cli("export", "gardening", "--format", "vtt", env=env)
    assert vtt.returncode == 0 and "<v Dana Ortiz>" in vtt.stdout


def test_an_unreachable_server_is_one_clear_line(tmp_path):
    done = run_cli("--chroma-url", f"http://127.0.0.1:{free_port()}", "list")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: cannot reach Chroma at http://127.0.0.1:")


def _chroma_server(folder, port):
    return subprocess.Popen([CHROMA, "run", "--path", str(folder), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_port(port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("chroma did not start")


def test_a_server_that_goes_away_mid_ingest_fails_cleanly_and_resumes(tmp_path):
    from conftest import ROOT

    folder = tmp_path / "more"
    folder.mkdir()
    for n in range(6):
        body = "".join(f"00:{i // 60:02d}:{i % 60:02d}.000 --> 00:{i // 60:02d}:{i % 60:02d}.900\n"
                       f"Talk {n} line {i} about ships and sails.\n\n" for i in range(0, 3000, 2))
        (folder / f"talk{n}.vtt").write_text("WEBVTT\n\n" + body)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = _chroma_server(tmp_path / "data", port)
    _wait_port(port)
    ingest = subprocess.Popen([sys.executable, "-m", "ui", "--chroma-url", url, "ingest", str(folder), "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    first = ingest.stdout.readline()  # one interview is in; then the server dies
    server.kill()
    server.wait()
    rest, err = ingest.communicate(timeout=300)
    results = json_lines(first + rest)
    assert ingest.returncode == 1 and "Traceback" not in err
    assert results[0]["status"] == "added" and results[-1]["status"] == "failed"
    assert all(url in r["error"] for r in results if r["status"] == "failed")
    server = _chroma_server(tmp_path / "data", port)  # back, on the same data
    _wait_port(port)
    try:
        resumed = json_lines(run_cli("--chroma-url", url, "ingest", str(folder), "--json").stdout)
        assert resumed[0]["status"] == "skipped" and {r["status"] for r in resumed[1:]} == {"added"}
        listed = json.loads(run_cli("--chroma-url", url, "list", "--json").stdout)
        assert len(listed) == 6 and all(i["segments"] == 1500 for i in listed)
    finally:
        server.terminate()
        server.wait(timeout=30)
