"""The keyword index at scale: paged reads, segments added per commit, masked deletions, merges.

Chunks are written straight into a real Chroma archive (short texts, 4-dimensional vectors: keyword search reads
no vector), so an archive of 50k+ chunks costs seconds, not an hour of embedding."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from onrecord.search.config import Settings
from onrecord.search.models import Chunk, Interview, Segment
from onrecord.search.retrieval import keyword, segments
from onrecord.search.retrieval.searcher import Searcher
from onrecord.search.store import open_archive

WORDS = ("rocket booster landing orbit fuel garden compost tomato aphids python typing async database "
         "index query coffee espresso grinder bicycle chain gear violin bow rosin").split()


class _NoEmbedder:
    name = "test-vectors"

    def embed(self, texts):
        raise AssertionError("keyword search embeds nothing")


def _add(archive, number: int, chunks: int, *, topic: str | None = None) -> Interview:
    """An interview of `chunks` chunks of 12 words each (one segment per chunk), committed."""
    iid = f"iv{number:05d}"
    rng = np.random.default_rng(number)
    texts = [" ".join(rng.choice(WORDS, 12)) for _ in range(chunks)]
    if topic:
        texts[chunks // 2] += f" {topic}"
    segs = [Segment(start=n * 5.0, end=n * 5.0 + 5, text=t) for n, t in enumerate(texts)]
    archive.stage_pages(iid, 0, [segs[i:i + 200] for i in range(0, len(segs), 200)])
    for first in range(0, chunks, 5000):
        batch = [Chunk(index=n, start=n * 5.0, end=n * 5.0 + 5, text=texts[n], speaker=None, first_segment=n,
                       last_segment=n)
                 for n in range(first, min(chunks, first + 5000))]
        archive.stage_chunks(iid, batch, [[1.0, 0.0, 0.0, float(n % 7)] for n in range(len(batch))], day=20240101)
    interview = Interview(id=iid, title=f"talk {number}", source=f"{iid}.vtt", kind="transcript", media=None,
                          duration=chunks * 5.0, language="en", speakers=(), segments=chunks, chunks=chunks,
                          created=f"2024-01-01T00:00:{number % 60:02d}+00:00")
    archive.commit(interview)
    return interview


@pytest.fixture
def archive(isolated_archive):
    archive = open_archive(Settings(), create=True)
    archive.set_embed_model("test-vectors")
    return archive


def _searcher(archive, tmp_path) -> Searcher:
    return Searcher(archive, _NoEmbedder(), tmp_path / "cache")


@pytest.mark.slow
def test_an_archive_whose_100_interviews_hold_50k_chunks_is_searched_by_keyword(archive, tmp_path):
    """A read of 100 interviews' chunks at once failed with "too many SQL variables" at this size."""
    for n in range(100):
        _add(archive, n, 510, topic="zeppelin" if n == 73 else None)
    searcher = _searcher(archive, tmp_path)
    hits = searcher.search("zeppelin", mode="keyword", limit=3)
    assert [h.title for h in hits] == ["talk 73"] and hits[0].start == 255 * 5.0
    assert searcher.keyword_index().count == 51_000


def test_one_interview_larger_than_a_read_is_read_in_pages(archive, tmp_path, monkeypatch):
    monkeypatch.setattr(keyword, "READ_CHUNKS", 40)
    _add(archive, 1, 130, topic="zeppelin")
    gets = []
    real = keyword.read_chunks
    monkeypatch.setattr(keyword, "read_chunks", lambda coll, sizes: real(_Counting(coll, gets), sizes))
    index = _searcher(archive, tmp_path).keyword_index()
    assert index.count == 130 and gets == [(40, 40), (40, 40), (40, 40), (40, 10)]


