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

from .iterutil import batched
from .text import stem_map, stopwords, words

_FORMAT = 2  # bump when tokenizing changes: cached indexes rebuild


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
    speaker_of: np.ndarray  # int32 per chunk: position in `speakers`, -1 when unknown
    speakers: list[str]
    day_of: np.ndarray  # int32 per chunk: YYYYMMDD
    sounds: dict[str, list[str]]  # metaphone code -> vocabulary words, for misheard names
    stem_of: dict[str, str]  # vocabulary word -> stem
    stamp: str

    def scores(self, query_terms: list[str]) -> np.ndarray:
        known = [t for t in query_terms if t in self.bm25.vocab_dict]
        if not known:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        return self.bm25.get_scores(known)


def build(chunks: list[tuple[str, str, dict]], stamp: str) -> KeywordIndex:
    """chunks: (chunk id, text, metadata) of every committed chunk."""
    import bm25s
    import jellyfish

    texts_words = [words(text) for _, text, _ in chunks]
    vocabulary = {w for ws in texts_words for w in ws}
    stem_of = stem_map(vocabulary)
    stop = stopwords()
    corpus = [[stem_of[w] for w in ws if w not in stop] for ws in texts_words]
    bm25 = bm25s.BM25()
    bm25.index(corpus, show_progress=False)
    interviews = sorted({meta["interview_id"] for _, _, meta in chunks})
    speakers = sorted({meta["speaker"] for _, _, meta in chunks if meta.get("speaker")})
    at_i = {iid: n for n, iid in enumerate(interviews)}
    at_s = {s: n for n, s in enumerate(speakers)}
    sounds: dict[str, list[str]] = {}
    for word in sorted(vocabulary):
        if word.isalpha() and len(word) >= 3:
            sounds.setdefault(jellyfish.metaphone(word), []).append(word)
    return KeywordIndex(
        bm25=bm25, chunk_ids=[cid for cid, _, _ in chunks],
        interview_of=np.array([at_i[m["interview_id"]] for _, _, m in chunks], dtype=np.int32),
        interviews=interviews,
        speaker_of=np.array([at_s.get(m.get("speaker"), -1) for _, _, m in chunks], dtype=np.int32),
        speakers=speakers,
        day_of=np.array([int(m.get("day", 0)) for _, _, m in chunks], dtype=np.int32),
        sounds=sounds, stem_of=stem_of, stamp=stamp)


def save(index: KeywordIndex, folder: Path) -> None:
    """Write beside, then rename: a concurrent reader sees the old index or the new one, never half."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    index.bm25.save(str(tmp / "bm25"), show_progress=False)
    np.savez(tmp / "arrays.npz", interview_of=index.interview_of, speaker_of=index.speaker_of, day_of=index.day_of)
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

    try:
        meta = json.loads((folder / "meta.json").read_text())
        arrays = np.load(folder / "arrays.npz")
        bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False, mmap=False)
    except (OSError, ValueError, KeyError):
        return None
    return KeywordIndex(bm25=bm25, chunk_ids=meta["chunk_ids"], interview_of=arrays["interview_of"],
                        interviews=meta["interviews"], speaker_of=arrays["speaker_of"], speakers=meta["speakers"],
                        day_of=arrays["day_of"], sounds=meta["sounds"], stem_of=meta["stem_of"],
                        stamp=meta["stamp"])


def read_chunks(collection, interview_ids: list[str]) -> list[tuple[str, str, dict]]:
    """Every chunk of the given (committed) interviews, in a stable order."""
    found: list[tuple[str, str, dict]] = []
    for group in batched(sorted(interview_ids), 100):
        got = collection.get(where={"interview_id": {"$in": list(group)}}, include=["documents", "metadatas"])
        found.extend(zip(got["ids"], got["documents"], got["metadatas"]))
    return sorted(found, key=lambda c: c[0])
