"""Server mode: a real `chroma run` on loopback; ingest in one process, read from others, one archive."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import chroma_server
from conftest import ONRECORD, SAMPLES, json_lines, run_cli
from llm_servers import free_port


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chroma-server")
    with chroma_server.running(folder / "data", folder / "server.log") as url:
        yield url


@pytest.mark.server
def test_ingest_in_one_process_and_read_in_others(server_url, tmp_path):
    env = {"ONRECORD_CHROMA_URL": server_url, "ONRECORD_ARCHIVE": str(tmp_path / "must-stay-unused")}
    added = json_lines(run_cli("ingest", str(SAMPLES / "transcripts"), str(SAMPLES / "rockets-interview.mp3"),
                               "--json", env=env, process=True).stdout)
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
    newsroom = f"{server_url}/newsroom"  # a second archive on the same server: a read creates no database
    other = run_cli("--archive", newsroom, "list", "--json")
    assert other.returncode == 1 and other.stderr.startswith(f"error: no archive at {newsroom}")
    assert run_cli("--archive", newsroom, "ingest", str(SAMPLES / "transcripts" / "chess-podcast.srt")).returncode == 0
    listed = json.loads(run_cli("--archive", newsroom, "list", "--json").stdout)
    assert [i["title"] for i in listed] == ["chess-podcast"]
    vtt = run_cli("export", "gardening", "--format", "vtt", env=env)
    assert vtt.returncode == 0 and "<v Dana Ortiz>" in vtt.stdout


def test_a_bad_server_url_is_one_clear_line():
    done = run_cli("--archive", "http://127.0.0.1:8000/a/b", "list")
    assert done.returncode == 1 and done.stderr.startswith("error: bad Chroma URL") and "Traceback" not in done.stderr


def test_an_unreachable_server_is_one_clear_line(tmp_path):
    done = run_cli("--chroma-url", f"http://127.0.0.1:{free_port()}", "list")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: cannot reach Chroma at http://127.0.0.1:")


@pytest.mark.server
def test_a_server_that_goes_away_mid_ingest_fails_cleanly_and_resumes(tmp_path):
    from conftest import ROOT

    folder = _talks(tmp_path / "more", 6, "ships and sails", cues=1500)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = chroma_server.start(tmp_path / "data", port)
    chroma_server.wait_until_up(port, server)
    ingest = subprocess.Popen([*ONRECORD, "--chroma-url", url, "ingest", str(folder), "--json"],
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


@pytest.mark.server
def test_workers_on_one_server_share_a_folder_without_doing_anything_twice(server_url, tmp_path):
    """Three ingests of the same folder at once, as three GPU workers would: each file is ingested once."""
    from conftest import ROOT

    folder = _talks(tmp_path / "incoming", 4, "lighthouses and tides", cues=600)
    url = f"{server_url}/workers"
    workers = [subprocess.Popen([*ONRECORD, "--archive", url, "ingest", str(folder), "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
               for _ in range(3)]
    results = [r for w in workers for r in json_lines(w.communicate(timeout=600)[0])]
    assert all(w.returncode == 0 for w in workers)
    added = sorted(r["source"] for r in results if r["status"] == "added")
    assert added == sorted(str(p) for p in folder.iterdir()), "each file added exactly once"
    assert {r["status"] for r in results} == {"added", "skipped"}
    listed = json.loads(run_cli("--archive", url, "list", "--json").stdout)
    assert len(listed) == 4 and all(i["segments"] == 600 for i in listed)

    # Chroma ids are unique by construction, so counting distinct ids proves nothing: the chunks the three
    # workers left must be exactly those of one worker alone (same ids, same texts, no extra copies).
    alone = f"{server_url}/alone"
    assert run_cli("--archive", alone, "ingest", str(folder)).returncode == 0
    assert _chunk_records(url) == _chunk_records(alone)
    assert len(_chunk_records(url)) == sum(i["chunks"] for i in listed)
    assert not [i for i in _archive(url)._meta.get(include=[])["ids"] if i.startswith("claim-")], "claims released"


def _archive(url: str):
    from onrecord.search.config import Settings
    from onrecord.search.store import open_archive

    return open_archive(Settings(archive=url))


def _chunk_records(url: str) -> list[tuple[str, str, str]]:
    got = _archive(url).chunks().get(include=["documents", "metadatas"])
    return sorted(zip(got["ids"], (m["interview_id"] for m in got["metadatas"]), got["documents"]))


def _talks(folder: Path, count: int, topic: str, *, cues: int) -> Path:
    """`count` WebVTT talks of `cues` one-line cues, two seconds apart, in a new folder."""
    folder.mkdir()
    for n in range(count):
        body = "".join(f"00:{i // 60:02d}:{i % 60:02d}.000 --> 00:{i // 60:02d}:{i % 60:02d}.900\n"
                       f"Talk {n}, line {i}, about {topic}.\n\n" for i in range(0, 2 * cues, 2))
        (folder / f"talk{n}.vtt").write_text("WEBVTT\n\n" + body)
    return folder
