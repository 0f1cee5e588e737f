"""Where an interview changes subject: the cut of its timeline into topics that best holds each together.

The timeline is a row of units (sentences of a short interview, or the stored retrieval chunks of a long one),
each with an embedding. A topic's cost is how far its units stray from their own mean (the within-topic sum of
squares); every extra topic costs a fixed penalty, so the number of topics follows the content: a conversation
that keeps to one subject stays one topic, one that moves through four becomes four. A boundary may only fall
where a person would put one (the start of a turn once speakers are known) and is cheaper where the talk
itself says the subject changes: a question, or "let's talk about…". The optimum is found exactly by dynamic
programming over the boundaries (optimal partitioning, O(n²) on unit vectors).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

# Penalty per topic, in units of the interview's own mean within-unit spread (so sentence vectors and chunk
# vectors, which spread differently, need no separate scale). Tuned on benchmarks/data/topic_annotations_*.
PENALTY = 2.0
CUE_DISCOUNT = 0.5  # a boundary at a question or a "let's talk about" costs this share of the spread less
MIN_SHARE = 0.05  # no topic shorter than this share of the interview...
MIN_SECONDS = 15.0  # ...or than this
# Someone opening a subject: "let's talk about", "moving on to", "switching gears", "tell me about"...
OPENERS = re.compile(
    r"\b(let'?s (talk|start|move|turn|get|switch|dig|go|shift|chat)|let us (talk|start|move|turn)|"
    r"moving on|move on|switch(ing)? gears|change (of )?(subject|gears)|tell (me|us) about|i want to (ask|talk)|"
    r"speaking of|another (thing|topic|question)|next (topic|question|up)|finally|last (question|thing))\b",
    re.I)


@dataclass(frozen=True, slots=True)
class Unit:
    """A stretch of the timeline with one embedding: a sentence, or a chunk of several."""

    first: int  # sentence indices, inclusive
    last: int
    start: float
    end: float
    opens: bool  # a person could start a topic here (a turn starts, or there are no turns)
    cue: bool  # the talk marks a new subject here (a question or an opener)


def split_topics(units: Sequence[Unit], vectors: np.ndarray, *, penalty: float | None = None,
                 spread: float | None = None) -> list[tuple[int, int]]:
    """Unit index ranges (inclusive) of the topics, in order. `spread`: the interview's mean squared distance
    of a unit from the mean, when these units are only part of it."""
    penalty = PENALTY if penalty is None else penalty
    n = len(units)
    if n < 2:
        return [(0, n - 1)] if n else []
    x = _directions(vectors)
    sums = np.vstack([np.zeros(x.shape[1]), np.cumsum(x, axis=0)])  # sums[j] - sums[i]: units i..j-1
    gram = sums @ sums.T
    sq = np.diag(gram)
    spread = max(spread if spread is not None else _cost(sq, gram, 0, n)[0] / n, 1e-6)
    duration = units[-1].end - units[0].start
    shortest = max(MIN_SECONDS, MIN_SHARE * duration)
    starts = np.array([u.start for u in units] + [units[-1].end])
    may_open = np.array([True] + [u.opens for u in units[1:]])
    discount = np.array([CUE_DISCOUNT * spread * u.cue for u in units])
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    back = np.zeros(n + 1, dtype=int)
    for j in range(1, n + 1):
        i = np.arange(j)
        ok = may_open[i] & ((starts[j] - starts[i] >= shortest) | (i == 0) & (j == n)) & np.isfinite(best[i])
        if j < n and not may_open[j]:
            continue  # no topic may end where the next cannot begin
        if not ok.any():
            continue
        i = i[ok]
        total = best[i] + _cost(sq, gram, i, j) + np.where(i > 0, penalty * spread - discount[i], 0.0)
        k = int(np.argmin(total))
        best[j], back[j] = total[k], i[k]
    if not np.isfinite(best[n]):
        return [(0, n - 1)]
    spans, j = [], n
    while j > 0:
        spans.append((int(back[j]), j - 1))
        j = int(back[j])
    return spans[::-1]


CENTER = True


def _directions(vectors: np.ndarray) -> np.ndarray:
    """Unit vectors of what sets each unit apart from the interview as a whole: everything in a Python podcast
    is about Python, and that shared direction would otherwise drown the differences between its topics."""
    x = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    if CENTER and len(x) > 2:
        x = x - x.mean(axis=0)
        x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x


def _cost(sq: np.ndarray, gram: np.ndarray, i, j) -> np.ndarray:
    """Within-topic sum of squares of units i..j-1 for unit vectors: len - |sum|² / len."""
    i = np.atleast_1d(i)
    length = j - i
    norm = sq[j] + sq[i] - 2 * gram[i, j]
    return length - norm / length


def opens_subject(text: str) -> bool:
    return bool(OPENERS.search(text)) or text.rstrip().endswith("?")
