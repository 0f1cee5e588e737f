"""What the user named on the command line -> a flat list of sources, each with a content-derived id."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

MEDIA_SUFFIXES = frozenset(
    ".wav .mp3 .m4a .aac .flac .ogg .oga .opus .wma .mp4 .m4v .mkv .webm .mov .avi .mpg .mpeg".split())
TRANSCRIPT_SUFFIXES = frozenset({".vtt", ".srt", ".json"})


@dataclass(frozen=True, slots=True)
class Source:
    ref: str  # as the user wrote it (or the file found in their folder)
    kind: str  # "media" | "url" | "transcript"
    path: Path | None = None
    error: str | None = None  # the input itself is unusable: missing, unreadable

    @property
    def url(self) -> str:
        return self.ref.strip()


def is_url(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://"))


def expand(inputs: Iterable[str]) -> list[Source]:
    sources: list[Source] = []
    for item in inputs:
        if is_url(item):
            sources.append(Source(ref=item.strip(), kind="url"))
            continue
        path = Path(item).expanduser()
        if path.is_dir():
            sources.extend(_walk(path))
        elif path.exists():
            sources.append(_file_source(path))
        else:
            sources.append(Source(ref=item, kind="media", path=path, error="no such file or folder"))
    return sources


def _walk(folder: Path) -> Iterator[Source]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=None):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / f for f in files
                     if not f.startswith(".") and Path(f).suffix.lower() in MEDIA_SUFFIXES | TRANSCRIPT_SUFFIXES)
    # In a folder, a .json file is taken only if it is an onrecord export; other JSON is not ours.
    yield from (_file_source(p) for p in sorted(found) if p.suffix.lower() != ".json" or _looks_exported(p))


def _looks_exported(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(64).lstrip().startswith(b'{"interview"')
    except OSError:
        return True  # let the ingest report the problem


def _file_source(path: Path) -> Source:
    kind = "transcript" if path.suffix.lower() in TRANSCRIPT_SUFFIXES else "media"
    if not path.is_file():
        return Source(ref=str(path), kind=kind, path=path, error="not a regular file")
    if not os.access(path, os.R_OK):
        return Source(ref=str(path), kind=kind, path=path, error="permission denied")
    return Source(ref=str(path), kind=kind, path=path)


def content_id(source: Source) -> str:
    """Same bytes (or the same URL) -> the same interview id, wherever and whenever it is ingested.
    An onrecord JSON export keeps the id it was exported with, so moving it between archives is a no-op."""
    if source.path is not None and source.path.suffix.lower() == ".json":
        carried = _exported_id(source.path)
        if carried:
            return carried
    digest = hashlib.sha256()
    if source.kind == "url":
        digest.update(b"url:" + source.url.encode())
    else:
        with open(source.path, "rb") as f:  # type: ignore[arg-type]
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _exported_id(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        carried = data["interview"]["id"]
    except (ValueError, KeyError, TypeError):
        return None
    return carried if isinstance(carried, str) and re.fullmatch(r"[0-9a-f]{16}", carried) else None
