"""Re-embed the whole archive from its stored transcripts (new model or new chunking), no re-transcribing."""

from __future__ import annotations

from dataclasses import replace
from ..iterutil import batched
from typing import Callable

from .archive import Archive, chunks_collection_name
from ..retrieval.chunking import chunk_segments
from ..retrieval.embedder import Embedder
from ..timefmt import day_number

EMBED_BATCH = 64


def reindex(archive: Archive, embedder: Embedder, *, on_interview: Callable[[str], None] = lambda _: None) -> int:
    """Build a new chunks collection beside the active one, then switch to it in one write.
    Readers keep using the old collection until the switch. Returns the number of chunks written."""
    old = archive.chunks().name if archive.embed_model else None
    generation = archive.generation + 1
    target = chunks_collection_name(embedder.name, generation)
    archive.drop_collection(target)  # leftovers of an interrupted reindex
    total = 0
    interviews = archive.list()
    counts: dict[str, int] = {}
    for interview in interviews:
        on_interview(interview.title)
        chunks = chunk_segments(archive.segments(interview), embedder.count_tokens, embedder.max_tokens)
        day = day_number(interview.date) or day_number(interview.created)
        counts[interview.id] = 0
        for batch in batched(chunks, EMBED_BATCH):
            archive.stage_chunks(interview.id, batch, embedder.embed([c.text for c in batch]),
                                 day=day, collection=target)
            counts[interview.id] += len(batch)
        total += counts[interview.id]
    archive.set_embed_model(embedder.name, generation)
    for interview in interviews:
        if counts[interview.id] != interview.chunks:
            archive.commit(replace(interview, chunks=counts[interview.id]))
    if old and old != target:
        archive.drop_collection(old)
    return total
