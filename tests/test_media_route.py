"""The app's media route (ui/app/media.py): a local recording is streamed a range at a time, and only files the
app chose to play are served."""

from __future__ import annotations

import os

import pytest

from onrecord.ui.app import media


@pytest.fixture
def client(monkeypatch):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    monkeypatch.setattr(media, "_mounted", media.mounted())  # routes() marks the route served: undone after
    with TestClient(Starlette(routes=media.routes())) as c:
        yield c


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_a_range_is_answered_with_only_those_bytes(client, tmp_path):
    recording = tmp_path / "talk.wav"
    data = os.urandom(3 * 2**20)
    recording.write_bytes(data)
    url = _path(media.url(recording, "http://testserver"))
    assert url.startswith(media.ROUTE + "/") and url.endswith("/talk.wav") and str(tmp_path) not in url
    got = client.get(url, headers={"Range": "bytes=1000000-1000099"})
    assert got.status_code == 206 and got.content == data[1000000:1000100]
    assert got.headers["content-range"] == f"bytes 1000000-1000099/{len(data)}"
    assert got.headers["content-type"].startswith("audio/") and got.headers["accept-ranges"] == "bytes"
    whole = client.get(url)
    assert whole.status_code == 200 and whole.content == data
    head = client.head(url)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(data) and not head.content
    assert media.url(recording, "http://testserver") == media.url(recording, "http://testserver"), "stable"


def test_nothing_but_what_a_player_registered_is_served(client, tmp_path):
    recording = tmp_path / "talk.mp3"
    recording.write_bytes(b"ID3 data")
    url = _path(media.url(recording, "http://testserver"))
    token = url.split("/")[3]
    other = tmp_path / "secret.txt"
    other.write_text("not yours")
    for path in (f"{media.ROUTE}/{'0' * 32}/secret.txt", f"{media.ROUTE}/{token}/../../../etc/passwd",
                 f"{media.ROUTE}/..%2F..%2Fetc%2Fpasswd/passwd", f"{media.ROUTE}/{token[:-1]}x/talk.mp3",
                 f"{media.ROUTE}/{other}/secret.txt"):
        assert client.get(path).status_code == 404, path
    assert client.get(url.replace("talk.mp3", "secret.txt")).content == b"ID3 data", "the name is only a label"
    recording.unlink()
    assert client.get(url).status_code == 404, "a recording deleted since is gone, not an error"


def test_the_player_is_given_the_route_only_where_it_is_served():
    assert media.origin_of("http://127.0.0.1:8501/interview") == "http://127.0.0.1:8501"
    assert media.origin_of("https://archive.example.org/interview") == "https://archive.example.org"
    assert media.origin_of(None) is None and media.origin_of("file:///x") is None
