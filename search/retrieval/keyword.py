"""BM25 (bm25s) over the archive's committed chunks.

The index is derived from Chroma and cached on local disk, keyed by the archive and stamped with the set of
committed interviews it covers. Readers check that stamp and rebuild only when interviews were added or removed,
by this process or any other, so keyword and dense search always cover the same archive.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..iterutil import batched
from .text import stem_map, stopwords, words

_FORMAT = 4  # bump when tokenizing or the layout changes: cached indexes rebuild


def fingerprint(collection: str, interview_ids: list[str]) -> str:
    digest = hashlib.sha256(f"{_FORMAT}:{collection}".encode())
    for iid in sorted(interview_ids):
        digest.update(iid.encode())
    return digest.hexdigest()[:20]


@dataclass
class KeywordIndex:
    bm25: object  # bm25s.BM25
    chunk_ids: list[str]
    interview_of: np.ndarray  # int32 per chunk: position in `interviews`
    interviews: list[str]
    # Who speaks in each chunk, CSR-style: chunk n's speakers are speakers[speaker_idx[speaker_ptr[n]:
    # speaker_ptr[n + 1]]] (grouped short turns have several).
    speaker_ptr: np.ndarray  # int64, one more than there are chunks
    speaker_idx: np.ndarray  # int32
    speakers: list[str]
    day_of: np.ndarray  # int32 per chunk: YYYYMMDD
    sounds: dict[str, list[str]]  # metaphone code -> vocabulary words, for misheard names
    stem_of: dict[str, str]  # vocabulary word -> stem (in the language of the first interview that says it)
    stamp: str

    def scores(self, query_terms: list[str]) -> np.ndarray:
        known = [t for t in query_terms if t in self.bm25.vocab_dict]
        if not known:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        return self.bm25.get_scores(known)


    def rarity(self, words_: list[str]) -> list[float]:
        """Inverse document frequency of each word across the archive's chunks (unseen words are rarest)."""
        n = len(self.chunk_ids)
        return [float(np.log((n + 1) / (self._df(self.stem_of.get(w) or stem_map({w})[w]) + 1))) for w in words_]

    def idf(self, stem: str) -> float:
        """BM25's idf of a stem: always above zero, so a word every chunk holds still counts, a little."""
        df = self._df(stem)
        return float(np.log(1 + (len(self.chunk_ids) - df + 0.5) / (df + 0.5)))

    def _df(self, stem: str) -> int:
        column = self.bm25.vocab_dict.get(stem)
        indptr = self.bm25.scores["indptr"]
        return 0 if column is None else int(indptr[column + 1] - indptr[column])


def build(chunks: list[tuple[str, str, dict]], stamp: str,
          language_of: dict[str, str | None] | None = None) -> KeywordIndex:
    """chunks: (chunk id, text, metadata) of every committed chunk; language_of: each interview's stemming
    language (text.stem_language), English where not given."""
    import bm25s
    import jellyfish

    language_of = language_of or {}
    texts_words = [words(text) for _, text, _ in chunks]
    languages = [language_of.get(meta["interview_id"], "en") for _, _, meta in chunks]
    vocabulary: dict[str | None, set[str]] = {}
    for ws, language in zip(texts_words, languages):
        vocabulary.setdefault(language, set()).update(ws)
    stem_in = {language: stem_map(found, language) for language, found in vocabulary.items()}
    stop = stopwords()
    corpus = [[stem_in[language][w] for w in ws if w not in stop] for ws, language in zip(texts_words, languages)]
    stem_of: dict[str, str] = {}
    for mapping in stem_in.values():
        for word, stem in mapping.items():
            stem_of.setdefault(word, stem)
    bm25 = bm25s.BM25()
    bm25.index(corpus, show_progress=False)
    interviews = sorted({meta["interview_id"] for _, _, meta in chunks})
    spoken = [chunk_speakers(meta) for _, _, meta in chunks]
    speakers = sorted({s for names in spoken for s in names})
    at_i = {iid: n for n, iid in enumerate(interviews)}
    at_s = {s: n for n, s in enumerate(speakers)}
    sounds: dict[str, list[str]] = {}
    for word in sorted(stem_of):
        if word.isalpha() and len(word) >= 3:
            sounds.setdefault(jellyfish.metaphone(word), []).append(word)
    return KeywordIndex(
        bm25=bm25, chunk_ids=[cid for cid, _, _ in chunks],
        interview_of=np.array([at_i[m["interview_id"]] for _, _, m in chunks], dtype=np.int32),
        interviews=interviews,
        speaker_ptr=np.concatenate([[0], np.cumsum([len(names) for names in spoken])]).astype(np.int64),
        speaker_idx=np.array([at_s[s] for names in spoken for s in names], dtype=np.int32),
        speakers=speakers,
        day_of=np.array([int(m.get("day", 0)) for _, _, m in chunks], dtype=np.int32),
        sounds=sounds, stem_of=stem_of, stamp=stamp)


def save(index: KeywordIndex, folder: Path) -> None:
    """Write beside, then rename: a concurrent reader sees the old index or the new one, never half."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    index.bm25.save(str(tmp / "bm25"), show_progress=False)
    np.savez(tmp / "arrays.npz", interview_of=index.interview_of, speaker_ptr=index.speaker_ptr,
             speaker_idx=index.speaker_idx, day_of=index.day_of)
    (tmp / "meta.json").write_text(json.dumps({
        "chunk_ids": index.chunk_ids, "interviews": index.interviews, "speakers": index.speakers,
        "sounds": index.sounds, "stem_of": index.stem_of, "stamp": index.stamp}))
    old = folder.with_name(f"{folder.name}.old{os.getpid()}")
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)


def load(folder: Path) -> KeywordIndex | None:
    import bm25s

    try:  # anything unreadable, including an index an older onrecord wrote, is simply rebuilt
        meta = json.loads((folder / "meta.json").read_text())
        arrays = np.load(folder / "arrays.npz")
        bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False, mmap=False)
        return KeywordIndex(bm25=bm25, chunk_ids=meta["chunk_ids"], interview_of=arrays["interview_of"],
                            interviews=meta["interviews"], speaker_ptr=arrays["speaker_ptr"],
                            speaker_idx=arrays["speaker_idx"], speakers=meta["speakers"],
                            day_of=arrays["day_of"], sounds=meta["sounds"], stem_of=meta["stem_of"],
                            stamp=meta["stamp"])
    except (OSError, ValueError, KeyError):
        return None


def chunk_speakers(meta: dict) -> list[str]:
    """Who speaks in a chunk, from its metadata: one `speaker`, or the `speakers` of grouped short turns."""
    return [meta["speaker"]] if meta.get("speaker") else list(meta.get("speakers") or ())


def speaks_in(index: KeywordIndex, allowed: set[str]) -> np.ndarray:
    """Per chunk: does any of `allowed` speak in it."""
    wanted = [n for n, s in enumerate(index.speakers) if s in allowed]
    found = np.concatenate([[0], np.cumsum(np.isin(index.speaker_idx, wanted))])
    return found[index.speaker_ptr[1:]] > found[index.speaker_ptr[:-1]]


def read_chunks(collection, interview_ids: list[str]) -> list[tuple[str, str, dict]]:
    """Every chunk of the given (committed) interviews, in a stable order."""
    found: list[tuple[str, str, dict]] = []
    for group in batched(sorted(interview_ids), 100):
        got = collection.get(where={"interview_id": {"$in": list(group)}}, include=["documents", "metadatas"])
        found.extend(zip(got["ids"], got["documents"], got["metadatas"]))
    return sorted(found, key=lambda c: c[0])