def test_chunks_are_read_by_id_and_by_filter_only_when_the_ids_do_not_match_the_count(archive, tmp_path,
                                                                                       monkeypatch):
    """By id is a key lookup; a metadata filter makes Chroma scan the collection."""
    first, second = _add(archive, 1, 30), _add(archive, 2, 20, topic="zeppelin")
    archive.chunks().delete(ids=[f"{first.id}-c00029"])  # what is stored no longer matches the count
    gets = []
    real = keyword.read_chunks
    monkeypatch.setattr(keyword, "read_chunks", lambda coll, sizes: real(_Counting(coll, gets, kinds=True), sizes))
    index = _searcher(archive, tmp_path).keyword_index()
    assert gets == [("ids", 49), ("where", 49)] and index.count == 49
    assert _by_chunk(index, ["zeppelin"]) and second.id in index.segments[0].versions


def test_a_commit_adds_one_small_segment_and_scores_as_a_fresh_build(archive, tmp_path, monkeypatch):
    for n in range(6):
        _add(archive, n, 30)
    reader = _searcher(archive, tmp_path)
    reader.keyword_index()
    _add(archive, 6, 30, topic="zeppelin")  # "another process" commits
    read = []
    real = keyword.read_chunks
    monkeypatch.setattr(keyword, "read_chunks", lambda coll, sizes: read.append(sorted(sizes)) or real(coll, sizes))
    reader.mark_stale()
    index = reader.keyword_index()
    assert read == [["iv00006"]] and len(index.segments) == 2
    fresh = _searcher(archive, tmp_path / "elsewhere").keyword_index()  # one segment, built at once
    assert len(fresh.segments) == 1
    for query in (["zeppelin"], ["rocket", "garden"], ["espresso"]):
        assert _by_chunk(index, query) == pytest.approx(_by_chunk(fresh, query))
    # A third process on this machine finds the segments the reader saved and reads nothing from Chroma.
    read.clear()
    assert _searcher(archive, tmp_path).keyword_index().count == 210 and read == []


def test_a_deleted_interview_is_masked_at_once_and_merged_away(archive, tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "MAX_SEGMENTS", 3)
    reader = _searcher(archive, tmp_path)
    talks = [_add(archive, n, 20, topic="zeppelin") for n in range(2)]
    reader.keyword_index()
    for n in range(2, 6):
        _add(archive, n, 20)
        reader.mark_stale()
        reader.keyword_index()
    reader._segments.wait_for_merges()
    reader.mark_stale()
    index = reader.keyword_index()
    assert len(index.segments) <= 3
    assert {h.title for h in reader.search("zeppelin", mode="keyword")} == {"talk 0", "talk 1"}
    archive.delete(talks[0].id)
    reader.mark_stale()
    assert {h.title for h in reader.search("zeppelin", mode="keyword")} == {"talk 1"}
    renamed = dataclasses.replace(talks[1], speakers=("Dana",))  # a new version: indexed again, the old masked
    archive.put_record(renamed)
    archive._bump_revision()
    reader.mark_stale()
    index = reader.keyword_index()
    assert index.count - index.dead == 100 and {h.title for h in reader.search("zeppelin", mode="keyword")} == {
        "talk 1"}


class _Counting:
    """A chunks collection that notes the size of each read."""

    def __init__(self, collection, limits: list, *, kinds: bool = False):
        self._collection, self._limits, self._kinds = collection, limits, kinds

    def get(self, **kwargs):
        got = self._collection.get(**kwargs)
        how = ("ids" if "ids" in kwargs else "where") if self._kinds else kwargs.get("limit")
        self._limits.append((how, len(got["ids"])))
        return got


def _by_chunk(index, terms: list[str]) -> dict[str, float]:
    scores = index.scores(terms)
    return {index.chunk_id(int(n)): float(scores[n]) for n in np.flatnonzero(scores)}


def test_an_index_cached_in_the_old_layout_is_removed_and_the_new_one_works(archive, tmp_path):
    _add(archive, 0, 30, topic="zeppelin")
    reader = _searcher(archive, tmp_path)
    old = reader._cache_folder("x").parent  # keyword/<archive key>/, where one whole index used to live
    (old / "bm25").mkdir(parents=True)
    (old / "bm25" / "params.index.json").write_text("{}")
    (old / "meta.json").write_text("{}")
    (old / "arrays.npz").write_bytes(b"")
    assert _by_chunk(_searcher(archive, tmp_path).keyword_index(), ["zeppelin"])
    assert sorted(p.name for p in old.iterdir()) == [archive.chunks().name]
