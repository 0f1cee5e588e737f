"""Turn ranked chunks into hits that land on the words: the best-matching segment(s) of each chunk.

A hit is always one speaker's words: its window never crosses into another speaker's turn. And where those words
are a question that another speaker answers next, the hit is the answer, with the question as its context."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..store.archive import PAGE_SIZE, Archive, page_id, page_segments
from ..links import deep_link
from ..models import Hit, Interview, Segment, segment_from_json
from .query import Query
from .text import contains_phrase, ends_in_question, stem_sets, surface_words, words

MAX_WINDOW = 3  # segments in a narrowed hit
SEMANTIC_SEGMENTS = 48  # segments embedded per query to place hits that share no word with it


@dataclass(frozen=True, slots=True)
class Candidate:
    chunk_id: str
    text: str
    meta: dict
    score: float
    weak: bool = False  # found by meaning alone, and not close (see searcher.WEAK_BELOW)


def narrow(archive: Archive, candidates: list[Candidate], query: Query, interviews: dict[str, Interview],
           vector, embedder, *, speakers: set[str] | None = None) -> list[Hit]:
    """`speakers`: the search asked for these speakers' words, so a hit stays on them (and is not moved off a
    question onto its answer)."""
    segments = _load_segments(archive, candidates)
    windows = [_lexical_window(query, _chunk_segments(c, segments), c.meta["first_segment"], speakers)
               for c in candidates]
    _semantic_windows(candidates, segments, windows, vector, embedder, speakers)
    hits, shown = [], set()
    for candidate, (first, last) in zip(candidates, windows):
        iid = candidate.meta["interview_id"]
        context_before = None
        answer = _answer_window(segments, iid, first, last) if speakers is None else None
        if answer is not None:
            context_before = " ".join(segments[(iid, n)].text for n in range(first, last + 1))
            first, last = answer
        if (iid, first, last) in shown:  # a question's chunk and its answer's both land on the answer: once
            continue
        shown.add((iid, first, last))
        inside = [segments[(iid, n)] for n in range(first, last + 1)]
        before, after = segments.get((iid, first - 1)), segments.get((iid, last + 1))
        if context_before is None:
            context_before = before.text if before else ""
        interview = interviews[iid]
        text = " ".join(s.text for s in inside)
        hits.append(Hit(
            interview_id=iid, title=interview.title, start=inside[0].start, end=inside[-1].end, text=text,
            context_before=context_before, context_after=after.text if after else "",
            speaker=inside[0].speaker, score=candidate.score, link=deep_link(interview.media, inside[0].start),
            matched_terms=matched_terms(query, text), weak=candidate.weak))
    return hits


def _answer_window(segments: dict, iid: str, first: int, last: int) -> tuple[int, int] | None:
    """When the window is a question and the next segment is another speaker's, the first segments (up to
    MAX_WINDOW) of that speaker's turn: the answer. None otherwise, and always without speakers to go by."""
    asker, reply = segments[(iid, last)].speaker, segments.get((iid, last + 1))
    if not asker or reply is None or not reply.speaker or reply.speaker == asker:
        return None
    if not ends_in_question(" ".join(segments[(iid, n)].text for n in range(first, last + 1))):
        return None
    end = last + 1
    while end - last < MAX_WINDOW and getattr(segments.get((iid, end + 1)), "speaker", None) == reply.speaker:
        end += 1
    return last + 1, end


