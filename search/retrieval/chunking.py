"""Segments -> retrieval chunks: consecutive segments packed up to the embedder's limit.

A chunk is a useful amount of talk, not a turn: a meeting's "Yeah." and "Right." would otherwise each be a
chunk of one word, which ranks badly and floods the index. So a change of speaker ends a chunk only once the
chunk holds MIN_TOKENS; shorter turns are grouped with their neighbours, their speakers kept per segment
(hits are narrowed to one speaker's turn afterwards, see hits.py). A long turn still gets chunks of its own."""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, Sequence

from ..iterutil import batched
from ..models import Chunk, Segment

CountTokens = Callable[[Sequence[str]], list[int]]
MIN_TOKENS = 128  # about 90 words; measured on meeting-like transcripts (benchmarks/bench_turns.py)


def chunk_segments(segments: Iterable[Segment], count_tokens: CountTokens, max_tokens: int,
                   *, min_tokens: int = MIN_TOKENS, batch_size: int = 256) -> Iterator[Chunk]:
    """Stream chunks as segments arrive. `min_tokens=0` ends a chunk at every change of speaker. A single
    segment longer than the limit becomes a chunk of its own (the embedder truncates it)."""
    pending: list[tuple[int, Segment]] = []
    tokens = 0
    index = 0
    position = 0
    for batch in batched(segments, batch_size):
        counts = count_tokens([s.text for s in batch])
        for segment, n in zip(batch, counts):
            turn_ends = segment.speaker != (pending[-1][1].speaker if pending else segment.speaker)
            if pending and (tokens + n > max_tokens or (turn_ends and tokens >= min_tokens)):
                yield _make_chunk(index, pending)
                index, pending, tokens = index + 1, [], 0
            pending.append((position, segment))
            tokens += n
            position += 1
    if pending:
        yield _make_chunk(index, pending)


def _make_chunk(index: int, pending: list[tuple[int, Segment]]) -> Chunk:
    segments = [s for _, s in pending]
    speakers = tuple(dict.fromkeys(s.speaker for s in segments if s.speaker))
    return Chunk(
        index=index,
        start=segments[0].start,
        end=max(s.end for s in segments),
        text=" ".join(s.text.strip() for s in segments if s.text.strip()),
        speaker=speakers[0] if len(speakers) == 1 else None,
        first_segment=pending[0][0],
        last_segment=pending[-1][0],
        speakers=speakers,
    )
