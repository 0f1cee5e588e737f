"""The HTTP API as a client meets it: a real `onrecord serve` on a free loopback port, over the two sample
transcripts ingested through the real CLI, driven with httpx. One server for the module; the token test starts
a second one of its own."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import ONRECORD, ROOT, SAMPLES, fresh_archive, run_cli, script_vtt
from onrecord import Onrecord
from onrecord.ui.api import create_app

ROOFTOP = "What grows best on the roof?"


def serve(archive, log: Path, env: dict) -> tuple[subprocess.Popen, str]:
    """`onrecord serve --port 0 --json`; its address, from the line it prints once it listens."""
    command = [*ONRECORD, "--archive", str(archive), "serve", "--port", "0", "--json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log.open("w"), text=True, cwd=ROOT,
                               env={**os.environ, **env})
    ready, _, _ = select.select([process.stdout], [], [], 120)
    line = process.stdout.readline() if ready else ""
    if not line:
        process.kill()
        pytest.fail(f"`onrecord serve` did not start:\n{log.read_text()}")
    return process, json.loads(line)["url"]


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def ids(tmp_path_factory, model_cache, chroma_url) -> dict:
    """The archive (under "archive") and the samples' interview ids by name ("gardening", "chess-podcast")."""
    archive = fresh_archive(tmp_path_factory.mktemp("api") / "archive", chroma_url)
    done = run_cli("--archive", str(archive), "ingest", str(SAMPLES / "transcripts"), "--json",
                   env={"XDG_CACHE_HOME": str(model_cache)})
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    return {"archive": archive} | {Path(r["source"]).stem: r["interview_id"] for r in rows}


@pytest.fixture(scope="module")
def api(ids, tmp_path_factory, model_cache):
    folder = tmp_path_factory.mktemp("serve")
    process, url = serve(ids["archive"], folder / "serve.log", {
        "XDG_CACHE_HOME": str(model_cache), "ONRECORD_MEDIA_DIR": str(folder / "media"), "ONRECORD_API_TOKEN": ""})
    with httpx.Client(base_url=url, timeout=120) as client:
        client.uploads = folder / "media" / "uploads"  # where the server stores what is uploaded
        yield client
    stop(process)


def test_search_returns_hits_with_times(api, ids):
    hits = api.get("/api/search", params={"q": ROOFTOP, "limit": 3}).json()
    best = hits[0]
    assert best["interview_id"] == ids["gardening"] and best["speaker"] == "Dana Ortiz"
    assert best["text"].startswith("Tomatoes, peppers and herbs") and (best["start"], best["end"]) == (23.8, 34.6)
    assert {"title", "link", "weak", "context_before", "matched_terms"} <= set(best)
    only_chess = api.get("/api/search", params={"q": ROOFTOP, "interview": ids["chess-podcast"], "mode": "keyword"})
    assert {h["interview_id"] for h in only_chess.json()} <= {ids["chess-podcast"]}


@pytest.mark.parametrize("params, why", [
    ({"q": "tomatoes", "limit": 0}, "limit"), ({"q": "tomatoes", "mode": "fuzzy"}, "mode"), ({}, "q"),
    ({"q": "tomatoes", "since": "last week"}, "bad date"), ({"q": "tomatoes", "speaker": "Nobody"}, "no speaker")])
def test_bad_parameters_are_400_with_a_reason(api, params, why):
    answer = api.get("/api/search", params=params)
    assert answer.status_code == 400 and why in answer.json()["error"]


def test_the_list_is_the_cli_list(api, ids):
    listed = run_cli("--archive", str(ids["archive"]), "list", "--json")
    assert api.get("/api/interviews").json() == json.loads(listed.stdout)


def test_transcript_formats(api, ids):
    srt = api.get(f"/api/interviews/{ids['gardening']}", params={"format": "srt"})
    assert srt.headers["content-type"] == "text/plain; charset=utf-8"
    assert srt.text.startswith("1\n00:00:00,000 --> 00:00:07,400\nInterviewer: Welcome back.")
    vtt = api.get(f"/api/interviews/{ids['gardening']}", params={"format": "vtt"})
    assert vtt.headers["content-type"] == "text/vtt; charset=utf-8" and vtt.text.startswith("WEBVTT\n\n")
    shown = api.get(f"/api/interviews/{ids['gardening'][:6]}").json()  # json by default; a prefix is enough
    assert shown["interview"]["id"] == ids["gardening"]
    assert len(shown["segments"]) == shown["interview"]["segments"] and shown["segments"][0]["start"] == 0.0
    assert api.get(f"/api/interviews/{ids['gardening']}", params={"format": "pdf"}).status_code == 400


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/interviews/0123456789abcdef"), ("GET", "/api/interviews/0123456789abcdef/summary"),
    ("DELETE", "/api/interviews/0123456789abcdef"), ("GET", "/api/jobs/nope"), ("GET", "/api/nothing-here")])
