"""Where an interview changes subject: embedding similarity along the timeline (TextTiling on vectors).

Segments are embedded once, grouped into blocks of about BLOCK_SECONDS, and each gap between blocks gets a
depth score: how far the similarity of the windows on either side dips below the peaks around it. The
deepest gaps, at least a minimum topic length apart, become topic boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .models import Segment

BLOCK_SECONDS = 30.0
WINDOW_BLOCKS = 3
TOPIC_SECONDS = 300.0  # aim for one topic per five minutes
MIN_TOPIC_SECONDS = 90.0
MAX_TOPICS = 12


@dataclass(frozen=True, slots=True)
class TopicSpan:
    first: int  # segment indices, inclusive
    last: int


def split_topics(segments: list[Segment], vectors: np.ndarray, *,
                 topic_seconds: float = TOPIC_SECONDS) -> list[TopicSpan]:
    if not segments:
        return []
    blocks = _blocks(segments)
    duration = segments[-1].end - segments[0].start
    wanted = int(min(MAX_TOPICS, max(1, round(duration / topic_seconds))))
    if wanted == 1 or len(blocks) < 2:
        return [TopicSpan(0, len(segments) - 1)]
    block_vectors = np.stack([_unit(vectors[a:b + 1].mean(axis=0)) for a, b in blocks])
    depths = _depths(block_vectors)
    cuts: list[int] = []  # a cut after block g
    for g in np.argsort(-depths):
        if len(cuts) == wanted - 1 or depths[g] <= 0:
            break
        if all(_far_enough(segments, blocks, g, other) for other in cuts) and _edges_ok(segments, blocks, g):
            cuts.append(int(g))
    starts = [0] + [blocks[g + 1][0] for g in sorted(cuts)]
    ends = [s - 1 for s in starts[1:]] + [len(segments) - 1]
    return [TopicSpan(a, b) for a, b in zip(starts, ends)]


def _blocks(segments: list[Segment]) -> list[tuple[int, int]]:
    blocks, first = [], 0
    for i, segment in enumerate(segments):
        if segment.end - segments[first].start >= BLOCK_SECONDS or i == len(segments) - 1:
            blocks.append((first, i))
            first = i + 1
    return blocks


def _depths(blocks: np.ndarray) -> np.ndarray:
    gaps = len(blocks) - 1
    sims = np.empty(gaps)
    for g in range(gaps):
        left = _unit(blocks[max(0, g - WINDOW_BLOCKS + 1): g + 1].mean(axis=0))
        right = _unit(blocks[g + 1: g + 1 + WINDOW_BLOCKS].mean(axis=0))
        sims[g] = float(left @ right)
    return np.array([(sims[: g + 1].max() - sims[g]) + (sims[g:].max() - sims[g]) for g in range(gaps)])


def _far_enough(segments, blocks, g: int, other: int) -> bool:
    a, b = sorted((g, other))
    return segments[blocks[b][1]].end - segments[blocks[a + 1][0]].start >= MIN_TOPIC_SECONDS


def _edges_ok(segments, blocks, g: int) -> bool:
    """Neither the first nor the last topic may come out shorter than the minimum."""
    return (segments[blocks[g][1]].end - segments[0].start >= MIN_TOPIC_SECONDS
            and segments[-1].end - segments[blocks[g + 1][0]].start >= MIN_TOPIC_SECONDS)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def key_phrases(topic_texts: list[list[str]], central: list[set[int]], count: int = 2) -> list[list[str]]:
    """Per topic, the phrases most particular to it: occurrences in the topic (bigrams count 1.5, words in its
    most central sentences double), weighted by how few topics use them. A phrase must occur twice, unless
    nothing does."""
    from .text import FILLER, stopwords, words

    stop = stopwords() | FILLER
    per_topic = []
    for texts, core in zip(topic_texts, central):
        counts: dict[str, float] = {}
        seen: dict[str, int] = {}
        for n, text in enumerate(texts):
            weight = 2.0 if n in core else 1.0
            tokens = [w for w in words(text) if w.isalpha()]
            grams = [f"{a} {b}" for a, b in zip(tokens, tokens[1:])
                     if a not in stop and b not in stop and min(len(a), len(b)) >= 3]
            for phrase, w in [(g, 1.5 * weight) for g in grams] + [(t, weight) for t in tokens
                                                                    if t not in stop and len(t) >= 4]:
                counts[phrase] = counts.get(phrase, 0.0) + w
                seen[phrase] = seen.get(phrase, 0) + 1
        per_topic.append((counts, seen))
    spread: dict[str, int] = {}
    for counts, _ in per_topic:
        for phrase in counts:
            spread[phrase] = spread.get(phrase, 0) + 1
    picked = []
    for counts, seen in per_topic:
        ranked = sorted(counts, key=lambda p: -(counts[p] * np.log(1 + len(per_topic) / spread[p])))
        repeated = [p for p in ranked if seen[p] >= 2] or ranked[:1]
        chosen: list[str] = []
        for phrase in repeated:
            if len(chosen) < count and not any(set(phrase.split()) & set(c.split()) for c in chosen):
                chosen.append(phrase)
        picked.append(chosen)
    return picked
