"""Upgrading an archive written by an older onrecord, in place, one schema step at a time.

Each step only rewrites records, idempotently, and the schema number moves last: a step that is interrupted
is simply run again. Nothing is deleted, and an archive is never upgraded behind its owner's back: opening an
older one says to run `onrecord migrate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .archive import SCHEMA_VERSION, Archive
from ..errors import OnrecordError


@dataclass(frozen=True, slots=True)
class Migration:
    from_schema: int
    to_schema: int
    changed: int  # records rewritten


def _v1_to_v2(archive: Archive) -> int:
    """Media files in the media folder become relative to it, so every machine finds them under its own."""
    if archive.media_dir is None:
        return 0
    changed = 0
    for interview in archive.stored_records():
        if archive.media_ref(interview.media) != interview.media:
            archive.put_record(interview)
            changed += 1
    return changed


STEPS: dict[int, Callable[[Archive], int]] = {1: _v1_to_v2}


def migrate(archive: Archive) -> Migration:
    start = archive.schema
    if start > SCHEMA_VERSION:
        raise OnrecordError(f"archive {archive.location} has schema {start}, newer than this onrecord understands")
    changed = 0
    for version in range(start, SCHEMA_VERSION):
        changed += STEPS[version](archive)
        archive.set_schema(version + 1)
    return Migration(start, SCHEMA_VERSION, changed)
