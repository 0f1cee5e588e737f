"""Per query, the work is bounded by the hits, not by the archive: a hit decodes its own few segments (not its
200-segment transcript page), and a phrase query reads chunk texts a small batch at a time (not 1,000 of them)."""

from __future__ import annotations

import functools
import json

import pytest

from conftest import run_cli
from onrecord.search.config import Settings
from onrecord.search.retrieval import hits as hits_module
from onrecord.search.retrieval.embedder import embedder_for
from onrecord.search.retrieval.query import Filters, parse_query
from onrecord.search.retrieval.searcher import CANDIDATES, PHRASE_BATCH, Searcher
from onrecord.search.retrieval.text import contains_phrase
from onrecord.search.store import archive as archive_module
from onrecord.search.store import open_archive
from onrecord.search.timefmt import format_timestamp

CUES = 4500  # 23 transcript pages; about 140 chunks, every one of them matching "topic"


def _long_vtt(path, cues=CUES):
    stamp = functools.partial(format_timestamp, always_hours=True)
    body = "".join(f"{stamp(2.0 * i)} --> {stamp(2.0 * i + 1.5)}\nCue {i} talks about topic {i % 97}.\n\n"
                   for i in range(cues))
    path.write_text("WEBVTT\n\n" + body)
    return path


@pytest.fixture(scope="module")
def long_archive(tmp_path_factory, model_cache):
    folder = tmp_path_factory.mktemp("long")
    archive = folder / "archive"
    done = run_cli("--archive", str(archive), "ingest", str(_long_vtt(folder / "long.vtt")),
                   env={"XDG_CACHE_HOME": str(model_cache)})
    assert done.returncode == 0, done.stderr
    return archive


def _searcher(path) -> Searcher:
    settings = Settings(archive=path)
    archive = open_archive(settings)
    return Searcher(archive, embedder_for(settings, archive.embed_model), settings.cache_dir)


class _CountingJson:
    """archive.py's json, counting what is decoded."""

    def __init__(self):
        self.decoded: list[str] = []

    def loads(self, text):
        self.decoded.append(text)
        return json.loads(text)

    dumps = staticmethod(json.dumps)


def test_a_hit_decodes_only_the_segments_it_shows(long_archive, monkeypatch):
    searcher = _searcher(long_archive)
    searcher.search("topic 5", mode="keyword")  # warm: the interview list and the keyword index
    counting = _CountingJson()
    monkeypatch.setattr(archive_module, "json", counting)
    seen = []
    real_narrow = hits_module.narrow

    def narrow(archive, candidates, *args, **kwargs):
        seen.extend(candidates)
        return real_narrow(archive, candidates, *args, **kwargs)

    monkeypatch.setattr("onrecord.search.retrieval.searcher.narrow", narrow)
    found = searcher.search("talks about topic 5", limit=10)
    assert found and all(h.start < h.end for h in found)
    pages = [text for text in counting.decoded if text.startswith("[")]
    assert pages == [], "no transcript page is decoded whole"
    # Each candidate needs its chunk's segments, one before, and up to MAX_WINDOW + 1 after (an answer).
    bound = sum(c.meta["last_segment"] - c.meta["first_segment"] + 1 + hits_module.MAX_WINDOW + 2 for c in seen)
    assert 0 < len(counting.decoded) <= bound
    assert max(map(len, counting.decoded)) < 2_000, "each decode is one segment"


def test_a_phrase_query_reads_texts_a_small_batch_at_a_time(long_archive, monkeypatch):
    searcher = _searcher(long_archive)
    searcher.interviews()
    collection = searcher._chunks
    everything = collection.get(include=["documents"])
    sizes = []

    class Watched:
        """The chunks collection, recording how many ids each `get` asks for."""

        name = collection.name

        def get(self, ids=None, **kwargs):
            sizes.append(len(ids) if ids is not None else len(everything["ids"]))
            return collection.get(ids=ids, **kwargs)

        def __getattr__(self, attr):
            return getattr(collection, attr)

    searcher.keyword_index()  # built (its reads are paged by keyword.READ_CHUNKS), so only the query's reads count
    searcher._chunks = Watched()
    searcher.interviews = lambda: searcher._interviews  # keep the wrapped collection for this test
    for mode in ("keyword", "hybrid"):
        sizes.clear()
        found = searcher.search('"about topic 3"', mode=mode, limit=10)
        assert found and all(contains_phrase(h.text, "about topic 3") for h in found)
        assert sizes and max(sizes) <= PHRASE_BATCH, sizes
    # The same chunks as checking every text at once: all those holding the phrase, best first.
    index = searcher.keyword_index()
    holding = {cid for cid, doc in zip(everything["ids"], everything["documents"])
               if contains_phrase(doc, "about topic 3")}
    assert 0 < len(holding) < len(everything["ids"]) and len(everything["ids"]) > PHRASE_BATCH
    query = parse_query('"about topic 3"', ("en",))
    kept = searcher._keyword(query, searcher._scope(Filters(), searcher._interviews), {})
    scores = {index.chunk_id(n): s for n, s in enumerate(index.scores(sorted(query.all_terms)))}
    assert len(holding) <= CANDIDATES, "so every batch is read, and every chunk holding the phrase kept"
    assert set(kept) == holding and list(kept.values()) == sorted((scores[c] for c in holding), reverse=True)


def test_migrate_lets_an_archive_of_whole_pages_decode_single_segments(long_archive, tmp_path):
    """An archive written before pages recorded their segments' sizes (schema 2) is upgraded by `onrecord
    migrate`; until then it is searched as it is (its pages decoded whole), and afterwards it finds the same hits."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(long_archive, copy)
    before = json.loads(run_cli("--archive", str(copy), "search", "talks about topic 5", "--json").stdout)
    archive = open_archive(Settings(archive=copy))
    pages = archive.transcripts.get(include=["documents", "metadatas"])
    archive.transcripts.update(ids=pages["ids"], embeddings=[[1.0]] * len(pages["ids"]),
                               documents=[json.dumps(json.loads(d), ensure_ascii=False) for d in pages["documents"]],
                               metadatas=[m | {"sizes": None} for m in pages["metadatas"]])  # None deletes
    archive.set_schema(2)
    del archive
    assert json.loads(run_cli("--archive", str(copy), "search", "talks about topic 5", "--json").stdout) == before
    done = run_cli("--archive", str(copy), "migrate", "--json")
    assert json.loads(done.stdout) == {"archive": str(copy), "from_schema": 2, "to_schema": 3,
                                       "records_changed": len(pages["ids"])}
    assert json.loads(run_cli("--archive", str(copy), "migrate", "--json").stdout)["records_changed"] == 0
    after = open_archive(Settings(archive=copy)).transcripts.get(include=["metadatas"])
    assert all("sizes" in m for m in after["metadatas"])
    assert json.loads(run_cli("--archive", str(copy), "search", "talks about topic 5", "--json").stdout) == before