def test_unknown_things_are_404_json(api, method, path):
    answer = api.request(method, path)
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/json"
    assert answer.json()["error"] and "Traceback" not in answer.text


def test_ask_and_its_stream_give_the_same_answer(api, ids):
    answer = api.get("/api/ask", params={"q": ROOFTOP}).json()
    assert answer["mode"] == "extractive" and answer["notice"].startswith("no LLM configured")
    assert answer["quotes"][0]["interview_id"] == ids["gardening"] and "Tomatoes" in answer["quotes"][0]["text"]
    with api.stream("GET", "/api/ask/stream", params={"q": ROOFTOP}) as streamed:
        assert streamed.headers["content-type"].startswith("text/event-stream")
        events = re.findall(r"event: (\w+)\ndata: (.*)\n\n", streamed.read().decode())
    assert [name for name, _ in events] == ["hits", "piece", "answer"]
    assert json.loads(events[0][1])[0]["interview_id"] == ids["gardening"]
    assert json.loads(events[1][1])["text"] == answer["answer"] and json.loads(events[2][1]) == answer


def test_concurrent_searches_share_one_searcher(api, ids):
    from concurrent.futures import ThreadPoolExecutor

    questions = [ROOFTOP, "opening moves", "where does the soil come from", "chess clock"] * 3
    alone = {q: api.get("/api/search", params={"q": q}).json() for q in set(questions)}
    with ThreadPoolExecutor(6) as pool:
        together = list(pool.map(lambda q: (q, api.get("/api/search", params={"q": q})), questions))
    assert all(got.status_code == 200 and got.json() == alone[q] for q, got in together)


# The model quotes the rooftop interview twice, truly, and once words never said; sentence by sentence.
MODEL_REPLY = ('Dana says "Tomatoes, peppers and herbs love it" [1]. She also says "rockets are made of cheese and '
               'moonlight" [1]. In summer: "Lettuce and spinach struggle in July" [1].')


def test_a_streamed_llm_answer_arrives_verified_sentence_by_sentence(ids, tmp_path, model_cache):
    from llm_servers import scripted_server

    with scripted_server("ok", MODEL_REPLY) as (llm, _):
        process, url = serve(ids["archive"], tmp_path / "serve.log", {
            "XDG_CACHE_HOME": str(model_cache), "ONRECORD_API_TOKEN": "", "ONRECORD_LLM_BASE_URL": llm,
            "ONRECORD_LLM_MODEL": "scripted"})
        try:
            with httpx.Client(base_url=url, timeout=120) as client:
                whole = client.get("/api/ask", params={"q": ROOFTOP}).json()
                with client.stream("GET", "/api/ask/stream", params={"q": ROOFTOP}) as streamed:
                    events = [(name, json.loads(data)) for name, data in
                              re.findall(r"event: (\w+)\ndata: (.*)\n\n", streamed.read().decode())]
        finally:
            stop(process)
    names = [name for name, _ in events]
    assert names[0] == "hits" and names[-1] == "answer" and names.count("piece") >= 3, names
    assert not any("cheese" in data["text"] for name, data in events if name == "piece"), "never shown, even briefly"
    answer = events[-1][1]
    assert answer == whole and answer["mode"] == "llm" and "(unverified quote removed)" in answer["answer"]
    assert answer["quotes"][0]["text"].startswith("Tomatoes, peppers and herbs love it")
    assert answer["quotes"][0]["start"] == 23.8, "times from the transcript"


