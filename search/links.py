"""Deep links that open a recording at a moment."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse


def deep_link(media: str | None, seconds: float) -> str | None:
    if not media:
        return None
    t = max(0, int(seconds))
    if media.startswith(("http://", "https://")):
        return _url_link(media, t)
    return Path(media).resolve().as_uri() + f"#t={t}"


def _url_link(url: str, t: int) -> str:
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    if host == "youtu.be":
        return f"https://youtu.be/{parsed.path.lstrip('/')}?t={t}"
    if host.endswith("youtube.com"):
        video = parse_qs(parsed.query).get("v", [None])[0]
        if video:
            return f"https://www.youtube.com/watch?v={quote(video)}&t={t}s"
    base = url.split("#", 1)[0]
    return f"{base}#t={t}"  # W3C media fragment: browsers seek direct media files to it
