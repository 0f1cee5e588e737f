"""Segments -> retrieval chunks: consecutive segments of one speaker, packed up to the embedder's limit."""

from __future__ import annotations

from .iterutil import batched
from typing import Callable, Iterable, Iterator, Sequence

from .models import Chunk, Segment

CountTokens = Callable[[Sequence[str]], list[int]]


def chunk_segments(segments: Iterable[Segment], count_tokens: CountTokens, max_tokens: int,
                   *, batch_size: int = 256) -> Iterator[Chunk]:
    """Stream chunks as segments arrive. A chunk never mixes speakers, so a hit can name who said it;
    a single segment longer than the limit becomes a chunk of its own (the embedder truncates it)."""
    pending: list[tuple[int, Segment]] = []
    tokens = 0
    index = 0
    position = 0
    for batch in batched(segments, batch_size):
        counts = count_tokens([s.text for s in batch])
        for segment, n in zip(batch, counts):
            if pending and (tokens + n > max_tokens or segment.speaker != pending[-1][1].speaker):
                yield _make_chunk(index, pending)
                index, pending, tokens = index + 1, [], 0
            pending.append((position, segment))
            tokens += n
            position += 1
    if pending:
        yield _make_chunk(index, pending)


def _make_chunk(index: int, pending: list[tuple[int, Segment]]) -> Chunk:
    segments = [s for _, s in pending]
    return Chunk(
        index=index,
        start=segments[0].start,
        end=max(s.end for s in segments),
        text=" ".join(s.text.strip() for s in segments if s.text.strip()),
        speaker=segments[0].speaker,
        first_segment=pending[0][0],
        last_segment=pending[-1][0],
    )
