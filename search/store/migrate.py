"""Upgrading an archive written by an older onrecord, in place, one schema step at a time.

Each step only rewrites records, idempotently, and the schema number moves last: a step that is interrupted
is simply run again. Nothing is deleted, and an archive is never upgraded behind its owner's back: opening an
older one says to run `onrecord migrate`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from .archive import SCHEMA_VERSION, Archive, page_record
from ..errors import OnrecordError

PAGES_PER_READ = 50


@dataclass(frozen=True, slots=True)
class Migration:
    from_schema: int
    to_schema: int
    changed: int  # records rewritten: interview records and transcript pages


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


def _v2_to_v3(archive: Archive) -> int:
    """Transcript pages record each segment's size (archive.page_record), so a hit decodes only its segments.
    Pages already rewritten (an interrupted run) are skipped; staged pages of unfinished ingests are rewritten too."""
    changed, offset = 0, 0
    while True:
        got = archive.transcripts.get(include=["documents", "metadatas"], limit=PAGES_PER_READ, offset=offset)
        if not got["ids"]:
            return changed
        offset += len(got["ids"])
        old = [(pid, doc, meta) for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])
               if meta.get("sizes") is None]
        if old:
            records = [page_record(json.loads(doc)) for _, doc, _ in old]
            archive.transcripts.update(ids=[pid for pid, _, _ in old], embeddings=[[1.0]] * len(old),
                                       documents=[doc for doc, _ in records],
                                       metadatas=[meta | {"sizes": sizes} for (_, _, meta), (_, sizes) in
                                                  zip(old, records)])
            changed += len(old)


STEPS: dict[int, Callable[[Archive], int]] = {1: _v1_to_v2, 2: _v2_to_v3}


def migrate(archive: Archive) -> Migration:
    start = archive.schema
    if start > SCHEMA_VERSION:
        raise OnrecordError(f"archive {archive.location} has schema {start}, newer than this onrecord understands")
    changed = 0
    for version in range(start, SCHEMA_VERSION):
        changed += STEPS[version](archive)
        archive.set_schema(version + 1)
    return Migration(start, SCHEMA_VERSION, changed)
