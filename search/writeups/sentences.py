"""Whole sentences out of a transcript: cues and ASR segments cut sentences anywhere, people do not.

Consecutive segments of one speaker (a turn) are joined and split into sentences with segtok; each sentence
keeps its speaker, the segments it came from and its times (a segment's time spread over its characters, which
is close enough to place a topic boundary; quotes are timed by their words later, in quotes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..models import Segment


@dataclass(frozen=True, slots=True)
class Sentence:
    start: float
    end: float
    text: str
    speaker: str | None
    turn: int  # which turn of the interview it belongs to (a new speaker starts a new turn)
    first_segment: int
    last_segment: int

    @property
    def is_question(self) -> bool:
        return self.text.rstrip().endswith("?")


def split_sentences(segments: Sequence[Segment]) -> list[Sentence]:
    out: list[Sentence] = []
    for turn, (first, last) in enumerate(_turns(segments)):
        out.extend(_turn_sentences(segments, first, last, turn))
    return out


def _turns(segments: Sequence[Segment]) -> list[tuple[int, int]]:
    """Segment index ranges (inclusive) of consecutive segments with the same speaker."""
    turns: list[tuple[int, int]] = []
    for i, segment in enumerate(segments):
        if turns and segments[turns[-1][0]].speaker == segment.speaker:
            turns[-1] = (turns[-1][0], i)
        else:
            turns.append((i, i))
    return turns


def _turn_sentences(segments: Sequence[Segment], first: int, last: int, turn: int) -> list[Sentence]:
    from segtok.segmenter import split_single

    # Where each segment's text begins in the joined turn, to map a character back to a segment and a time.
    offsets, pieces, at = [], [], 0
    for i in range(first, last + 1):
        text = " ".join(segments[i].text.split())
        offsets.append(at)
        pieces.append(text)
        at += len(text) + 1
    joined = " ".join(pieces)
    out, cursor = [], 0
    for raw in split_single(joined):
        text = raw.strip()
        if not text:
            continue
        begin = joined.index(text, cursor)
        cursor = begin + len(text)
        a, start = _locate(segments, first, offsets, pieces, begin)
        b, end = _locate(segments, first, offsets, pieces, cursor)
        out.append(Sentence(start, max(end, start), text, segments[a].speaker, turn, a, b))
    return out


def _locate(segments, first: int, offsets: list[int], pieces: list[str], char: int) -> tuple[int, float]:
    """The segment holding a character of the joined turn, and the time of that character in it."""
    k = max(0, next((n for n in range(len(offsets) - 1, -1, -1) if offsets[n] <= char), 0))
    segment = segments[first + k]
    share = min(1.0, (char - offsets[k]) / max(1, len(pieces[k])))
    return first + k, segment.start + share * (segment.end - segment.start)
