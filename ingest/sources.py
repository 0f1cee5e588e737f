"""What the user named on the command line -> a flat list of sources, each with a content-derived id."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

if TYPE_CHECKING:
    from .feeds import Episode

MEDIA_SUFFIXES = frozenset(
    ".wav .mp3 .m4a .aac .flac .ogg .oga .opus .wma .mp4 .m4v .mkv .webm .mov .avi .mpg .mpeg".split())
TRANSCRIPT_SUFFIXES = frozenset({".vtt", ".srt", ".json"})


@dataclass(frozen=True, slots=True)
class Source:
    ref: str  # as the user wrote it (or the file found in their folder)
    kind: str  # "media" | "url" | "transcript"
    path: Path | None = None
    error: str | None = None  # the input itself is unusable: missing, unreadable
    episode: Episode | None = None  # a podcast feed's item (ingest/feeds.py); `ref` is then its media URL

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
            sources.append(file_source(path))
        else:
            sources.append(Source(ref=item, kind="media", path=path, error="no such file or folder"))
    return sources


def _walk(folder: Path) -> Iterator[Source]:
    yield from (file_source(p) for p in folder_files(folder))


def folder_files(folder: Path) -> list[Path]:
    """The files in `folder` (and the folders in it) that ingesting the folder takes, sorted."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=None):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / f for f in files if _supported_name(f))
    return [p for p in sorted(found) if taken_from_folder(p)]


def _supported_name(name: str) -> bool:
    return not name.startswith(".") and Path(name).suffix.lower() in MEDIA_SUFFIXES | TRANSCRIPT_SUFFIXES


def taken_from_folder(path: Path) -> bool:
    """Whether a file found in a folder is one to ingest. In a folder, a .json file is taken only if it is an
    onrecord export or a Podcasting 2.0 transcript; other JSON is not ours."""
    if not _supported_name(path.name):
        return False
    return path.suffix.lower() != ".json" or _looks_like_transcript_json(path)


def _looks_like_transcript_json(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(4096).lstrip()
    except OSError:
        return True  # let the ingest report the problem
    return head.startswith(b'{"interview"') or (head.startswith(b"{") and b'"startTime"' in head)


def file_source(path: Path) -> Source:
    kind = "transcript" if path.suffix.lower() in TRANSCRIPT_SUFFIXES else "media"
    if not path.is_file():
        return Source(ref=str(path), kind=kind, path=path, error="not a regular file")
    if not os.access(path, os.R_OK):
        return Source(ref=str(path), kind=kind, path=path, error="permission denied")
    return Source(ref=str(path), kind=kind, path=path)


def content_id(source: Source) -> str:
    """Same bytes (or the same URL, or the same feed episode) -> the same interview id, wherever and whenever it
    is ingested. An onrecord JSON export is hashed like any other transcript file: the id it carries is not
    taken, or an upload could claim the id of another source (a URL's, say) and stand in for it."""
    digest = hashlib.sha256()
    if source.episode is not None:  # known before anything is downloaded, so a re-read feed skips it
        digest.update(source.episode.identity.encode())
    elif source.kind == "url":
        digest.update(b"url:" + source.url.encode())
    else:
        with open(source.path, "rb") as f:  # type: ignore[arg-type]
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]
