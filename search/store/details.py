"""An interview's title and recording date, changed in place (`onrecord edit`), with no re-ingest.

The title is kept in the interview record and in its stored write-ups (which quote by title); the date in the
record and, as a YYYYMMDD `day`, in every chunk's metadata, which the `--since`/`--until` filters read (an
undated interview's chunks carry the day it was ingested). The record is written last, so an interrupted edit
is finished by running it again."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date as Date

from .archive import Archive, _storage_errors
from ..errors import OnrecordError
from ..iterutil import batched
from ..models import Interview
from ..timefmt import day_number

WRITE_BATCH = 1000


@_storage_errors
def update_details(archive: Archive, interview_id: str, *, title: str | None = None,
                   date: str | None = None) -> Interview:
    """Set the title and/or the date (YYYY-MM-DD; "" clears it); None leaves that one as it is."""
    interview = archive.get(interview_id)
    new_title = interview.title if title is None else _title(title)
    new_date = interview.date if date is None else _date(date)
    archive.ensure_space()
    if new_date != interview.date and archive.chunks_collection_name:
        _restamp_chunks(archive, interview.id, day_number(new_date) or day_number(interview.created))
    if new_title != interview.title:
        _retitle_summaries(archive, interview.id, new_title)
    changed = dataclasses.replace(interview, title=new_title, date=new_date)
    archive.commit(changed)
    return changed


def _title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise OnrecordError("the new title is empty")
    return title


def _date(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return Date.fromisoformat(text).isoformat()
    except ValueError:
        raise OnrecordError(f"bad date {text!r}: use YYYY-MM-DD (a real day), or \"\" to clear it") from None


def _restamp_chunks(archive: Archive, interview_id: str, day: int) -> None:
    chunks = archive.chunks()
    got = chunks.get(where={"interview_id": interview_id}, include=["metadatas"])
    stale = [(cid, meta) for cid, meta in zip(got["ids"], got["metadatas"]) if meta.get("day") != day]
    for batch in batched(stale, WRITE_BATCH):
        chunks.update(ids=[cid for cid, _ in batch], metadatas=[meta | {"day": day} for _, meta in batch])


def _retitle_summaries(archive: Archive, interview_id: str, title: str) -> None:
    """Stored write-ups name their interview (and each quote its interview); rewritten, not dropped, since an
    LLM's write-up takes minutes to make again."""
    got = archive.summaries.get(where={"interview_id": interview_id}, include=["documents", "metadatas",
                                                                              "embeddings"])
    if got["ids"]:
        docs = [json.dumps(_retitled(json.loads(doc), interview_id, title), ensure_ascii=False)
                for doc in got["documents"]]
        archive.summaries.upsert(ids=got["ids"], documents=docs, metadatas=got["metadatas"],
                                 embeddings=got["embeddings"])


def _retitled(data, interview_id: str, title: str):
    """Every object that names this interview (by `interview_id`) gets the new `title`."""
    if isinstance(data, list):
        return [_retitled(item, interview_id, title) for item in data]
    if not isinstance(data, dict):
        return data
    fixed = {key: _retitled(value, interview_id, title) for key, value in data.items()}
    if fixed.get("interview_id") == interview_id and "title" in fixed:
        fixed["title"] = title
    return fixed