@pytest.mark.models
def test_upload_then_poll_list_search_and_delete(api, tmp_path, scripts):
    vtt, _ = script_vtt(tmp_path / "rockets.vtt", scripts["rockets-interview.mp3"], voices=True)
    sent = api.post("/api/ingest", files={"file": ("rocket talk.vtt", vtt.read_bytes(), "text/vtt")})
    assert sent.status_code == 202 and sent.headers["location"] == f"/api/jobs/{sent.json()['id']}"
    job = sent.json()
    for _ in range(240):
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.25)
        job = api.get(f"/api/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    (source,) = job["sources"]
    assert source["source"] == "rocket talk.vtt" and source["status"] == "added", "named as sent, not as stored"
    new = source["interview_id"]
    (stored,) = api.uploads.glob("*-rocket talk.vtt")
    assert stored.read_bytes() == vtt.read_bytes(), "kept byte for byte (the player and a re-ingest need it)"
    assert new in {i["id"] for i in api.get("/api/interviews").json()}
    hits = api.get("/api/search", params={"q": "reusable rockets", "interview": new}).json()
    assert hits and hits[0]["speaker"] == "Laura Bennett"
    assert api.delete(f"/api/interviews/{new}").json() == {"deleted": new, "title": "rocket talk"}
    assert api.get(f"/api/interviews/{new}").status_code == 404
    assert new not in {i["id"] for i in api.get("/api/interviews").json()}
    assert all(h["interview_id"] != new for h in api.get("/api/search", params={"q": "reusable rockets"}).json())


@pytest.mark.parametrize("body", [{"url": "/etc/passwd"}, {"path": "https://example.com"}, "not json"])
def test_ingest_takes_urls_or_uploads_only(api, body):
    content = json.dumps(body) if isinstance(body, dict) else body
    sent = api.post("/api/ingest", content=content, headers={"Content-Type": "application/json"})
    assert sent.status_code == 400 and sent.json()["error"]


@pytest.fixture(scope="module")
def roofs(tmp_path_factory, model_cache, chroma_url) -> TestClient:
    """The API in process over two interviews whose titles share a word: "roof garden talk", "roof chess talk"."""
    folder = tmp_path_factory.mktemp("roofs")
    shutil.copy(SAMPLES / "transcripts" / "gardening.vtt", folder / "roof garden talk.vtt")
    shutil.copy(SAMPLES / "transcripts" / "chess-podcast.srt", folder / "roof chess talk.srt")
    archive = fresh_archive(folder / "archive", chroma_url)
    done = run_cli("--archive", str(archive), "ingest", str(folder), env={"XDG_CACHE_HOME": str(model_cache)})
    assert done.returncode == 0, done.stderr
    core = Onrecord(archive=archive, media_dir=folder / "media", api_token="")
    return TestClient(create_app(core), base_url="http://127.0.0.1")


def test_deleting_an_ambiguous_title_is_400(roofs):
    assert roofs.delete("/api/interviews/roof").status_code == 400


def test_delete_takes_what_show_takes(roofs):
    """DELETE /api/interviews/{ref} took only a full id; now an id prefix, a title or words of one, as `show`."""
    ambiguous = roofs.delete("/api/interviews/roof")
    assert ambiguous.status_code == 400 and "is ambiguous" in ambiguous.json()["error"]
    assert "roof garden talk" in ambiguous.json()["error"] and "roof chess talk" in ambiguous.json()["error"]
    assert len(roofs.get("/api/interviews").json()) == 2, "an ambiguous ref deletes nothing"
    deleted = roofs.delete("/api/interviews/Garden Talk").json()
    assert deleted["title"] == "roof garden talk"
    assert [i["title"] for i in roofs.get("/api/interviews").json()] == ["roof chess talk"]


def test_a_token_guards_every_request(tmp_path, model_cache):
    missing = tmp_path / "no-archive-yet"
    process, url = serve(missing, tmp_path / "serve.log", {"XDG_CACHE_HOME": str(model_cache),
                                                            "ONRECORD_API_TOKEN": "s3cret-token"})
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
                refused = client.get("/api/interviews", headers=headers)
                assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
                assert "token" in refused.json()["error"]
            token = {"Authorization": "Bearer s3cret-token"}
            assert client.get("/openapi.json", headers=token).status_code == 200
            empty = client.get("/api/interviews", headers=token)
            assert empty.status_code == 503 and empty.json()["error"].startswith("no archive at")
    finally:
        stop(process)
    assert not missing.exists(), "reading creates no archive"


def test_listening_beyond_loopback_needs_a_token():
    done = run_cli("serve", "--host", "0.0.0.0", "--port", "8080", env={"ONRECORD_API_TOKEN": ""}, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("error: ")
    assert "ONRECORD_API_TOKEN" in done.stderr