def _load_segments(archive: Archive, candidates: list[Candidate]) -> dict[tuple[str, int], Segment]:
    """Each hit's segments, one before, and enough after for an answer that follows a question (plus its
    context), from as few transcript pages as possible, in one read."""
    wanted: dict[str, set[int]] = {}
    for c in candidates:
        first, last = max(0, c.meta["first_segment"] - 1), c.meta["last_segment"] + MAX_WINDOW + 1
        wanted.setdefault(c.meta["interview_id"], set()).update(range(first, last + 1))
    pages = sorted({(iid, n // PAGE_SIZE) for iid, ns in wanted.items() for n in ns})
    if not pages:
        return {}
    got = archive.transcripts.get(ids=[page_id(i, p) for i, p in pages], include=["documents", "metadatas"])
    segments = {}
    for doc, meta in zip(got["documents"], got["metadatas"]):
        iid, base = meta["interview_id"], meta["page"] * PAGE_SIZE
        here = [n - base for n in wanted[iid] if base <= n < base + PAGE_SIZE]
        for n, data in page_segments(doc, meta, here).items():  # only the segments a hit needs are decoded
            segments[(iid, base + n)] = segment_from_json(data)
    return segments


def _chunk_segments(c: Candidate, segments: dict) -> list[Segment]:
    iid = c.meta["interview_id"]
    return [segments[(iid, n)] for n in range(c.meta["first_segment"], c.meta["last_segment"] + 1)]


def _lexical_window(query: Query, chunk: list[Segment], base: int,
                    allowed: set[str] | None) -> tuple[int, int] | None:
    """The run of up to MAX_WINDOW segments of one speaker (of the `allowed` ones) around the segment that
    matches most query terms and phrases; None when no such segment shares a word with the query."""
    scores = [_lexical_score(query, s.text) if allowed is None or s.speaker in allowed else 0 for s in chunk]
    best = int(np.argmax(scores)) if scores else 0
    if not scores or scores[best] == 0:
        return None
    speaker = chunk[best].speaker
    scores = [score if s.speaker == speaker else 0 for score, s in zip(scores, chunk)]
    first = last = best
    while last - first + 1 < MAX_WINDOW:
        left = scores[first - 1] if first > 0 else 0
        right = scores[last + 1] if last + 1 < len(chunk) else 0
        if max(left, right) == 0:
            break
        if right >= left:
            last += 1
        else:
            first -= 1
    return base + first, base + last


def _lexical_score(query: Query, text: str) -> float:
    """Matched terms, each weighted by its rarity in the archive (where known), and phrases, which count double
    the heaviest term."""
    found = set().union(*stem_sets(set(words(text)), query.languages).values()) & query.all_terms
    unit = max((query.weight(t) for t in query.all_terms), default=1.0)
    phrases = sum(2 * unit for p in query.phrases + query.fuzzy_phrases if contains_phrase(text, p))
    return sum(query.weight(t) for t in found) + phrases


def _semantic_windows(candidates, segments, windows, vector, embedder, allowed: set[str] | None) -> None:
    """Hits with no shared words: the segment closest to the query in embedding space, in one batched encode
    of at most SEMANTIC_SEGMENTS segments (best hits first); past that a hit starts at its chunk's start."""
    todo, budget = [], SEMANTIC_SEGMENTS
    for n, w in enumerate(windows):
        if w is None:
            size = candidates[n].meta["last_segment"] - candidates[n].meta["first_segment"] + 1
            if size <= budget:
                todo.append(n)
                budget -= size
            else:
                first = candidates[n].meta["first_segment"]
                windows[n] = (first, first)
    chunks = [_chunk_segments(candidates[n], segments) for n in todo]
    if vector is not None and any(len(c) > 1 for c in chunks):
        texts = [s.text for c in chunks for s in c]
        sims = np.asarray(embedder.embed(texts)) @ np.asarray(vector)
    else:
        sims = np.zeros(sum(len(c) for c in chunks))
    if allowed is not None:  # a filtered search: only the wanted speakers' segments may be chosen
        sims = np.where([s.speaker in allowed for c in chunks for s in c], sims, -np.inf)
    offset = 0
    for n, chunk in zip(todo, chunks):
        best = int(np.argmax(sims[offset: offset + len(chunk)]))
        offset += len(chunk)
        first = candidates[n].meta["first_segment"] + best
        windows[n] = (first, first)


def matched_terms(query: Query, text: str) -> tuple[str, ...]:
    """The words of `text` as written there ("Ramírez" for a query "ramirez") that matched the query, and its
    phrases as written there, for highlighting."""
    tokens = surface_words(text)
    folded = [f for f, _ in tokens]
    found = []
    for phrase in query.phrases + query.fuzzy_phrases:
        size = len(phrase.split())
        found.extend(" ".join(w for _, w in tokens[n:n + size]) for n in range(len(tokens) - size + 1)
                     if " ".join(folded[n:n + size]) == phrase)
    stems = stem_sets(set(folded), query.languages)
    wanted = query.all_terms
    found.extend(w for f, w in dict.fromkeys(tokens) if stems[f] & wanted)
    return tuple(dict.fromkeys(found))
