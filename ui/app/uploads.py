"""Uploaded files are stored under the media folder with a safe name: never where their name points."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path


def safe_name(name: str) -> str:
    """'../../etc/passwd' -> 'passwd'; a Windows path keeps only its last part; odd characters -> '_'."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    return base[:120] or "upload"


def store_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write atomically into `folder`, prefixed by a content hash so equal names never collide."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{hashlib.sha256(data).hexdigest()[:10]}-{safe_name(name)}"
    if not target.exists():
        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return target
