"""Server mode: a real `chroma run` on loopback; ingest in one process, read from others, one archive."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import chroma_server
from conftest import SAMPLES, json_lines, run_cli
from llm_servers import free_port


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chroma-server")
    with chroma_server.running(folder / "data", folder / "server.log") as url:
        yield url


def test_ingest_in_one_process_and_read_in_others(server_url, tmp_path):
    env = {"ONRECORD_CHROMA_URL": server_url, "ONRECORD_ARCHIVE": str(tmp_path / "must-stay-unused")}
    added = json_lines(run_cli("ingest", str(SAMPLES / "transcripts"), str(SAMPLES / "rockets-interview.mp3"),
                               "--json", env=env).stdout)
    assert [r["status"] for r in added] == ["added"] * 3
    listed = json.loads(run_cli("--chroma-url", server_url, "list", "--json").stdout)
    assert {i["title"] for i in listed} == {"gardening", "chess-podcast", "rockets-interview"}
    hits = json.loads(run_cli("search", "drip irrigation on a timer", "--json", env=env).stdout)
    assert hits[0]["title"] == "gardening"
    answer = json.loads(run_cli("ask", "how do they get the booster back?", "--json", env=env).stdout)
    assert answer["quotes"][0]["title"] == "rockets-interview"
    again = json_lines(run_cli("ingest", str(SAMPLES / "transcripts"), "--json", env=env).stdout)
    assert {r["status"] for r in again} == {"skipped"}
    assert not (tmp_path / "must-stay-unused").exists(), "server mode writes nothing locally"
    other = run_cli("--archive", f"{server_url}/newsroom", "list", "--json")  # a second archive, same server
    assert other.returncode == 0 and json.loads(other.stdout) == []
    vtt = run_cli("export", "gardening", "--format", "vtt", env=env)
    assert vtt.returncode == 0 and "<v Dana Ortiz>" in vtt.stdout


def test_a_bad_server_url_is_one_clear_line():
    done = run_cli("--archive", "http://127.0.0.1:8000/a/b", "list")
    assert done.returncode == 1 and done.stderr.startswith("error: bad Chroma URL") and "Traceback" not in done.stderr


def test_an_unreachable_server_is_one_clear_line(tmp_path):
    done = run_cli("--chroma-url", f"http://127.0.0.1:{free_port()}", "list")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: cannot reach Chroma at http://127.0.0.1:")


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
    server = chroma_server.start(tmp_path / "data", port)
    chroma_server.wait_until_up(port, server)
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
    server = chroma_server.start(tmp_path / "data", port)  # back, on the same data
    chroma_server.wait_until_up(port, server)
    try:
        resumed = json_lines(run_cli("--chroma-url", url, "ingest", str(folder), "--json").stdout)
        assert resumed[0]["status"] == "skipped" and {r["status"] for r in resumed[1:]} == {"added"}
        listed = json.loads(run_cli("--chroma-url", url, "list", "--json").stdout)
        assert len(listed) == 6 and all(i["segments"] == 1500 for i in listed)
    finally:
        server.terminate()
        server.wait(timeout=30)
