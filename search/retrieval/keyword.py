"""BM25 over the archive's committed chunks, in immutable segments.

A segment indexes the chunks of some interviews: term frequencies (a sparse chunk x term matrix), chunk lengths,
and what the filters need (interview, speakers, day). Scores are computed at query time from raw frequencies and
statistics summed over all segments, so a segment of one new interview scores exactly as if the index had been
built at once, and adding an interview costs one small segment instead of a rebuild (segments.py keeps them).
An interview that changed or was deleted is masked out of the segment that holds it (a tombstone, in effect),
until a merge drops its rows. As in Lucene, masked rows still count in the corpus statistics until then.
"""

from __future__ import annotations

import dataclasses
import json
from collections import ChainMap
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from scipy import sparse

from ..store.archive import chunk_id
from .text import stem_map, stopwords, words

FORMAT = 5  # bump when tokenizing or the layout changes: cached segments are rebuilt
K1, B = 1.5, 0.75  # BM25's usual constants (bm25s's and Lucene's defaults)
READ_CHUNKS = 5000  # chunks per Chroma read: SQLite allows 32,766 variables in one statement


@dataclass(frozen=True)
class ChunkRow:
    """One chunk as the keyword index needs it."""

    interview_id: str
    index: int  # the chunk's position in its interview: its id is chunk_id(interview_id, index)
    text: str
    speakers: tuple[str, ...]
    day: int


@dataclass(eq=False)
class Segment:
    """The index of some interviews' chunks; never changed once built (merging makes a new one). Postings are
    CSC-style: term t's chunks are rows[ptr[t]:ptr[t + 1]], with their frequencies in tf. Loaded from disk they
    are memory-mapped, so a reader pages in the postings its queries touch, not the whole index."""

    name: str
    versions: dict[str, str]  # interview id -> the version of it indexed here (see `version`)
    interviews: list[str]  # interview_of indexes this
    interview_of: np.ndarray  # int32 per chunk
    chunk_no: np.ndarray  # int32 per chunk: its index in its interview
    day_of: np.ndarray  # int32 per chunk: YYYYMMDD
    lengths: np.ndarray  # float32 per chunk: how many terms it has
    ptr: np.ndarray  # int64 per term, and one more
    rows: np.ndarray  # int32 per posting
    tf: np.ndarray  # uint16 per posting
    vocab: dict[str, int]  # stem -> term number
    speakers: list[str]
    speaker_ptr: np.ndarray  # int64: chunk n's speakers are speakers[speaker_idx[ptr[n]:ptr[n + 1]]]
    speaker_idx: np.ndarray  # int32
    stem_of: dict[str, str]  # surface word -> stem (in the language of the interview that says it)
    sounds: dict[str, list[str]]  # metaphone code -> words, for misheard names

    @property
    def size(self) -> int:
        return len(self.chunk_no)

    def postings(self, stem: str) -> tuple[np.ndarray, np.ndarray]:
        term = self.vocab.get(stem)
        if term is None:
            return _NO_ROWS, _NO_TF
        start, end = self.ptr[term], self.ptr[term + 1]
        return self.rows[start:end], self.tf[start:end]

    def matrix(self) -> sparse.csc_matrix:
        return sparse.csc_matrix((self.tf, self.rows, self.ptr), shape=(self.size, len(self.vocab)))


_NO_ROWS, _NO_TF = np.zeros(0, np.int32), np.zeros(0, np.uint16)


def version(interview) -> str:
    """What the index holds of an interview besides its chunk texts (who speaks, the day, the language they are
    stemmed in): naming a speaker or editing a date rewrites the chunks' metadata, so the interview is indexed
    again. `created` tells a re-ingest after a delete from the first ingest."""
    return f"{interview.created}|{interview.date}|{interview.language}|{'|'.join(interview.speakers)}"


