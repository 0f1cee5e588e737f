"""Podcast feeds (RSS and Atom): a URL that serves one stands for its episodes, newest first.

Whether a URL is a feed is found by fetching it: its content type, or its first bytes, say so (a YouTube page or
an MP3 is left to yt-dlp, which is where it was going anyway). Each episode is one source, identified without
downloading anything: by its guid, qualified by the show's website (or the feed URL), so re-reading the feed
skips what is already in the archive; an episode without a guid is identified by its enclosure URL exactly as if
that URL had been ingested on its own. An episode with a Podcasting 2.0 `<podcast:transcript>` in a format
onrecord reads (WebVTT, SRT, JSON) is imported from it, not transcribed. A feed on this machine or a private
network, or one that redirects there, is refused unless the settings allow it (netguard.py)."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Iterable
from urllib.parse import urljoin, urlparse

from onrecord.search.errors import SourceError

from .fetch import http_get
from .netguard import private_allowed
from .sources import MEDIA_SUFFIXES, Source, is_url

MAX_FEED_BYTES = 64 * 2**20  # the biggest real feeds (thousands of episodes with show notes) are ~20 MB
SNIFF_BYTES = 4096
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
_NOT_FEEDS = ("audio/", "video/", "image/")  # big binaries: not even sniffed
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:rdf)[\s>]", re.IGNORECASE)
# Podcasting 2.0 transcript types onrecord reads, best first (HTML and plain text carry no timings).
TRANSCRIPT_TYPES = {"text/vtt": ".vtt", "application/x-subrip": ".srt", "application/srt": ".srt",
                    "text/srt": ".srt", "application/json": ".json"}
_PODCAST_NS = "podcastindex.org/namespace"


@dataclass(frozen=True, slots=True)
class Episode:
    feed: str  # the feed's URL
    show: str | None  # the feed's title
    title: str
    date: str | None  # YYYY-MM-DD, as the publisher wrote it (its own time zone)
    identity: str  # what the interview id is derived from (sources.content_id)
    enclosure: str | None  # the audio or video
    transcript: str | None = None  # a Podcasting 2.0 transcript onrecord reads
    transcript_suffix: str | None = None  # ".vtt" | ".srt" | ".json"

    @property
    def enclosure_suffix(self) -> str:
        """The enclosure's file extension when it names a media type (it helps the decoder), else ".media"."""
        suffix = _suffix(self.enclosure or "")
        return suffix if suffix in MEDIA_SUFFIXES else ".media"

    @property
    def media(self) -> str:
        """What a deep link opens: the recording, or the transcript when the feed gives no recording."""
        return self.enclosure or self.transcript or self.feed


@dataclass(frozen=True, slots=True)
class Feed:
    url: str
    title: str | None
    episodes: tuple[Episode, ...]  # newest first
    items: int  # all items, including those with nothing to ingest


def expand_feeds(sources: Iterable[Source], *, limit: int | None = None,
                 allow_private: bool | None = None) -> tuple[list[Source], list[Feed]]:
    """Each URL source that is a feed replaced by its newest `limit` episodes (all when None); the feeds found.
    `allow_private`: fetch from local and private addresses too (None: as the settings in the environment say);
    a URL refused for its address is a source with that error, never handed on to yt-dlp."""
    expanded: list[Source] = []
    feeds: list[Feed] = []
    allow_private = private_allowed(allow_private)  # read once for the whole batch
    for source in sources:
        if source.kind != "url" or source.error or not is_url(source.url):
            expanded.append(source)
            continue
        try:
            feed = fetch_feed(source.url, allow_private)
        except SourceError as exc:
            expanded.append(Source(ref=source.ref, kind="url", error=str(exc)))
            continue
        if feed is None:
            expanded.append(source)
            continue
        feeds.append(feed)
        episodes = feed.episodes[:limit] if limit is not None else feed.episodes
        if not feed.episodes:
            expanded.append(Source(ref=source.ref, kind="url",
                                   error="a feed with no episodes: no item has audio, video or a transcript"))
        expanded.extend(Source(ref=e.media, kind="url", episode=e) for e in episodes)
    return expanded, feeds


def fetch_feed(url: str, allow_private: bool | None = None) -> Feed | None:
    """The feed at `url`, or None when what it serves is not a feed (or it cannot be fetched: yt-dlp, which
    handles every other URL, then reports that in its own words). A URL whose host, or a redirect's, may not be
    fetched raises UrlRefused."""
    import httpx

    try:
        with http_get(url, allow_private) as response:
            if response.status_code >= 400:
                return None
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind.startswith(_NOT_FEEDS):
                return None
            data = _read_feed(response.iter_bytes(1 << 16), declared=kind in _FEED_TYPES)
            final = str(response.url)
    except httpx.HTTPError:
        return None
    if data is None:
        return None
    feed = parse_feed(data, final)
    if feed is None and kind in _FEED_TYPES:
        raise SourceError(f"served as {kind}, but not a feed onrecord can read")
    return feed


