"""Chroma clients: an embedded folder by default, a `chroma run` server with a URL.

Where the archive lives is one setting: a folder, or a server URL whose path names a Chroma database
(``http://host:8000`` is the server's default database, ``http://host:8000/newsroom`` another archive on the
same server, created on first use)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .archive import Archive, is_storage_error, storage_reason
from ..config import Settings
from ..errors import NoArchive, OnrecordError, StorageError

DEFAULT_DATABASE = "default_database"


@dataclass(frozen=True)
class ServerAddress:
    host: str
    port: int
    ssl: bool
    database: str

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl else "http"
        path = "" if self.database == DEFAULT_DATABASE else f"/{self.database}"
        return f"{scheme}://{self.host}:{self.port}{path}"


def is_server(location: str) -> bool:
    return "://" in location


def open_archive(settings: Settings, *, create: bool = False, upgrading: bool = False) -> Archive:
    """Only `create` (ingest, and the app that can add interviews) makes a new archive; every other caller gets
    NoArchive where there is none, and nothing is written. `upgrading` opens an archive of an older schema (for
    `onrecord migrate`); otherwise that is refused."""
    location = settings.chroma_url or settings.archive
    if settings.chroma_url and not is_server(settings.chroma_url):
        location = f"http://{settings.chroma_url}"
    if is_server(location):
        address = parse_server_url(location)
        return Archive(http_client(address, create=create), location=address.url, media_dir=settings.media_dir,
                       upgrading=upgrading, create=create)
    path = Path(location).expanduser().resolve()  # one archive, one spelling: its caches are keyed by it
    if not create and not (path / "chroma.sqlite3").is_file():  # opening a Chroma folder creates it
        raise NoArchive(str(path))
    return Archive(persistent_client(path), location=str(path), reopen=lambda: persistent_client(path, fresh=True),
                   folder=path, min_free_bytes=settings.min_free_mb * 2**20, media_dir=settings.media_dir,
                   upgrading=upgrading, create=create)


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
    except Exception as exc:  # noqa: BLE001 - OSError, or Chroma's own (SQLite's) errors
        if not is_storage_error(exc):
            raise
        raise StorageError(f"cannot open archive folder {path}: {storage_reason(exc)}") from exc


def parse_server_url(url: str) -> ServerAddress:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise OnrecordError(f"bad Chroma URL {url!r}: expected http://HOST:PORT[/DATABASE]")
    ssl = parsed.scheme == "https"
    database = parsed.path.strip("/") or DEFAULT_DATABASE
    if "/" in database:
        raise OnrecordError(f"bad Chroma URL {url!r}: the path is one database name, like /newsroom")
    try:
        port = parsed.port or (443 if ssl else 8000)
    except ValueError as exc:
        raise OnrecordError(f"bad Chroma URL {url!r}: {exc}") from exc
    return ServerAddress(parsed.hostname, port, ssl, database)


def http_client(address: ServerAddress, *, create: bool = True):
    import chromadb

    try:
        if address.database != DEFAULT_DATABASE:
            _ensure_database(address, create)
        return chromadb.HttpClient(host=address.host, port=address.port, ssl=address.ssl,
                                   database=address.database, settings=_chroma_settings())
    except OnrecordError:
        raise
    except Exception as exc:  # noqa: BLE001 - chromadb raises bare ValueError/ConnectError here
        raise StorageError(f"cannot reach Chroma at {address.url}: {' '.join(str(exc).split())}") from exc


def _ensure_database(address: ServerAddress, create: bool) -> None:
    """A named archive on a shared server is created the first time anyone ingests into it."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    admin = chromadb.AdminClient(ChromaSettings(
        chroma_api_impl="chromadb.api.fastapi.FastAPI", chroma_server_host=address.host,
        chroma_server_http_port=address.port, chroma_server_ssl_enabled=address.ssl, anonymized_telemetry=False))
    try:
        admin.get_database(address.database)
    except Exception:  # noqa: BLE001 - "not found" has no stable type across chromadb versions
        if not create:
            raise NoArchive(address.url) from None
        try:
            admin.create_database(address.database)
        except Exception:  # noqa: BLE001 - another process may have created it a moment ago
            admin.get_database(address.database)
