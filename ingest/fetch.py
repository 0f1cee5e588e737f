"""URLs -> a local audio file through yt-dlp (audio only), keeping the original URL and title; and plain HTTP
downloads of files a feed links to (enclosures, transcripts), which need no extractor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from onrecord.search.errors import SourceError


@dataclass(frozen=True, slots=True)
class Download:
    path: Path
    title: str | None
    date: str | None  # YYYY-MM-DD
    url: str  # the page URL to deep-link to


@dataclass(frozen=True, slots=True)
class DownloadLimits:
    """What one URL may bring in: a shared app must not be made to fetch a 50-GB file or a 24-hour stream."""

    max_mb: float = 2048.0
    max_hours: float = 6.0

    @classmethod
    def from_settings(cls, settings) -> DownloadLimits:
        return cls(settings.max_download_mb, settings.max_download_hours)


def download_audio(url: str, folder: Path, limits: DownloadLimits = DownloadLimits()) -> Download:
    import yt_dlp

    refused: list[str] = []

    def within_limits(info: dict, *, incomplete: bool) -> str | None:
        size = info.get("filesize") or info.get("filesize_approx")
        if (info.get("duration") or 0) > limits.max_hours * 3600:
            refused.append(f"longer than the {limits.max_hours:g}-hour download limit")
        elif size and size > limits.max_mb * 2**20:
            refused.append(f"larger than the {limits.max_mb:g} MB download limit")
        return refused[-1] if refused else None

    options = {
        "max_filesize": int(limits.max_mb * 2**20),  # what the server declares; streams are cut off there too
        "match_filter": within_limits,
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
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
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


USER_AGENT = "onrecord/0.1 (podcast archive)"
HTTP_TIMEOUT = 20.0  # seconds to connect, and between two reads


def http_client():
    import httpx

    return httpx.Client(follow_redirects=True, timeout=HTTP_TIMEOUT, headers={"User-Agent": USER_AGENT})


def download_file(url: str, path: Path, max_bytes: int) -> Path:
    """`url`'s body into `path`, refusing more than `max_bytes`; any failure is a one-line SourceError."""
    import httpx

    try:
        with http_client() as client, client.stream("GET", url) as response:
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


class _SilentLogger:
    """Errors come back as exceptions; nothing yt-dlp says should reach the terminal."""

    def debug(self, msg: str) -> None: ...

    def info(self, msg: str) -> None: ...

    def warning(self, msg: str) -> None: ...

    def error(self, msg: str) -> None: ...
