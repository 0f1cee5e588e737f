"""One settings object, resolved once: CLI flags > ONRECORD_* environment > .env > defaults."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_WHISPER_MODEL = "tiny.en"
DEFAULT_EMBED_MODEL = "all-MiniLM-L6-v2"


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def default_cache_dir() -> Path:
    """onrecord's per-machine cache: the embedder's ONNX export, the keyword index, joined Whisper models."""
    return _cache_home() / "onrecord"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONRECORD_", env_file=".env", extra="ignore", populate_by_name=True)

    # A folder, or a Chroma server URL (http://host:8000[/database]); see search/store.py.
    archive: str = str(_data_home() / "onrecord" / "archive")
    chroma_url: str | None = None  # the older spelling of a server archive; wins over `archive` when set
    min_free_mb: int = 200  # an embedded archive stops writing when its disk has less free than this
    cache_dir: Path = default_cache_dir()
    media_dir: Path = _data_home() / "onrecord" / "media"  # where the app keeps uploaded files

    whisper_model: str = DEFAULT_WHISPER_MODEL
    device: str = "auto"  # "cpu", "cuda" or "auto"
    compute_type: str = "auto"  # any CTranslate2 compute type; "auto" picks the fastest for the device
    beam_size: int = 5
    language: str | None = None  # None: detect
    cpu_threads: int = 0  # 0: one per core
    diarize: bool = True  # who spoke when, for audio and video (transcripts bring their own speakers)
    speakers: int | None = None  # how many speakers a recording has, when known; None: the diarizer guesses

    # None: whatever the archive was built with (all-MiniLM-L6-v2 for a new archive).
    embed_model: str | None = None
    embed_backend: str = "onnx"  # "onnx" (1.45x torch on CPU, same vectors: bench_embed.py) or "torch"
    embed_batch_size: int = 32

    # The LLM, through any OpenAI-compatible server. Nothing set: extractive answers and summaries.
    llm_base_url: str | None = Field(None, validation_alias=AliasChoices("ONRECORD_LLM_BASE_URL", "OPENAI_BASE_URL"))
    llm_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("ONRECORD_LLM_API_KEY", "OPENAI_API_KEY"))
    llm_model: str | None = Field(None, validation_alias=AliasChoices("ONRECORD_LLM_MODEL"))
    llm_timeout: float = 60.0  # seconds for a whole completion; connecting gets 5
    llm_max_retries: int = 1  # one retry covers a blip; more would make a dead server slow to detect
    llm_context_tokens: int = 2048  # what one prompt may use; long interviews are summarised topic by topic
    topic_minutes: float = 5.0  # summaries aim for one topic per this many minutes (at most 12 topics)

    # The app, when it listens beyond this machine: every visitor enters the password; the Add page reads
    # folders on the server only under these roots (os.pathsep-separated), and none at all when unset.
    max_download_mb: float = 2048.0  # what one URL may bring in (ingest and the app)
    max_download_hours: float = 6.0
    # URLs and feeds on this machine or a private network (127.0.0.1, 10.x, 169.254.169.254...) are not fetched,
    # so a shared app or API is no way into them; true for a feed or a file server on your own network.
    allow_private_urls: bool = False
    app_host: str = "127.0.0.1"  # set by `onrecord ui --host`
    app_password: SecretStr | None = None
    server_folders: str | None = None
    # The HTTP API (`onrecord serve`): when set, every request carries `Authorization: Bearer <token>`; required
    # to listen beyond this machine.
    api_token: SecretStr | None = None

    @property
    def app_is_shared(self) -> bool:
        return not is_loopback(self.app_host)

    def folder_roots(self) -> list[Path] | None:
        """Where the app may read folders: the configured roots; None (anywhere) for an app only this machine
        can reach; [] (nowhere) for a shared app without configured roots."""
        if self.server_folders:
            return [Path(p).expanduser().resolve() for p in self.server_folders.split(os.pathsep) if p.strip()]
        return [] if self.app_is_shared else None

    @field_validator("archive", mode="before")
    @classmethod
    def _path_as_text(cls, value):
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    def resolved_cpu_threads(self) -> int:
        return self.cpu_threads or (os.cpu_count() or 1)


def is_loopback(host: str) -> bool:
    """127.0.0.1, ::1, localhost: only this machine can reach it."""
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost" or host.endswith(".localhost")
