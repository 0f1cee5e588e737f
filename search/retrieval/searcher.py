"""Hybrid search: dense (embedder + Chroma) fused with BM25 by reciprocal rank, over committed interviews only."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import keyword
from ..store.archive import Archive
from .embedder import Embedder
from ..errors import OnrecordError
from .hits import Candidate, narrow
from ..iterutil import batched
from ..models import Hit, Interview
from .segments import SegmentStore
from .query import MODES, Filters, Query, day_bound, expand_fuzzy, parse_query
from .text import contains_phrase, normalized, stem_language, stopwords, terms, words

CANDIDATES = 50  # keyword candidates, before fusion
DENSE_CANDIDATES = 30  # nearest chunks, before fusion
RECHECK_SECONDS = 0.5  # how stale the view of which interviews are committed may get
PHRASE_POOL = 1000  # keyword candidates checked for an exact phrase, best first, until CANDIDATES hold it
PHRASE_BATCH = 64  # chunk texts read at a time while checking for an exact phrase
FUZZY_POOL = 20  # candidates checked for each sounds-alike word pair
RRF_K = 60
# A passage found by meaning alone (it shares no word with the query) is a hit only this close to it (cosine),
# and a weak one (marked, and listed after the others) below WEAK_BELOW. benchmarks/bench_relevance.py calibrates
# both on the 509-episode archive: no relevant hit falls under either the floor or, but for 2%, WEAK_BELOW, and
# most off-topic queries ("Which wine goes with grilled octopus?") find nothing or only weak hits. The floor is
# low because a short interview held in one or two chunks scores lower than a passage of a long one (its chunk
# covers several subjects): "advice for someone with only a balcony" is 0.25 from the gardening sample.
DENSE_FLOOR = 0.22
WEAK_BELOW = 0.40


@dataclass(frozen=True, slots=True)
class _Scope:
    """Filters resolved against the archive: None means unrestricted."""

    interviews: set[str] | None
    speakers: set[str] | None
    since: int | None
    until: int | None


class Searcher:
    """Long-lived: keeps the keyword index and interview list warm, refreshing them when the archive changes.
    Safe to share between threads (the app's sessions, the HTTP API's requests): refreshing and building the
    keyword index happen under a lock, once; queries themselves run side by side."""

    def __init__(self, archive: Archive, embedder: Embedder, cache_dir: Path | None = None):
        self.archive = archive
        self.embedder = embedder
        self.cache_dir = cache_dir
        self._interviews: dict[str, Interview] = {}
        self._languages: tuple[str | None, ...] = ("en",)  # derived from _interviews when they are read
        self._seen: tuple | None = None  # the archive's revision at the last check
        self._checked = 0.0
        self._chunks = None  # the active chunks collection
        self._segments: SegmentStore | None = None  # the keyword index, for the collection named in _segments_of
        self._segments_of: str | None = None
        self._lock = threading.RLock()

    def search(self, raw_query: str, *, limit: int = 10, mode: str = "hybrid",
               filters: Filters = Filters()) -> list[Hit]:
        if mode not in MODES:
            raise OnrecordError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        languages = self.languages()
        query = parse_query(raw_query, languages)
        interviews = self.interviews()
        if not interviews:
            return []
        scope = self._scope(filters, interviews)
        named, names = mentioned_speakers(raw_query, interviews) if scope.speakers is None else (set(), set())
        if named:  # "What did Dana say about…": her words about it first; everyone's when she said nothing that fits
            about = " ".join(w for w in words(raw_query) if w not in names)  # the name says who, not what
            steered = parse_query(about, languages) if about else query
            hits = self._search(steered, dataclasses.replace(scope, speakers=named), limit, mode, interviews)
            if hits:
                return hits
            query = parse_query(raw_query, languages)  # afresh: retrieval added sounds-alike words to the other
        return self._search(query, scope, limit, mode, interviews)

    def _search(self, query: Query, scope: _Scope, limit: int, mode: str, interviews: dict) -> list[Hit]:
        read: dict[str, tuple[str, dict]] = {}  # chunk texts and metadata this query has already read
        ranked: list[dict[str, float]] = []
        vector, weak = None, set()
        if mode != "semantic":
            ranked.append(self._keyword(query, scope, read))
        if mode != "keyword":
            vector = self.embedder.embed([query.text])[0]
            matched = ranked[0] if ranked else {}
            near = self._dense(vector, scope, read)
            weak = {cid for cid, sim in near.items() if sim < WEAK_BELOW and cid not in matched}
            ranked.append({cid: sim for cid, sim in near.items() if sim >= DENSE_FLOOR or cid in matched})
        scores = ranked[0] if len(ranked) == 1 else _fuse(ranked)
        best = sorted(scores, key=lambda cid: (cid in weak, -scores[cid]))
        if query.phrases and vector is not None:  # "an exact phrase" is required in every mode, not only keyword
            best = self._holding(best, query.phrases, max(1, limit), read)
        best = best[: max(1, limit)]
        candidates = self._candidates(best, scores, read, weak)
        return narrow(self.archive, candidates, query, interviews, vector, self.embedder, speakers=scope.speakers)

    # -- archive state --------------------------------------------------------------------------

    def interviews(self) -> dict[str, Interview]:
        """Committed interviews. Whether anything changed (here, in another process, or by a reindex) is one
        small read, done at most every RECHECK_SECONDS; only a change re-reads the interviews."""
        if self._seen is not None and time.monotonic() - self._checked < RECHECK_SECONDS:
            return self._interviews
        with self._lock:
            return self._recheck()

    def _recheck(self) -> dict[str, Interview]:
        if self._seen is not None and time.monotonic() - self._checked < RECHECK_SECONDS:
            return self._interviews  # another thread looked while this one waited
        seen = self.archive.revision()
        if seen != self._seen:
            if self._seen is not None:
                self.archive.refresh()
            self._interviews = {i.id: i for i in self.archive.list()}
            found = {stem_language(i.language) for i in self._interviews.values()}
            self._languages = tuple(sorted(found, key=lambda language: language or "")) or ("en",)
            self._chunks = self.archive.chunks() if seen[1] else None
            model = self.archive.embed_model
            if model and model != self.embedder.name:  # reindexed elsewhere: queries must use the new model
                self.embedder = self.embedder.with_model(model)
            self._seen = seen
        self._checked = time.monotonic()
        return self._interviews

    def current_embedder(self) -> Embedder:
        """The archive's embedder as it is now: after a reindex made by another process, the new model's. Whatever
        outlives one request (the summarizer, the app's ingest worker) asks here rather than keeping its own."""
        self.interviews()
        return self.embedder

    def languages(self) -> tuple[str | None, ...]:
        """The stemming languages of the archive's interviews: a query is stemmed in each of them."""
        self.interviews()
        return self._languages

    def mark_stale(self) -> None:
        """This process changed the archive: look again at the next read instead of after RECHECK_SECONDS."""
        self._checked = 0.0

    def keyword_index(self) -> keyword.KeywordIndex:
        """The keyword index of the interviews committed now. After a commit elsewhere it reads the new interview
        alone (segments.py); it is never rebuilt on the query path."""
        interviews = self.interviews()
        collection = self._chunks
        with self._lock:
            if self._segments is None or self._segments_of != collection.name:
                self._segments = SegmentStore(self._cache_folder(collection.name))
                self._segments_of = collection.name
            store = self._segments
        return store.index({i.id: keyword.version(i) for i in interviews.values()},
                           {i.id: i.chunks for i in interviews.values()},
                           lambda sizes: keyword.read_chunks(collection, sizes),
                           {i.id: stem_language(i.language) for i in interviews.values()})

    def _cache_folder(self, collection: str) -> Path | None:
        """Per archive and chunks collection (a reindex starts afresh), on this machine."""
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(self.archive.location.encode()).hexdigest()[:16]
        _drop_old_layout(self.cache_dir / "keyword" / key)
        return self.cache_dir / "keyword" / key / collection

    # -- filters ---------------------------------------------------------------------------------

    def _scope(self, filters: Filters, interviews: dict[str, Interview]) -> _Scope:
        chosen = {self.archive.resolve(ref).id for ref in filters.interviews} if filters.interviews else None
        speakers = None
        if filters.speaker:
            wanted = filters.speaker.strip().casefold()  # a name or a label, in any case
            speakers = {s for i in interviews.values() for s in i.speakers
                        if wanted in (s.casefold(), i.label_of(s).casefold())}
            if not speakers:
                raise OnrecordError(f"no speaker named {filters.speaker!r} in the archive")
        return _Scope(chosen, speakers, day_bound(filters.since, end=False), day_bound(filters.until, end=True))

    def _where(self, scope: _Scope) -> dict | None:
        clauses = []
        if scope.interviews is not None:
            clauses.append({"interview_id": {"$in": sorted(scope.interviews)}})
        if scope.speakers is not None:  # a chunk of one speaker, or grouped short turns that include one
            clauses.append({"$or": [{"speaker": {"$in": sorted(scope.speakers)}},
                                    *({"speakers": {"$contains": s}} for s in sorted(scope.speakers))]})
        if scope.since is not None:
            clauses.append({"day": {"$gte": scope.since}})
        if scope.until is not None:
            clauses.append({"day": {"$lte": scope.until}})
        return None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def _mask(self, index: keyword.KeywordIndex, scope: _Scope) -> np.ndarray:
        mask = index.live.copy()
        if scope.interviews is not None:
            allowed = [n for n, iid in enumerate(index.interviews) if iid in scope.interviews]
            mask &= np.isin(index.interview_of, allowed)
        if scope.speakers is not None:
            mask &= keyword.speaks_in(index, scope.speakers)
        if scope.since is not None:
            mask &= index.day_of >= scope.since
        if scope.until is not None:
            mask &= index.day_of <= scope.until
        return mask

    # -- retrievers ------------------------------------------------------------------------------

    def _keyword(self, query: Query, scope: _Scope, read: dict) -> dict[str, float]:
        index = self.keyword_index()
        expand_fuzzy(query, index.vocabulary, index.sounds, index.stem_of)
        query.weights = {t: index.idf(t) for t in query.all_terms}  # hits are narrowed to the rarer words
        mask = self._mask(index, scope)
        scores = np.where(mask, index.scores(sorted(query.all_terms)), 0.0)
        found = self._top(index, scores, PHRASE_POOL if query.phrases else CANDIDATES)
        if query.phrases:
            ordered = sorted(found, key=lambda cid: -found[cid])
            found = {cid: found[cid] for cid in self._holding(ordered, query.phrases, CANDIDATES, read)}
        for phrase in query.fuzzy_phrases:
            pool = self._top(index, np.where(mask, index.scores(terms(phrase, query.languages)), 0.0), FUZZY_POOL)
            for cid in self._holding(list(pool), [phrase], None, read):
                found[cid] = max(found.get(cid, 0.0), pool[cid])
        return dict(sorted(found.items(), key=lambda kv: -kv[1])[:CANDIDATES])

    @staticmethod
    def _top(index: keyword.KeywordIndex, scores: np.ndarray, k: int) -> dict[str, float]:
        k = min(k, int(np.count_nonzero(scores)))
        if k == 0:
            return {}
        top = np.argpartition(-scores, k - 1)[:k]
        return {index.chunk_id(int(i)): float(scores[i]) for i in top}

    def _holding(self, ordered: list[str], phrases: list[str], want: int | None, read: dict) -> list[str]:
        """The chunks of `ordered` whose text holds every phrase, in that order, up to `want` of them. Texts are
        read PHRASE_BATCH at a time, best first, and only until `want` are found: a common phrase costs one small
        read, not PHRASE_POOL texts. What is read is kept in `read`, for the hits."""
        kept = []
        for batch in batched(ordered, PHRASE_BATCH):
            self._texts(batch, read)
            kept += [cid for cid in batch if cid in read and all(contains_phrase(read[cid][0], p) for p in phrases)]
            if want is not None and len(kept) >= want:
                return kept[:want]
        return kept

    def _texts(self, chunk_ids, read: dict) -> None:
        """Read the texts and metadata of the chunks not yet in `read` into it."""
        missing = [cid for cid in chunk_ids if cid not in read]
        if missing:
            got = self._chunks.get(ids=missing, include=["documents", "metadatas"])
            read.update({cid: (doc, meta) for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])})

    def _dense(self, vector, scope: _Scope, read: dict) -> dict[str, float]:
        """Nearest chunks (a few spare, since staged chunks of unfinished interviews are dropped). Their texts
        and metadata come along into `read`, so the hits need no second read."""
        got = self._chunks.query(query_embeddings=[vector], n_results=DENSE_CANDIDATES + 5, where=self._where(scope),
                                 include=["documents", "metadatas", "distances"])
        committed, found = self._interviews, {}
        for cid, doc, meta, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0]):
            if meta["interview_id"] in committed:
                found[cid] = 1.0 - dist
                read[cid] = (doc, meta)
        return found

    def _candidates(self, chunk_ids: list[str], scores: dict[str, float], read: dict,
                    weak: set[str]) -> list[Candidate]:
        self._texts(chunk_ids, read)
        return [Candidate(cid, read[cid][0], read[cid][1], round(scores[cid], 4), cid in weak)
                for cid in chunk_ids if cid in read]


