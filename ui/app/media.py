"""Local recordings served by URL, a range at a time, from the app's own server.

`st.audio(path)` reads the whole file into memory and hashes it on every run that draws the player: a 3-hour
recording is read to play 10 seconds. Instead the app runs as a `streamlit.starlette.App` (ui/app/serve.py) with
one more route, /api/media/<token>/<name>, which streams a file with HTTP Range support (206), so the browser fetches
only the bytes it plays and seeks to. It is the page's own origin and port, so it works wherever the app is
reached, behind the same address.

Only files the app itself chose to play are served: drawing a player registers its file under a token derived
from a secret made at start-up; any other token, and any path, is 404. A token says nothing about the file and
cannot be guessed, like Streamlit's own /media/ URLs.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import secrets
import threading
import urllib.parse
from pathlib import Path

ROUTE = "/api/media"
_SECRET = secrets.token_hex(16)  # per process: a restarted app hands out new URLs
_lock = threading.Lock()
_files: dict[str, Path] = {}  # token -> file: what drawn players may fetch
_mounted = False  # set by routes(): the app runs under serve.py, which serves ROUTE


def routes() -> list:
    """The route for the app's server (ui/app/serve.py)."""
    from starlette.routing import Route

    global _mounted
    _mounted = True
    return [Route(ROUTE + "/{token}/{name}", serve, methods=["GET", "HEAD"])]


def mounted() -> bool:
    return _mounted


def register(path: str | Path) -> str:
    """The token under which `path` is served from now on (the same one on every run)."""
    resolved = Path(path).resolve()
    token = hashlib.sha256(f"{_SECRET}\0{resolved}".encode()).hexdigest()[:32]
    with _lock:
        _files[token] = resolved
    return token


def url(path: str | Path, origin: str) -> str:
    """The address of a local file for a player on a page served from `origin` (scheme://host:port)."""
    name = urllib.parse.quote(Path(path).name or "media")
    return f"{origin.rstrip('/')}{ROUTE}/{register(path)}/{name}"


def origin_of(page_url: str | None) -> str | None:
    """scheme://host[:port] of the page the browser shows, from st.context.url."""
    if not page_url:
        return None
    parts = urllib.parse.urlsplit(page_url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


async def serve(request):
    from starlette.responses import FileResponse, Response

    with _lock:
        path = _files.get(request.path_params["token"])
    if path is None or not os.path.isfile(path):
        return Response(status_code=404)
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = FileResponse(path, media_type=kind)  # streams in chunks and answers Range with 206
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
