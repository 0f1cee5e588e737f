"""One settings object, resolved once: CLI flags > ONRECORD_* environment > .env > defaults."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_WHISPER_MODEL = "tiny.en"
DEFAULT_EMBED_MODEL = "all-MiniLM-L6-v2"


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONRECORD_", env_file=".env", extra="ignore")

    archive: Path = _data_home() / "onrecord" / "archive"
    chroma_url: str | None = None
    cache_dir: Path = _cache_home() / "onrecord"

    whisper_model: str = DEFAULT_WHISPER_MODEL
    device: str = "auto"  # "cpu", "cuda" or "auto"
    compute_type: str = "auto"  # any CTranslate2 compute type; "auto" picks the fastest for the device
    beam_size: int = 5
    language: str | None = None  # None: detect
    cpu_threads: int = 0  # 0: one per core

    # None: whatever the archive was built with (all-MiniLM-L6-v2 for a new archive).
    embed_model: str | None = None
    embed_backend: str = "onnx"  # "onnx" (about 2x faster on CPU, same vectors) or "torch"
    embed_batch_size: int = 32

    def resolved_cpu_threads(self) -> int:
        return self.cpu_threads or (os.cpu_count() or 1)
