"""What a web page in the user's browser, or a client sending too much, must not get from the HTTP API: a body read
as JSON that did not say it was JSON, an answer to a Host name the server does not serve (DNS rebinding), a CORS
grant, an oversize upload spooled whole before it is refused, and docs that load their scripts from a CDN.

In process (TestClient, or httpx's ASGI transport where the test must see how much of a body the server read);
one test starts a real `onrecord serve` to prove --allowed-host reaches the app."""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import subprocess

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import ONRECORD, ROOT
from onrecord import Onrecord, __version__
from onrecord.ui.api import create_app

LOCAL = "http://127.0.0.1:8080"
EVIL = "https://evil.example"


@pytest.fixture
def core(tmp_path) -> Onrecord:
    """An empty archive, uploads in tmp_path, no token; 0.01 MB (10 KiB) is all one upload may bring."""
    return Onrecord(archive=tmp_path / "archive", media_dir=tmp_path / "media", api_token="", max_download_mb=0.01)


@pytest.fixture
def client(core) -> TestClient:
    return TestClient(create_app(core), base_url=LOCAL)  # no lifespan: nothing warms up the models


# -- bodies are read only as what they say they are -----------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8", None,
                                          "application/x-www-form-urlencoded", "multipart/mixed; boundary=x"])
def test_a_body_that_is_not_declared_json_or_multipart_is_415(client, content_type):
    """text/plain and form posts are "simple" requests: a web page may send them cross-origin without a preflight.
    The old API parsed any body as JSON, so a page could queue an ingest; a URL that could never be fetched."""
    headers = {"Content-Type": content_type} if content_type else {}
    sent = client.post("/api/ingest", content=json.dumps({"url": "https://example.invalid/talk.mp3"}),
                       headers={"Origin": EVIL, **headers})
    assert sent.status_code == 415 and "application/json" in sent.json()["error"]
    assert "access-control-allow-origin" not in sent.headers


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_json_is_read_when_declared_with_or_without_charset(client, content_type):
    sent = client.post("/api/ingest", content=json.dumps({"url": "/etc/passwd"}),
                       headers={"Content-Type": content_type})
    assert sent.status_code == 400 and sent.json()["error"].startswith("url must be an http(s) URL")


def test_a_json_body_larger_than_any_url_is_413(client):
    """A {"url"} body is bytes, not megabytes: the API does not hold a large one in memory to parse it."""
    sent = client.post("/api/ingest", json={"url": "/etc/" + "a" * 100_000})
    assert sent.status_code == 413 and sent.json()["error"]


# -- only the Host names it serves ---------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8080", "localhost:5000", "LOCALHOST", "[::1]:8080"])
def test_loopback_names_are_answered(client, host):
    assert client.get("/openapi.json", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "0.0.0.0:8080",
                                  "[::1", ""])
def test_any_other_host_is_refused_with_a_json_400(client, host):
    """A page on evil.example whose name the attacker re-points at 127.0.0.1 reaches the port with its own name."""
    refused = client.get("/api/interviews", headers={"Host": host})
    assert refused.status_code == 400 and refused.headers["content-type"] == "application/json"
    assert "--allowed-host" in refused.json()["error"]


def test_the_listening_address_and_allowed_names_are_answered(core):
    named = TestClient(create_app(core, "fd00::5", ["archive.lan"]), base_url=LOCAL)
    for host in ("[fd00::5]:8080", "archive.lan", "Archive.LAN:8080", "localhost"):
        assert named.get("/openapi.json", headers={"Host": host}).status_code == 200, host
    everywhere = TestClient(create_app(core, "0.0.0.0", ["archive.lan"]), base_url=LOCAL)
    assert everywhere.get("/openapi.json", headers={"Host": "archive.lan"}).status_code == 200
    assert everywhere.get("/openapi.json", headers={"Host": "0.0.0.0:8080"}).status_code == 400, "not a name"
    assert everywhere.get("/openapi.json", headers={"Host": "192.168.1.9:8080"}).status_code == 400


