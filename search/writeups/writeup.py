"""An interview's outline without a model: its sections (topics, and the intro, sponsor reads and outro set
aside), each topic titled by its key phrases, summarised in whole sentences and backed by its most
substantive statements, all taken from what the interviewees say rather than from the questions.

Long interviews reuse the vectors stored for their retrieval chunks; short ones, whose few chunks are too coarse
to hold several topics, embed their sentences (a few seconds at most).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .asides import find_asides
from ..retrieval.embedder import Embedder
from ..models import Chunk, Segment
from .sentences import Sentence, split_sentences
from ..retrieval.text import FILLER, stopwords, words
from .titles import titles
from .topics import Unit, _directions, opens_subject, split_topics

SENTENCE_UNITS_MAX = 240  # more units than this and the stored chunk vectors are fine enough
UNIT_WORDS = 15  # sentences of a turn are grouped until a unit says this much
MIN_WORDS, MAX_QUOTE_WORDS = 6, 40
SUMMARY_WORDS = 75  # two to four sentences
PREFILTER = 12
QUOTES = 3  # sentences per topic embedded to rank by centrality
_CLAIM = re.compile(r"\b(i think|i believe|the (key|problem|reason|trick|goal|point)|should|must|never|always|"
                    r"most|best|worst|because|so that|which means|the only)\b", re.I)
# A sentence that opens mid-thought ("And yeah, so…", "I mean…") reads badly out of its context.
_TRAILING_ON = re.compile(r"(and|so|but|or|yeah|i mean|um|uh|well|like|because|right)\b", re.I)
_NUMBER = re.compile(r"\d|\b(hundred|thousand|million|billion|percent|twice|half|dozen)s?\b", re.I)


@dataclass(frozen=True, slots=True)
class Section:
    kind: str  # "topic" | "intro" | "sponsor" | "outro"
    first: int  # sentence indices, inclusive
    last: int
    title: str = ""  # a heading: "Coral reefs and plastic"
    subject: str = ""  # the same words as said, for a sentence: "coral reefs and plastic"
    summary: tuple[int, ...] = ()  # sentence indices, in time order
    quotes: tuple[int, ...] = ()


@dataclass(slots=True)
class Outline:
    sentences: list[Sentence]
    sections: list[Section] = field(default_factory=list)
    host: str | None = None  # who asks the questions, once speakers are known
    guests: tuple[str, ...] = ()  # who answers them, most talk first


def outline(segments: Sequence[Segment], embedder: Embedder,
            stored: tuple[list[Chunk], np.ndarray] | None = None,
            rarity: Callable[[list[str]], list[float]] | None = None) -> Outline:
    sentences = split_sentences(segments)
    host, guests = _roles(sentences)
    result = Outline(sentences, host=host, guests=guests)
    if not sentences:
        return result
    asides = find_asides(sentences, embedder)
    units = _sentence_units(sentences)
    coarse = len(units) > SENTENCE_UNITS_MAX and stored is not None and len(stored[0]) > 0
    if coarse:
        units, vectors = _chunk_units(sentences, *stored)
    else:
        vectors = np.asarray(embedder.embed([_span_text(sentences, u.first, u.last) for u in units]),
                             dtype=np.float32)
    topics = _topic_spans(sentences, asides, units, vectors, coarse)
    topic_vectors = [_mean(units, vectors, a, b) for a, b in topics]
    named = titles([_span_text(sentences, a, b) for a, b in topics], np.asarray(topic_vectors), embedder,
                   rarity) if topics else []
    written = {a: Section("topic", a, b, subject[:1].upper() + subject[1:], subject,
                          *_pick(sentences, a, b, v, embedder, host))
               for (a, b), v, subject in zip(topics, topic_vectors, named)}
    written |= {a.first: Section(a.kind, a.first, a.last, a.kind.capitalize()) for a in asides}
    result.sections = [written[a] for a in sorted(written)]
    return result


def _topic_spans(sentences: Sequence[Sentence], asides, units: list[Unit], vectors: np.ndarray,
                 coarse: bool) -> list[tuple[int, int]]:
    """Sentence ranges of the topics: each stretch between asides cut where its subject changes."""
    spread = _spread(vectors)
    spans = []
    for first, last in _runs(len(sentences), asides):
        inside = [k for k, u in enumerate(units) if first <= u.first <= last]
        if not inside:
            spans.append((first, last))
            continue
        run = [_clip(units[k], first, last) for k in inside]
        starts = [run[a].first for a, _ in split_topics(run, vectors[inside], spread=spread)[1:]]
        if coarse:  # a chunk's edge is only near the change: move to where someone opens the subject
            starts = [_refine(sentences, s, first, last) for s in starts]
        starts = sorted({first, *starts})
        spans.extend(zip(starts, [s - 1 for s in starts[1:]] + [last]))
    return spans


def _roles(sentences: Sequence[Sentence]) -> tuple[str | None, tuple[str, ...]]:
    """The host asks most of the questions; the guests are everyone else, by talk time."""
    talk = Counter()
    asked = Counter()
    for s in sentences:
        if s.speaker:
            talk[s.speaker] += s.end - s.start
            asked[s.speaker] += s.is_question
    if len(talk) < 2:
        return None, tuple(talk)
    host = asked.most_common(1)[0][0] if asked.most_common(1)[0][1] else None
    return host, tuple(name for name, _ in talk.most_common() if name != host)


def _sentence_units(sentences: Sequence[Sentence]) -> list[Unit]:
    """A turn's sentences grouped until they say UNIT_WORDS words; a turn always ends a unit."""
    units, first, count = [], 0, 0
    speakers = any(s.speaker for s in sentences)
    for i, s in enumerate(sentences):
        count += len(s.text.split())
        turn_ends = i + 1 == len(sentences) or sentences[i + 1].turn != s.turn
        if count >= UNIT_WORDS or turn_ends:
            opens = not speakers or first == 0 or sentences[first - 1].turn != sentences[first].turn
            units.append(Unit(first, i, sentences[first].start, s.end, opens, opens_subject(sentences[first].text)))
            first, count = i + 1, 0
    return units


