"""Server mode: a real `chroma run` on loopback; ingest in one process, read from others, one archive."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time

import pytest

from conftest import SAMPLES, json_lines, run_cli
from llm_servers import free_port


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    chroma = shutil.which("chroma")
    if chroma is None:
        pytest.fail("the `chroma` command (from the chromadb package) is not on PATH")
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