def _read_feed(blocks: Iterable[bytes], *, declared: bool) -> bytes | None:
    data = bytearray()
    for block in blocks:
        data += block
        if not declared and len(data) >= SNIFF_BYTES and not _FEED_ROOT.search(data[:SNIFF_BYTES]):
            return None  # an HTML page, a JSON API, a file: read no further
        if len(data) > MAX_FEED_BYTES:
            raise SourceError(f"a feed larger than {MAX_FEED_BYTES // 2**20} MB")
    return bytes(data) if declared or _FEED_ROOT.search(data[:SNIFF_BYTES]) else None


def parse_feed(data: bytes, url: str) -> Feed | None:
    import feedparser

    parsed = feedparser.parse(data, response_headers={"content-location": url})
    if not parsed.get("version"):
        return None
    show = " ".join(parsed.feed.get("title", "").split()) or None
    home = parsed.feed.get("link") or url
    transcripts = _transcript_links(data, len(parsed.entries))
    found = []
    for n, entry in enumerate(parsed.entries):
        links = transcripts[n] if transcripts is not None else _entry_transcripts(entry)
        episode = _episode(entry, url, show, home, links)
        if episode is not None:
            found.append((_published(entry), episode))
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    found.sort(key=lambda pair: pair[0] or oldest, reverse=True)  # stable: undated items keep the feed's order
    return Feed(url=url, title=show, episodes=tuple(e for _, e in found), items=len(parsed.entries))


def _episode(entry, url: str, show: str | None, home: str, transcripts: list[tuple[str, str]]) -> Episode | None:
    enclosure = _enclosure(entry, url)
    transcript, suffix = _best_transcript(transcripts, url)
    if not enclosure and not transcript:
        return None  # a blog post, an announcement: nothing to listen to or read
    guid = (entry.get("id") or "").strip()
    identity = f"guid:{home}\n{guid}" if guid else f"url:{enclosure or transcript}"
    published = _published(entry)
    title = " ".join((entry.get("title") or "").split()) or _name_of(enclosure or transcript)
    return Episode(feed=url, show=show, title=title, date=published.date().isoformat() if published else None,
                   identity=identity, enclosure=enclosure, transcript=transcript, transcript_suffix=suffix)


def _enclosure(entry, base: str) -> str | None:
    enclosures = [e for e in entry.get("enclosures") or () if e.get("href")]

    def playable(e) -> bool:
        kind = (e.get("type") or "").lower()
        if kind:
            return kind.startswith(("audio/", "video/"))
        return _suffix(e["href"]) in MEDIA_SUFFIXES

    chosen = next((e for e in enclosures if playable(e)), None)
    return urljoin(base, chosen["href"].strip()) if chosen else None


def _best_transcript(links: list[tuple[str, str]], base: str) -> tuple[str | None, str | None]:
    readable = []
    for href, kind in links:
        suffix = TRANSCRIPT_TYPES.get(kind.split(";")[0].strip().lower()) if kind else None
        suffix = suffix or (_suffix(href) if not kind and _suffix(href) in (".vtt", ".srt", ".json") else None)
        if suffix:
            readable.append((list(TRANSCRIPT_TYPES.values()).index(suffix), urljoin(base, href.strip()), suffix))
    if not readable:
        return None, None
    _, href, suffix = min(readable)
    return href, suffix


def _transcript_links(data: bytes, entries: int) -> list[list[tuple[str, str]]] | None:
    """Every item's `<podcast:transcript>` links, in document order (feedparser keeps only an item's last one).
    None when the document is too broken for a strict XML parser, or its items do not line up with feedparser's."""
    items: list[list[tuple[str, str]]] = []
    try:
        for _, element in ET.iterparse(io.BytesIO(data), events=("end",)):
            local = element.tag.rsplit("}", 1)[-1]
            if local in ("item", "entry"):
                items.append([(t.get("url") or "", t.get("type") or "") for t in element.iter()
                              if t.tag.endswith("}transcript") and _PODCAST_NS in t.tag and t.get("url")])
                element.clear()
    except ET.ParseError:
        return None
    return items if len(items) == entries else None


def _entry_transcripts(entry) -> list[tuple[str, str]]:
    found = entry.get("podcast_transcript")
    return [(found.get("url") or "", found.get("type") or "")] if found and found.get("url") else []


def _published(entry) -> datetime | None:
    """When the item was published, in the publisher's own time zone (an episode published at 23:00 in New York
    is dated that day, not the next day in UTC)."""
    for key in ("published", "updated"):
        raw = (entry.get(key) or "").strip()
        if not raw:
            continue
        for parse in (parsedate_to_datetime, _iso):
            try:
                found = parse(raw)
            except (TypeError, ValueError, IndexError):
                continue
            return found if found.tzinfo else found.replace(tzinfo=timezone.utc)
        stamp = entry.get(f"{key}_parsed")  # feedparser's other formats, normalised to UTC
        if stamp:
            return datetime(*stamp[:6], tzinfo=timezone.utc)
    return None


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _suffix(url: str) -> str:
    path = urlparse(url).path
    return path[path.rfind("."):].lower() if "." in path.rsplit("/", 1)[-1] else ""


def _name_of(url: str | None) -> str:
    return urlparse(url or "").path.rstrip("/").rsplit("/", 1)[-1] or "untitled"