def _chunk_units(sentences: Sequence[Sentence], chunks: list[Chunk], vectors: np.ndarray):
    """One unit a stored chunk: the sentences that begin inside it."""
    units, keep, k = [], [], 0
    for c, chunk in enumerate(chunks):
        first = k
        while k < len(sentences) and sentences[k].first_segment <= chunk.last_segment:
            k += 1
        if k > first:
            units.append(Unit(first, k - 1, sentences[first].start, sentences[k - 1].end, True, False))
            keep.append(c)
    if k < len(sentences) and units:  # sentences past the last chunk belong to it
        last = units[-1]
        units[-1] = Unit(last.first, len(sentences) - 1, last.start, sentences[-1].end, True, False)
    return units, vectors[keep]


def _refine(sentences: Sequence[Sentence], at: int, first: int, last: int, reach: int = 6) -> int:
    """A boundary placed by chunk vectors moves to the nearest sentence that opens a subject."""
    nearby = [i for i in range(max(first + 1, at - reach), min(last, at + reach) + 1)
              if opens_subject(sentences[i].text)]
    return min(nearby, key=lambda i: (abs(i - at), i)) if nearby else at


def _runs(n: int, asides) -> list[tuple[int, int]]:
    """The stretches of sentences between the asides."""
    runs, at = [], 0
    for aside in asides:
        if aside.first > at:
            runs.append((at, aside.first - 1))
        at = aside.last + 1
    if at < n:
        runs.append((at, n - 1))
    return runs


def _clip(unit: Unit, first: int, last: int) -> Unit:
    return Unit(max(unit.first, first), min(unit.last, last), unit.start, unit.end, unit.opens, unit.cue)


def _spread(vectors: np.ndarray) -> float:
    x = _directions(vectors)
    return float(((x - x.mean(axis=0)) ** 2).sum(axis=1).mean()) if len(x) else 1.0


def _mean(units: Sequence[Unit], vectors: np.ndarray, a: int, b: int) -> np.ndarray:
    rows = [k for k, u in enumerate(units) if a <= u.first <= b] or \
           [min(range(len(units)), key=lambda k: abs(units[k].first - a))]
    v = vectors[rows].mean(axis=0)
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _span_text(sentences: Sequence[Sentence], a: int, b: int) -> str:
    return " ".join(s.text for s in sentences[a:b + 1])


def _pick(sentences: Sequence[Sentence], a: int, b: int, vector: np.ndarray, embedder: Embedder,
          host: str | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The summary (the most central statements, in order) and the quotes (the most substantive of the rest)."""
    said = [i for i in range(a, b + 1) if not sentences[i].is_question and
            MIN_WORDS <= len(sentences[i].text.split()) and (host is None or sentences[i].speaker != host)]
    if not said:  # a topic that is all questions, or all the host: quote what there is
        said = [i for i in range(a, b + 1) if len(sentences[i].text.split()) >= 3] or list(range(a, b + 1))
    substance = {i: _substance(sentences[i].text) for i in said}
    pool = sorted(said, key=lambda i: -substance[i])[:PREFILTER]
    vectors = np.asarray(embedder.embed([sentences[i].text for i in pool]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    rank = {i: float(v @ vector) + 0.3 * substance[i] for i, v in zip(pool, vectors)}
    ordered = sorted(pool, key=lambda i: -rank[i])
    summary, length = [], 0
    for i in ordered:
        n = len(sentences[i].text.split())
        if len(summary) < 4 and n <= MAX_QUOTE_WORDS and (length + n <= SUMMARY_WORDS or len(summary) < 2):
            summary.append(i)
            length += n
        if len(summary) >= 2 and length >= SUMMARY_WORDS * 0.6:
            break
    quotable = [i for i in ordered if len(sentences[i].text.split()) <= MAX_QUOTE_WORDS]
    quotes = sorted(quotable, key=lambda i: -substance[i] - rank[i])
    # Statements the summary did not already use first; then the summary's own, so a topic has two quotes.
    chosen = ([i for i in quotes if i not in summary] + [i for i in quotes if i in summary])[:max(2, QUOTES)]
    fresh = [i for i in quotes if i not in summary][:QUOTES]
    return tuple(sorted(summary)), tuple(sorted(fresh if len(fresh) >= 2 else chosen[:2]))


def _substance(text: str) -> float:
    """Claims, numbers and content words make a statement worth quoting; filler does not."""
    tokens = words(text)
    content = [t for t in tokens if t not in stopwords() and t not in FILLER and len(t) > 2]
    share = len(content) / max(1, len(tokens))
    return min(len(content), 12) / 12 * 0.6 + share * 0.4 + 0.3 * bool(_NUMBER.search(text)) \
        + 0.2 * bool(_CLAIM.search(text)) - 0.3 * bool(_TRAILING_ON.match(text))