NOT_A_NAME = frozenset({"speaker", "guest", "unknown"})  # words of labels that name nobody in particular


def mentioned_speakers(question: str, interviews: dict[str, Interview]) -> tuple[set[str], set[str]]:
    """The speakers a question names, and the words it names them with: a speaker's whole name or label
    ("Speaker 2", "Dana Ortiz") or one distinctive word of it ("Dana", "CFO" for "CFO (Dana Reyes)")."""
    asked = normalized(question)
    common = stopwords() | NOT_A_NAME
    found, naming = set(), set()
    for interview in interviews.values():
        for shown in interview.speakers:
            label = interview.label_of(shown)
            phrases = {normalized(shown), normalized(label)}
            phrases |= {w for w in words(f"{shown} {label}") if len(w) >= 3 and w not in common and not w.isdigit()}
            said = {p for p in phrases if p and contains_phrase(asked, p)}
            if said:
                found.add(shown)
                naming |= {w for p in said for w in p.split()}
    return found, naming


def _fuse(rankings: list[dict[str, float]]) -> dict[str, float]:
    """Reciprocal rank fusion: robust to the two retrievers' incomparable score scales."""
    fused: dict[str, float] = {}
    for scores in rankings:
        for rank, cid in enumerate(sorted(scores, key=lambda c: -scores[c])):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    return fused


def _drop_old_layout(folder: Path) -> None:
    """Before segments, onrecord cached one whole index per archive right in this folder; nothing reads it now."""
    if (folder / "meta.json").exists():
        for name in ("meta.json", "arrays.npz"):
            (folder / name).unlink(missing_ok=True)
        shutil.rmtree(folder / "bm25", ignore_errors=True)