class _Builder:
    """Accumulates chunks batch by batch (a read at a time), so building never holds every chunk's words."""

    def __init__(self, language_of: dict[str, str | None]):
        self.language_of = language_of
        self.stop = stopwords()
        self.vocab: dict[str, int] = {}
        self.stem_in: dict[str | None, dict[str, str]] = {}
        self.column_in: dict[str | None, dict[str, int]] = {}
        self.rows: list[ChunkRow] = []  # texts dropped: only ids and filter columns are kept
        self.lengths: list[int] = []
        self.coo: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, batch: list[ChunkRow]) -> None:
        tokens = [words(r.text) for r in batch]
        languages = [self.language_of.get(r.interview_id, "en") for r in batch]
        for language in set(languages):
            column = self.column_in.setdefault(language, {})  # word -> term number, -1 for a stopword
            new = {w for ws, lang in zip(tokens, languages) if lang == language for w in ws} - column.keys()
            stems = stem_map(new, language)
            self.stem_in.setdefault(language, {}).update(stems)
            for word in new:
                column[word] = -1 if word in self.stop else self.vocab.setdefault(stems[word], len(self.vocab))
        cols: list[int] = []
        for ws, language in zip(tokens, languages):  # map() looks words up at C speed: most of a build's time
            cols.extend(map(self.column_in[language].__getitem__, ws))
        counts = [len(ws) for ws in tokens]
        rows = np.repeat(np.arange(len(self.rows), len(self.rows) + len(batch), dtype=np.int32), counts)
        terms = np.asarray(cols, np.int32)
        kept = terms >= 0
        self.lengths.extend(np.bincount(rows[kept] - len(self.rows), minlength=len(batch)).tolist())
        self.coo.append((rows[kept], terms[kept]))
        self.rows.extend(dataclasses.replace(r, text="") for r in batch)

    def segment(self, name: str, versions: dict[str, str]) -> Segment:
        import jellyfish

        rows = np.concatenate([r for r, _ in self.coo]) if self.coo else _NO_ROWS
        cols = np.concatenate([c for _, c in self.coo]) if self.coo else _NO_ROWS
        tf = sparse.csc_matrix((np.ones(len(cols), np.float32), (rows, cols)),
                               shape=(len(self.rows), len(self.vocab)))
        tf.sum_duplicates()
        stem_of: dict[str, str] = {}
        for language in sorted(self.stem_in, key=lambda x: x or ""):
            for word, stem in self.stem_in[language].items():
                stem_of.setdefault(word, stem)
        sounds: dict[str, list[str]] = {}
        for word in sorted(stem_of):
            if word.isalpha() and len(word) >= 3:
                sounds.setdefault(jellyfish.metaphone(word), []).append(word)
        return _segment(name, versions, self.rows, np.asarray(self.lengths, np.float32), tf, self.vocab,
                        stem_of, sounds)


def _segment(name: str, versions: dict[str, str], rows: list[ChunkRow], lengths: np.ndarray,
             tf: sparse.csc_matrix, vocab: dict[str, int], stem_of: dict[str, str],
             sounds: dict[str, list[str]]) -> Segment:
    interviews = sorted(versions)
    at = {iid: n for n, iid in enumerate(interviews)}
    speakers = sorted({s for r in rows for s in r.speakers})
    at_s = {s: n for n, s in enumerate(speakers)}
    tf.sort_indices()
    return Segment(
        name=name, versions=dict(versions), interviews=interviews,
        interview_of=np.array([at[r.interview_id] for r in rows], np.int32),
        chunk_no=np.array([r.index for r in rows], np.int32), day_of=np.array([r.day for r in rows], np.int32),
        lengths=lengths, ptr=tf.indptr.astype(np.int64), rows=tf.indices.astype(np.int32),
        tf=np.minimum(tf.data, 65535).astype(np.uint16), vocab=vocab, speakers=speakers,
        speaker_ptr=np.concatenate([[0], np.cumsum([len(r.speakers) for r in rows])]).astype(np.int64),
        speaker_idx=np.array([at_s[s] for r in rows for s in r.speakers], np.int32),
        stem_of=stem_of, sounds=sounds)


def build(name: str, batches: Iterable[list[ChunkRow]], versions: dict[str, str],
          language_of: dict[str, str | None]) -> Segment:
    """A segment of every chunk of the interviews in `versions`, read batch by batch. `language_of`: each
    interview's stemming language (text.stem_language), English where not given."""
    builder = _Builder(language_of)
    for batch in batches:
        builder.add(batch)
    return builder.segment(name, versions)


def merge(name: str, segments: list[Segment], keep: dict[str, str]) -> Segment:
    """One segment of the rows of `segments` whose interview is in `keep` at the version held (each once): what a
    merge leaves. Nothing is tokenized again; term numbers are remapped into one vocabulary."""
    vocab: dict[str, int] = {}
    rows_out: list[ChunkRow] = []
    lengths, coo, seen = [], [], set()
    for s in segments:
        own = {n for n, iid in enumerate(s.interviews) if keep.get(iid) == s.versions[iid] and iid not in seen}
        seen.update(s.interviews[n] for n in own)
        picked = np.flatnonzero(np.isin(s.interview_of, list(own)))
        terms = np.array([vocab.setdefault(t, len(vocab)) for t in sorted(s.vocab, key=s.vocab.get)], np.int32)
        part = s.matrix()[picked].tocoo()
        coo.append((part.row + len(rows_out), terms[part.col] if len(terms) else part.col, part.data))
        lengths.append(s.lengths[picked])
        for r in picked:
            spoken = tuple(s.speakers[i] for i in s.speaker_idx[s.speaker_ptr[r]:s.speaker_ptr[r + 1]])
            rows_out.append(ChunkRow(s.interviews[s.interview_of[r]], int(s.chunk_no[r]), "", spoken,
                                     int(s.day_of[r])))
    data = [np.concatenate([c[i] for c in coo]) if coo else _NO_ROWS for i in range(3)]
    tf = sparse.csc_matrix((data[2].astype(np.float32), (data[0], data[1])), shape=(len(rows_out), len(vocab)))
    return _segment(name, {iid: keep[iid] for iid in seen}, rows_out, _stack(lengths, np.float32), tf, vocab,
                    dict(ChainMap(*[s.stem_of for s in segments])), _union_lists([s.sounds for s in segments]))


