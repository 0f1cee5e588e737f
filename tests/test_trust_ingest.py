"""What an ingest trusts (a security issue): URLs and feeds on this machine or a private network are not fetched,
also after a redirect, unless ONRECORD_ALLOW_PRIVATE_URLS allows it; an imported JSON export is checked field by
field, gets an id from its own content, and never names a file on the server as its media.

The servers are real, on loopback. Which addresses count as public is the one thing faked (no public host can be
reached here): for the redirect tests, 127.0.0.1 passes for a public address and 127.0.0.2 stays loopback."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import SAMPLES, json_lines, run_cli
from onrecord.ingest import netguard
from onrecord.ingest.feeds import expand_feeds, fetch_feed
from onrecord.ingest.fetch import DownloadLimits, download_audio, download_file
from onrecord.ingest.netguard import UrlRefused, check_url
from onrecord.ingest.sources import Source, content_id
from onrecord.search.config import Settings
from onrecord.search.store import open_archive

GARDENING = SAMPLES / "transcripts" / "gardening.vtt"
REFUSED = {"ONRECORD_ALLOW_PRIVATE_URLS": "false"}  # the default, whatever the environment running the tests says
ALLOWED = {"ONRECORD_ALLOW_PRIVATE_URLS": "true"}


@dataclass
class Server:
    """Serves `routes` (path -> (status, headers, body)); remembers each path asked for."""

    host: str
    routes: dict[str, tuple[int, dict, bytes]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    url: str = ""


def _serve(host: str):
    served = Server(host)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            served.asked.append(self.path)
            status, headers, body = served.routes.get(self.path, (404, {}, b"not here"))
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    served.url = f"http://{host}:{server.server_address[1]}"
    return served, server


@pytest.fixture
def site():
    served, server = _serve("127.0.0.1")
    yield served
    server.shutdown()


@pytest.fixture
def inside():
    """A second server on 127.0.0.2: loopback, like any address inside the network."""
    served, server = _serve("127.0.0.2")
    yield served
    server.shutdown()


def _feed(site: Server) -> str:
    """A feed whose one episode brings its own transcript (so nothing is transcribed)."""
    site.routes["/episode.vtt"] = (200, {"Content-Type": "text/vtt"}, GARDENING.read_bytes())
    site.routes["/feed.xml"] = (200, {"Content-Type": "application/rss+xml"}, (
        '<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>'
        "<title>Roof Radio</title><item><title>Gardening on a roof</title><guid>ep-1</guid>"
        f'<podcast:transcript url="{site.url}/episode.vtt" type="text/vtt"/></item></channel></rss>').encode())
    return f"{site.url}/feed.xml"


# -- URLs and feeds ---------------------------------------------------------------------------------------------


def test_a_feed_on_loopback_is_refused_by_default_and_read_when_allowed(site):
    feed = _feed(site)
    done = run_cli("ingest", feed, "--json", env=REFUSED)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [row] = json_lines(done.stdout)
    assert row["status"] == "failed" and row["source"] == feed and "\n" not in row["error"]
    assert row["error"] == ("refused: 127.0.0.1 is a loopback address "
                            "(set ONRECORD_ALLOW_PRIVATE_URLS=true to allow local and private addresses)")
    assert site.asked == [], "nothing was asked of the server, not even by yt-dlp"

    done = run_cli("ingest", feed, "--json", env=ALLOWED)
    assert done.returncode == 0, done.stderr
    assert [r["status"] for r in json_lines(done.stdout)] == ["added"]
    assert site.asked == ["/feed.xml", "/episode.vtt"]


def test_a_url_on_loopback_is_one_error_line_and_exit_1(site):
    site.routes["/x.mp3"] = (200, {"Content-Type": "audio/mpeg"}, (SAMPLES / "rockets-interview.mp3").read_bytes())
    done = run_cli("ingest", f"{site.url}/x.mp3", env=REFUSED)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith(f"error: {site.url}/x.mp3: refused: 127.0.0.1 is a loopback address (set ONRECORD_")
    assert site.asked == []


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",  # a cloud's metadata service
    "http://10.0.0.8/feed.xml", "http://192.168.1.1/", "http://[::1]:8000/api/interviews", "http://127.0.0.1:8000/",
    "http://localhost:8501/", "http://0.0.0.0/", "http://224.0.0.251/", "http://[::ffff:10.1.2.3]/",
    "http://[fe80::1]/", "http://2130706433/",  # 127.0.0.1 written as one number
])
def test_local_private_and_link_local_addresses_are_refused_unless_allowed(url):
    with pytest.raises(UrlRefused) as refused:
        check_url(url, allow_private=False)
    message = str(refused.value)
    assert message.startswith(f"{url}: refused: ") and "set ONRECORD_ALLOW_PRIVATE_URLS=true" in message
    assert "\n" not in message
    check_url(url, allow_private=True)


def test_public_addresses_pass_and_only_web_urls_are_fetched():
    check_url("http://93.184.215.14/feed.xml", allow_private=False)
    check_url("https://[2606:4700::6810:84e5]/a.mp3", allow_private=False)
    for url in ("file:///etc/passwd", "ftp://10.0.0.1/x", "gopher://127.0.0.1:6379/_"):
        with pytest.raises(UrlRefused, match="only http and https URLs"):
            check_url(url, allow_private=True)


@pytest.mark.timeout(60)
def test_the_metadata_service_is_refused_before_any_connection():
    """Nothing listens at 169.254.169.254 here: a fetch that tried would hang until its 20-s timeout."""
    url = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(UrlRefused, match=r"^refused: 169\.254\.169\.254 is a link-local address"):
        download_file(url, Path("/nonexistent/never-written"), 2**20, allow_private=False)
    with pytest.raises(UrlRefused, match="link-local"):
        fetch_feed(url, allow_private=False)
    with pytest.raises(UrlRefused, match="link-local"):
        download_audio(url, Path("/nonexistent"), DownloadLimits(allow_private_urls=False))
    [source], feeds = expand_feeds([Source(ref=url, kind="url")], allow_private=False)
    assert feeds == [] and source.error.startswith("refused: 169.254.169.254 is a link-local address")


@pytest.fixture
def public_loopback(monkeypatch):
    """127.0.0.1 passes for a public address; every other address is judged as usual."""
    judged = netguard.address_kind
    monkeypatch.setattr(netguard, "address_kind", lambda a: None if str(a) == "127.0.0.1" else judged(a))


def _redirect(site: Server, path: str, to: str) -> str:
    site.routes[path] = (302, {"Location": to}, b"")
    return f"{site.url}{path}"


def test_a_redirect_to_a_private_address_is_refused_at_the_hop(site, inside, public_loopback, tmp_path):
    feed = _redirect(site, "/feed.xml", _feed(inside))
    hop = f"refused: redirected to {inside.url}/feed.xml: 127.0.0.2 is a loopback address (set ONRECORD_"
    with pytest.raises(UrlRefused) as refused:
        fetch_feed(feed, allow_private=False)
    assert str(refused.value).startswith(hop)
    [source], _ = expand_feeds([Source(ref=feed, kind="url")], allow_private=False)
    assert source.error.startswith(hop)

    audio = _redirect(site, "/episode.mp3", f"{inside.url}/episode.mp3")
    with pytest.raises(UrlRefused, match=f"redirected to {inside.url}/episode.mp3: 127.0.0.2 is a loopback"):
        download_file(audio, tmp_path / "episode.mp3", 2**20, allow_private=False)
    assert inside.asked == [] and not (tmp_path / "episode.mp3").exists(), "the hop was refused before it was asked"

    assert fetch_feed(feed, allow_private=True).title == "Roof Radio", "allowed, the redirect is followed"


def test_yt_dlp_is_refused_a_redirect_to_a_private_address(site, inside, public_loopback, tmp_path):
    """yt-dlp follows redirects inside its HTTP library: the hop is asked, but what it answers is never read."""
    inside.routes["/talk.mp3"] = (200, {"Content-Type": "audio/mpeg"},
                                  (SAMPLES / "rockets-interview.mp3").read_bytes())
    url = _redirect(site, "/talk.mp3", f"{inside.url}/talk.mp3")
    folder = tmp_path / "download"
    folder.mkdir()
    with pytest.raises(UrlRefused, match=f"redirected to {inside.url}/talk.mp3: 127.0.0.2 is a loopback"):
        download_audio(url, folder, DownloadLimits(allow_private_urls=False))
    assert list(folder.iterdir()) == [], "nothing was downloaded"


# -- imported JSON exports ------------------------------------------------------------------------------------


def _export(path: Path, interview: dict, text: str = "The roof garden feeds sixty families.") -> Path:
    segment = {"start": 0.0, "end": 4.0, "text": text, "speaker": "Dana", "words": []}
    path.write_text(json.dumps({"interview": {"title": path.stem, **interview}, "segments": [segment]}))
    return path


def _stored(interview_id: str):
    archive = open_archive(Settings())
    archive.refresh()  # see what the CLI process committed
    return archive.get(interview_id)


def test_an_imported_export_never_names_a_server_file_as_its_media(tmp_path):
    sources = [_export(tmp_path / "passwd.json", {"media": "/etc/passwd"}, "One."),
               _export(tmp_path / "traversal.json", {"media": "media:../../etc/passwd"}, "Two."),
               _export(tmp_path / "linked.json", {"media": "https://example.com/episode-12.mp3"}, "Three.")]
    done = run_cli("ingest", *map(str, sources), "--json")
    assert done.returncode == 0, done.stderr
    ids = {Path(r["source"]).stem: r["interview_id"] for r in json_lines(done.stdout)}
    assert _stored(ids["passwd"]).media is None and _stored(ids["traversal"]).media is None
    shown = json.loads(run_cli("show", ids["traversal"], "--json").stdout)
    assert shown["interview"]["media"] is None
    assert _stored(ids["linked"]).media == "https://example.com/episode-12.mp3", "a web link is kept"


def test_an_export_claiming_another_sources_id_gets_its_own(tmp_path):
    vtt = tmp_path / "talk.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nWhat the speaker really said.\n")
    taken = content_id(Source(ref=str(vtt), kind="transcript", path=vtt))
    of_a_url = content_id(Source(ref="https://example.com/interview.mp3", kind="url"))
    forged = _export(tmp_path / "forged.json", {"id": taken}, "Words the speaker never said.")
    pre_empting = _export(tmp_path / "pre-empting.json", {"id": of_a_url}, "Words put in a URL's place.")
    done = run_cli("ingest", str(vtt), str(forged), str(pre_empting), "--json")
    assert done.returncode == 0, done.stderr
    rows = {Path(r["source"]).name: r for r in json_lines(done.stdout)}
    assert [r["status"] for r in rows.values()] == ["added", "added", "added"]
    assert rows["talk.vtt"]["interview_id"] == taken
    for path in (forged, pre_empting):
        assert rows[path.name]["interview_id"] == hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    assert [s.text for s in _segments(taken)] == ["What the speaker really said."]


def _segments(interview_id: str):
    archive = open_archive(Settings())
    archive.refresh()
    return archive.segments(archive.get(interview_id))


def test_a_mistyped_field_is_one_line_naming_the_file_and_the_field_and_the_batch_goes_on(tmp_path):
    bad = _export(tmp_path / "talk.json", {"date": 2020})
    good = tmp_path / "good.vtt"
    good.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nThe batch carries on.\n")
    done = run_cli("ingest", str(bad), str(good))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert error == f"error: {bad}: interview.date: Input should be a valid string"
    assert [i["title"] for i in json.loads(run_cli("list", "--json").stdout)] == ["good"]


@pytest.mark.parametrize("segment, where", [
    ({"start": "soon", "end": 4.0, "text": "x"}, "segments[0].start: Input should be a valid number"),
    ({"start": 0.0, "end": 4.0}, "segments[0].text: Field required"),
    ({"start": 5.0, "end": 4.0, "text": "x"}, "segments[0]: ends before it starts"),
    ({"start": 0.0, "end": 4.0, "text": "x", "words": [{"start": 0, "end": 1, "word": 7}]},
     "segments[0].words[0].word: Input should be a valid string"),
])
def test_a_bad_segment_names_where_it_is(tmp_path, segment, where):
    from onrecord.ingest.captions import CaptionError, parse_json

    with pytest.raises(CaptionError) as bad:
        parse_json(json.dumps({"interview": {}, "segments": [segment]}), "talk")
    assert str(bad.value).startswith(where)
