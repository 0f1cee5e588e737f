"""URLs -> a local audio file through yt-dlp (audio only), keeping the original URL and title; and plain HTTP
downloads of files a feed links to (enclosures, transcripts), which need no extractor. Neither reaches a host
on this machine or a private network unless the settings allow it (netguard.py)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from onrecord.search.errors import SourceError

from .netguard import UrlRefused, private_allowed, refusal

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True, slots=True)
class Download:
    path: Path
    title: str | None
    date: str | None  # YYYY-MM-DD
    url: str  # the page URL to deep-link to


@dataclass(frozen=True, slots=True)
class DownloadLimits:
    """What one URL may bring in, and from where: a shared app must not be made to fetch a 50-GB file, a 24-hour
    stream, or a page on its own machine or network."""

    max_mb: float = 2048.0
    max_hours: float = 6.0
    allow_private_urls: bool | None = None  # None: as ONRECORD_ALLOW_PRIVATE_URLS says (netguard.private_allowed)

    @classmethod
    def from_settings(cls, settings) -> DownloadLimits:
        return cls(settings.max_download_mb, settings.max_download_hours, settings.allow_private_urls)


def download_audio(url: str, folder: Path, limits: DownloadLimits = DownloadLimits()) -> Download:
    import yt_dlp

    allow_private = private_allowed(limits.allow_private_urls)
    guard(url, url, allow_private)  # before yt-dlp sees it at all
    refused: list[str] = []

    def within_limits(info: dict, *, incomplete: bool) -> str | None:
        size = info.get("filesize") or info.get("filesize_approx")
        if (info.get("duration") or 0) > limits.max_hours * 3600:
            refused.append(f"longer than the {limits.max_hours:g}-hour download limit")
        elif size and size > limits.max_mb * 2**20:
            refused.append(f"larger than the {limits.max_mb:g} MB download limit")
        return refused[-1] if refused else None

    try:
        with _guarded_youtube_dl(_options(folder, limits, within_limits), url, allow_private) as ydl:
            info = ydl.extract_info(url, download=True)
            path = Path(ydl.prepare_filename(info))
    except yt_dlp.utils.YoutubeDLError as exc:
        raise SourceError(_clean(str(exc))) from exc
    if not path.exists():
        found = sorted(folder.glob("media.*"))
        if refused or not found:  # yt-dlp skips what its limits refuse without an error
            raise SourceError(refused[-1] if refused else
                              f"nothing was downloaded (over the {limits.max_mb:g} MB download limit?)")
        path = found[0]
    upload = info.get("upload_date") or ""
    date = f"{upload[:4]}-{upload[4:6]}-{upload[6:8]}" if re.fullmatch(r"\d{8}", upload) else None
    title = info.get("title")
    if info.get("extractor") == "generic" and title == info.get("id"):
        title = None  # the generic extractor "titles" a bare file URL with its file name stem
    return Download(path=path, title=title, date=date, url=info.get("webpage_url") or url)


def _options(folder: Path, limits: DownloadLimits, match_filter) -> dict:
    return {
        "max_filesize": int(limits.max_mb * 2**20),  # what the server declares; streams are cut off there too
        "match_filter": match_filter,
        "format": "bestaudio/best",
        "outtmpl": str(folder / "media.%(ext)s"),
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "noplaylist": True,
        "socket_timeout": 20,
        "retries": 1,
        "fragment_retries": 1,
        "logger": _SilentLogger(),
    }


USER_AGENT = "onrecord/0.1 (podcast archive)"
HTTP_TIMEOUT = 20.0  # seconds to connect, and between two reads


def guard(url: str, origin: str, allow_private: bool, how: str = "led to",
          schemes: tuple[str, ...] = ("http", "https")) -> None:
    """Raise UrlRefused unless `url`, asked for while fetching `origin` (`url` itself, a redirect `how` says, or
    a link the page gave), may be fetched. The caller's message names `origin`; this one names any other URL."""
    reason = refusal(url, allow_private, schemes)
    if reason:
        raise UrlRefused(f"refused: {'' if url == origin else f'{how} {url}: '}{reason}")


@contextmanager
def http_get(url: str, allow_private: bool | None = None) -> Iterator[httpx.Response]:
    """GET `url`, streamed, following redirects; the host of every request, each redirect hop included, is
    checked before it is asked (`allow_private`: None, as the settings in the environment say)."""
    import httpx

    allowed, origin = private_allowed(allow_private), httpx.URL(url)

    def check(request: httpx.Request) -> None:
        guard(str(request.url), str(origin), allowed, how="redirected to")

    with httpx.Client(follow_redirects=True, timeout=HTTP_TIMEOUT, headers={"User-Agent": USER_AGENT},
                      event_hooks={"request": [check]}) as client, client.stream("GET", origin) as response:
        yield response


def download_file(url: str, path: Path, max_bytes: int, allow_private: bool | None = None) -> Path:
    """`url`'s body into `path`, refusing more than `max_bytes`; any failure is a one-line SourceError."""
    import httpx

    try:
        with http_get(url, allow_private) as response:
            if response.status_code >= 400:
                raise SourceError(f"download failed: HTTP {response.status_code} {response.reason_phrase}".strip())
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise SourceError(f"larger than the {max_bytes / 2**20:g} MB download limit")
            got = 0
            with open(path, "wb") as f:
                for block in response.iter_bytes(1 << 16):
                    got += len(block)
                    if got > max_bytes:
                        raise SourceError(f"larger than the {max_bytes / 2**20:g} MB download limit")
                    f.write(block)
    except httpx.HTTPError as exc:
        raise SourceError(f"download failed: {' '.join(str(exc).split()) or exc.__class__.__name__}") from exc
    return path


def _clean(message: str) -> str:
    message = re.sub(r"\x1b\[[0-9;]*m", "", message)
    message = message.removeprefix("ERROR: ").strip().splitlines()[0] if message.strip() else "download failed"
    return re.sub(r"^\[[^\]]+\]\s*", "", message)


def _guarded_youtube_dl(options: dict, origin: str, allow_private: bool):
    """A YoutubeDL whose every request (the page, the links the extractor finds in it, the media, each fragment)
    has its host checked first, and whose responses are refused when a redirect ended on a host that may not be
    fetched. What remains: yt-dlp follows redirects inside its HTTP library, so the hop's request is sent before
    it can be checked; only its response is refused, unread."""
    import yt_dlp

    class GuardedYoutubeDL(yt_dlp.YoutubeDL):
        def urlopen(self, req):
            asked = req if isinstance(req, str) else getattr(req, "url", None) or req.get_full_url()
            if not asked.lower().startswith("data:"):
                guard(asked, origin, allow_private, schemes=_YTDL_SCHEMES)
            response = super().urlopen(req)
            if response.url != asked:
                try:
                    guard(response.url, origin, allow_private, how="redirected to", schemes=_YTDL_SCHEMES)
                except UrlRefused:
                    response.close()
                    raise
            return response

    return GuardedYoutubeDL(options)


_YTDL_SCHEMES = ("http", "https", "ws", "wss")  # what its request handlers speak besides data: (and file:, off)


class _SilentLogger:
    """Errors come back as exceptions; nothing yt-dlp says should reach the terminal."""

    def debug(self, msg: str) -> None: ...

    def info(self, msg: str) -> None: ...

    def warning(self, msg: str) -> None: ...

    def error(self, msg: str) -> None: ...