def _stack(arrays: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype)


def _union_lists(maps: list[dict[str, list[str]]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for m in maps:
        for key, values in m.items():
            merged[key] = list(dict.fromkeys(merged.get(key, []) + values))
    return merged


_ARRAYS = ("interview_of", "chunk_no", "day_of", "lengths", "ptr", "rows", "tf", "speaker_ptr", "speaker_idx")


def save(segment: Segment, folder: Path) -> None:
    """Into a new folder: segments are immutable, and a reader never sees one half-written, since the manifest
    that names it is written after."""
    folder.mkdir(parents=True, exist_ok=False)
    for field in _ARRAYS:
        np.save(folder / f"{field}.npy", getattr(segment, field))
    (folder / "words.json").write_text(json.dumps({
        "format": FORMAT, "versions": segment.versions, "interviews": segment.interviews,
        "vocab": sorted(segment.vocab, key=segment.vocab.get), "speakers": segment.speakers,
        "stem_of": segment.stem_of, "sounds": segment.sounds}, ensure_ascii=False))


def load(folder: Path) -> Segment | None:
    """None for anything unreadable, including a segment an older onrecord wrote: it is simply rebuilt."""
    try:
        meta = json.loads((folder / "words.json").read_text())
        if meta.get("format") != FORMAT:
            return None
        arrays = {field: np.load(folder / f"{field}.npy", mmap_mode="r") for field in _ARRAYS}
        return Segment(name=folder.name, versions=meta["versions"], interviews=meta["interviews"],
                       vocab={t: n for n, t in enumerate(meta["vocab"])}, speakers=meta["speakers"],
                       stem_of=meta["stem_of"], sounds=meta["sounds"], **arrays)
    except (OSError, ValueError, KeyError, TypeError):
        return None


class KeywordIndex:
    """The live view over segments: which rows count (their interview's current version, in the first segment
    that holds it), the filter columns side by side, and BM25 scores from statistics summed over all segments."""

    def __init__(self, segments: list[Segment], current: dict[str, str]):
        self.segments = segments
        self.current = dict(current)
        self.offsets = np.cumsum([0] + [s.size for s in segments])
        self.count = int(self.offsets[-1])
        self.interviews = sorted(current)
        at = {iid: n for n, iid in enumerate(self.interviews)}
        claimed: set[str] = set()
        owners = []
        for s in segments:
            mine = [iid if current.get(iid) == s.versions[iid] and iid not in claimed else None
                    for iid in s.interviews]
            claimed.update(iid for iid in mine if iid)
            owner = np.array([at[iid] if iid else -1 for iid in mine] + [-1], np.int32)  # -1: masked
            owners.append(owner[s.interview_of])
        self.interview_of = _stack(owners, np.int32)
        self.live = self.interview_of >= 0
        self.day_of = _stack([s.day_of for s in segments], np.int32)
        self.speakers = sorted({sp for s in segments for sp in s.speakers})
        at_s = {sp: n for n, sp in enumerate(self.speakers)}
        self.speaker_ptr = _joined_ptr(segments)
        self.speaker_idx = _stack([np.array([at_s[sp] for sp in s.speakers] + [0], np.int32)[s.speaker_idx]
                                   for s in segments], np.int32)
        self.avg_length = float(sum(float(s.lengths.sum()) for s in segments) / max(1, self.count))
        self.stem_of = ChainMap(*[s.stem_of for s in segments])
        self.vocabulary = _Vocabulary(segments)
        self.sounds = _Sounds(segments)

    @property
    def dead(self) -> int:
        return self.count - int(np.count_nonzero(self.live))

    def chunk_id(self, position: int) -> str:
        n = int(np.searchsorted(self.offsets, position, side="right")) - 1
        number = int(self.segments[n].chunk_no[position - self.offsets[n]])
        return chunk_id(self.interviews[self.interview_of[position]], number)

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """BM25 of every chunk (zero for masked ones)."""
        scores = np.zeros(self.count, dtype=np.float32)
        for term in dict.fromkeys(query_terms):
            idf = self.idf(term)
            for s, offset in zip(self.segments, self.offsets):
                rows, tf = s.postings(term)
                if len(rows):
                    tf = tf.astype(np.float32)
                    norm = K1 * (1 - B + B * s.lengths[rows] / self.avg_length)
                    scores[offset + rows] += idf * tf * (K1 + 1) / (tf + norm)
        return np.where(self.live, scores, 0.0)

    def df(self, stem: str) -> int:
        return sum(len(s.postings(stem)[0]) for s in self.segments)

    def idf(self, stem: str) -> float:
        """BM25's idf of a stem: always above zero, so a word every chunk holds still counts, a little."""
        df = self.df(stem)
        return float(np.log(1 + (self.count - df + 0.5) / (df + 0.5)))

    def rarity(self, words_: list[str]) -> list[float]:
        """Inverse document frequency of each word across the archive's chunks (unseen words are rarest)."""
        return [float(np.log((self.count + 1) / (self.df(self.stem_of.get(w) or stem_map({w})[w]) + 1)))
                for w in words_]


def _joined_ptr(segments: list[Segment]) -> np.ndarray:
    counts = [np.diff(s.speaker_ptr) for s in segments]
    return np.concatenate([[0], np.cumsum(_stack(counts, np.int64))]).astype(np.int64)


class _Vocabulary:
    """`stem in vocabulary` over every segment."""

    def __init__(self, segments: list[Segment]):
        self._segments = segments

    def __contains__(self, stem: str) -> bool:
        return any(stem in s.vocab for s in self._segments)


class _Sounds:
    """metaphone code -> words, over every segment."""

    def __init__(self, segments: list[Segment]):
        self._segments = segments

    def get(self, code: str, default=()) -> list[str]:
        found = [w for s in self._segments for w in s.sounds.get(code, ())]
        return list(dict.fromkeys(found)) or list(default)


def chunk_speakers(meta: dict) -> list[str]:
    """Who speaks in a chunk, from its metadata: one `speaker`, or the `speakers` of grouped short turns."""
    return [meta["speaker"]] if meta.get("speaker") else list(meta.get("speakers") or ())


def speaks_in(index: KeywordIndex, allowed: set[str]) -> np.ndarray:
    """Per chunk: does any of `allowed` speak in it."""
    wanted = [n for n, s in enumerate(index.speakers) if s in allowed]
    found = np.concatenate([[0], np.cumsum(np.isin(index.speaker_idx, wanted))])
    return found[index.speaker_ptr[1:]] > found[index.speaker_ptr[:-1]]


def read_chunks(collection, sizes: dict[str, int]) -> Iterator[list[ChunkRow]]:
    """Every chunk of the given (committed) interviews, READ_CHUNKS or fewer per read, whatever the archive's size;
    `sizes`: each interview's chunk count, which groups interviews into reads. Yields lists of ChunkRow."""
    groups: list[list[str]] = [[]]
    held = 0
    for iid in sorted(sizes):
        if groups[-1] and held + sizes[iid] > READ_CHUNKS:
            groups.append([])
            held = 0
        groups[-1].append(iid)
        held += sizes[iid]
    for group in groups:
        if group:
            yield from _read_by_id(collection, group, sizes)


def _read_by_id(collection, group: list[str], sizes: dict[str, int]) -> Iterator[list[ChunkRow]]:
    """A lookup by chunk id, where a metadata filter makes Chroma scan (at 1M chunks one interview's chunks take
    7 ms by id, 0.12 s by filter: what a reader pays after each commit). By filter, in pages, when an interview
    holds more than one read, or when what is stored does not match the counts (an archive written otherwise)."""
    ids = [chunk_id(iid, n) for iid in group for n in range(sizes[iid])]
    if len(ids) <= READ_CHUNKS:
        got = collection.get(ids=ids, include=["documents", "metadatas"])
        if len(got["ids"]) == len(ids):
            yield [_row(doc, m) for doc, m in zip(got["documents"], got["metadatas"])]
            return
    yield from _read_group(collection, group)


def _row(doc: str, m: dict) -> ChunkRow:
    return ChunkRow(m["interview_id"], int(m["index"]), doc, tuple(chunk_speakers(m)), int(m.get("day", 0)))


def _read_group(collection, group: list[str]) -> Iterator[list[ChunkRow]]:
    where = {"interview_id": group[0]} if len(group) == 1 else {"interview_id": {"$in": group}}
    offset = 0
    while True:  # one interview may hold more than one read
        got = collection.get(where=where, include=["documents", "metadatas"], limit=READ_CHUNKS, offset=offset)
        yield [_row(doc, m) for doc, m in zip(got["documents"], got["metadatas"])]
        offset += READ_CHUNKS
        if len(got["ids"]) < READ_CHUNKS:
            return