def test_serve_passes_allowed_host_to_the_app(tmp_path):
    command = [*ONRECORD, "--archive", str(tmp_path / "none-yet"), "serve", "--port", "0", "--json",
               "--allowed-host", "archive.lan"]
    log = tmp_path / "serve.log"
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log.open("w"), text=True, cwd=ROOT,
                               env={**os.environ, "ONRECORD_API_TOKEN": "", "ONRECORD_MEDIA_DIR": str(tmp_path)})
    try:
        ready, _, _ = select.select([process.stdout], [], [], 120)
        assert ready, log.read_text()
        url = json.loads(process.stdout.readline())["url"]
        with httpx.Client(base_url=url, timeout=60) as http:
            assert http.get("/openapi.json", headers={"Host": "archive.lan"}).status_code == 200
            assert http.get("/openapi.json", headers={"Host": "evil.example"}).status_code == 400
            assert http.get("/openapi.json").status_code == 200, "the address it printed"
    finally:
        process.terminate()
        process.wait(timeout=15)


# -- no CORS --------------------------------------------------------------------------------------------------

def test_a_cross_origin_preflight_is_granted_nothing(client):
    asked = client.options("/api/ingest", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"})
    assert not [name for name in asked.headers if name.lower().startswith("access-control-")]
    read = client.get("/openapi.json", headers={"Origin": EVIL})
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers


# -- uploads are stopped while they stream --------------------------------------------------------------------

BOUNDARY = "onrecord-test-boundary"
HEAD = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.vtt"\r\n'
        "Content-Type: text/vtt\r\n\r\n").encode()
TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()
CHUNK = 4096


def _upload(core, size: int, *, declare_length: bool) -> tuple[httpx.Response, int, int]:
    """POST a `size`-byte file to /api/ingest through the ASGI app, the body handed over chunk by chunk only as the
    server asks for it (chunked, or with its Content-Length): the answer, the bytes the server read, and the total."""
    chunks = [HEAD, *(b"x" * CHUNK for _ in range(size // CHUNK)), TAIL]
    total, pulled = sum(map(len, chunks)), 0

    async def body():
        nonlocal pulled
        for chunk in chunks:
            pulled += len(chunk)
            yield chunk

    async def post() -> httpx.Response:
        headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        if declare_length:
            headers["Content-Length"] = str(total)
        transport = httpx.ASGITransport(app=create_app(core))
        async with httpx.AsyncClient(transport=transport, base_url=LOCAL) as http:
            return await http.post("/api/ingest", content=body(), headers=headers)

    return asyncio.run(post()), pulled, total


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_an_oversize_upload_is_413_before_it_is_read_whole(core, declare_length):
    """The old API let Starlette spool the whole multipart body to disk, then compared each file with the limit:
    a 2 GB limit let anyone fill the disk with a body of any size. A declared length is refused before a byte is
    read; a chunked body once it passes the limit (and a little multipart overhead)."""
    answer, pulled, total = _upload(core, 2**20, declare_length=declare_length)
    assert answer.status_code == 413 and "ONRECORD_MAX_DOWNLOAD_MB" in answer.json()["error"]
    assert pulled < total / 4, f"read {pulled} of {total} bytes"
    if declare_length:
        assert pulled <= len(HEAD), "refused on its Content-Length"
    uploads = core.settings.media_dir / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_a_file_just_over_the_limit_is_still_413(core):
    """Inside the body's overhead allowance, the file's own size is still checked."""
    answer, _, _ = _upload(core, 12 * 1024, declare_length=True)
    assert answer.status_code == 413
    uploads = core.settings.media_dir / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


# -- docs that work offline -----------------------------------------------------------------------------------

@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_load_their_assets_from_this_server(client, page):
    """FastAPI's default pages load Swagger UI and ReDoc from jsdelivr (and a favicon and Google Fonts): blank with
    no network, and a third party's script in a page that may hold the API token."""
    html = client.get(page)
    assert html.status_code == 200
    assert "https://" not in html.text and "http://" not in html.text and "cdn." not in html.text
    assert f"onrecord {__version__}" in html.text, "the page names the version it documents"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
    assert any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        fetched = client.get(asset)
        assert fetched.status_code == 200 and len(fetched.content) > 1000, asset


def test_the_openapi_document_reports_onrecords_version(client):
    assert client.get("/openapi.json").json()["info"]["version"] == __version__
