"""Uploaded files (the app's and the HTTP API's) are stored under the media folder with a safe name: never where
their name points. A stored upload is named `<10 hex of its sha256>-<safe name>`; only such files, in that folder,
are ever removed."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

_STORED = re.compile(r"[0-9a-f]{10}-(.+)")


def safe_name(name: str) -> str:
    """'../../etc/passwd' -> 'passwd'; a Windows path keeps only its last part; odd characters -> '_'."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    return base[:120] or "upload"


def store_upload(folder: Path, name: str, data: bytes | BinaryIO) -> Path:
    """Write atomically into `folder`, prefixed by a content hash so equal names never collide. `data`: the bytes,
    or a file to copy in blocks (the API's uploads, spooled to disk: a 2 GB recording never sits in memory)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
        target = folder / f"{digest.hexdigest()[:10]}-{safe_name(name)}"
        if not target.exists():
            os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def original_name(path: str) -> str:
    """A file's name as its owner knows it: a stored upload without its hash prefix, no folders either way."""
    parts = path.replace("\\", "/").rsplit("/", 2)
    name = parts[-1]
    stored = _STORED.fullmatch(name) if len(parts) > 1 and parts[-2] == "uploads" else None
    return stored.group(1) if stored else name


def is_stored_upload(folder: Path, path: Path) -> bool:
    """Whether `path` is a file this server stored in its uploads `folder` (named as store_upload names them)."""
    try:
        return path.resolve().parent == folder.resolve() and _STORED.fullmatch(path.name) is not None
    except OSError:
        return False


def discard_upload(folder: Path, path: Path) -> bool:
    """Remove `path` if it is an upload this server stored in `folder`; anything else is left alone."""
    ours = is_stored_upload(folder, path)
    if ours:
        path.unlink(missing_ok=True)
    return ours
