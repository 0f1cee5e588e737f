"""Chroma clients: an embedded folder by default, a `chroma run` server with a URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from .archive import Archive
from .config import Settings
from .errors import OnrecordError


def open_archive(settings: Settings) -> Archive:
    if settings.chroma_url:
        return Archive(http_client(settings.chroma_url), location=settings.chroma_url)
    path = settings.archive.expanduser().resolve()  # one archive, one spelling: its caches are keyed by it
    return Archive(persistent_client(path), location=str(path), reopen=lambda: persistent_client(path, fresh=True),
                   lock_dir=path / "locks")


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def persistent_client(path: Path, *, fresh: bool = False):
    import chromadb

    if fresh:  # drop the process-wide cached system, so the folder is read anew
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    except OSError as exc:
        raise OnrecordError(f"cannot open archive folder {path}: {exc.strerror or exc}") from exc


def http_client(url: str):
    import chromadb

    parsed = urlparse(url if "://" in url else f"http://{url}")
    if not parsed.hostname:
        raise OnrecordError(f"bad Chroma URL {url!r}: expected http://HOST:PORT")
    ssl = parsed.scheme == "https"
    port = parsed.port or (443 if ssl else 8000)
    try:
        return chromadb.HttpClient(host=parsed.hostname, port=port, ssl=ssl, settings=_chroma_settings())
    except Exception as exc:  # noqa: BLE001 - chromadb raises bare ValueError/ConnectError here
        raise OnrecordError(f"cannot reach Chroma at {url}: {exc}") from exc
