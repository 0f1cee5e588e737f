"""Per-query work before and after it was bounded by the hit: segments decoded per search, texts per phrase query.

(What opening the reader on a long recording costs the app's server is `bench_app.py media`.)

    python benchmarks/bench_perquery.py [--archive DIR] [--queries 20] [--skip-searches]

Side by side, in one run (metric | before | after):
- pages: a 200-segment transcript page with Whisper-like word timings (synthetic, ~20 words a segment): decoding
  the page to build one hit's 6 segments (before) against decoding only those 6 (after).
- hits: the questions of benchmarks/data/search_eval.jsonl (first --queries) on a copy of --archive (default
  benchmarks/out/corpus-archive, the 509-episode archive bench_search.py builds; schema 2, captions without word
  timings): characters and segments decoded per search, and the time spent turning candidates into hits. Before:
  the copy as it is (pages without sizes are decoded whole, as onrecord did); after: the copy once `migrate`d.
- phrase: quoted-phrase queries on that copy, hybrid mode: chunk texts read per query and the query time. Before:
  PHRASE_BATCH set to PHRASE_POOL, i.e. all 1,000 keyword candidates read at once as onrecord did; after: 64 at a time.
Writes benchmarks/out/bench_perquery.json.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import time
from pathlib import Path

from harness import CORPUS_ARCHIVE, OUT, configure_environment, questions, searcher, write_report

PHRASES = ['"open source"', '"the standard library"', '"in production"', '"machine learning"', '"type hints"',
           '"unit tests"', '"data science"', '"the GIL"']


# ---------------------------------------------------------------- a page with word timings

def page_decode() -> dict:
    from onrecord.search.models import Segment, Word, segment_from_json, segment_to_json
    from onrecord.search.store.archive import page_record, page_segments

    rng, t, segments = random.Random(1), 0.0, []
    for n in range(200):
        words = []
        for _ in range(rng.randint(10, 30)):
            words.append(Word(t, t + 0.3, f" word{rng.randint(0, 999)}", 0.9))
            t += 0.3
        segments.append(Segment(words[0].start, words[-1].end, "".join(w.word for w in words),
                                f"SPEAKER_0{n % 2}", tuple(words)))
    data = [segment_to_json(s) for s in segments]
    doc, sizes = page_record(data)
    wanted = range(100, 106)

    def before():
        page = json.loads(doc)
        return [segment_from_json(page[n]) for n in wanted]

    def after():
        return [segment_from_json(s) for s in page_segments(doc, {"sizes": sizes}, wanted).values()]

    assert before() == after()
    return {"page_chars": len(doc), "segments_wanted": len(wanted),
            "before_ms": _best_ms(before), "after_ms": _best_ms(after),
            "before_chars_decoded": len(doc), "after_chars_decoded": sum(len(json.dumps(data[n])) for n in wanted)}


def _best_ms(fn, runs: int = 30) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return round(min(times) * 1000, 3)


# ---------------------------------------------------------------- searches on the copied archive

class _Counting:
    """Stands in for archive.py's json: counts what transcript reads decode."""

    def __init__(self):
        self.chars = self.segments = 0

    def loads(self, text):
        self.chars += len(text)
        found = json.loads(text)
        self.segments += len(found) if isinstance(found, list) else 1
        return found

    dumps = staticmethod(json.dumps)


def measure_searches(archive_dir: Path, asked: list[str]) -> dict:
    from onrecord.search.retrieval import hits, searcher as searcher_module
    from onrecord.search.store import archive as archive_module

    reader = searcher(archive=archive_dir, upgrading=True)
    reader.search("warm up the models and the keyword index")
    counting, narrowing = _Counting(), []
    real_narrow, real_json = hits.narrow, archive_module.json

    def timed_narrow(*args, **kwargs):
        began = time.perf_counter()
        try:
            return real_narrow(*args, **kwargs)
        finally:
            narrowing.append(time.perf_counter() - began)

    searcher_module.narrow, archive_module.json = timed_narrow, counting
    try:
        for q in asked:
            reader.search(q)
        result = {"searches": len(asked),
                  "chars_decoded_per_search": round(counting.chars / len(asked)),
                  "segments_decoded_per_search": round(counting.segments / len(asked), 1),
                  "narrowing_ms_median": round(statistics.median(narrowing) * 1000, 2)}
        return result | phrase_reads(reader)
    finally:
        searcher_module.narrow, archive_module.json = real_narrow, real_json


def phrase_reads(reader) -> dict:
    """The quoted-phrase queries: chunk texts read from the chunks collection per query, the largest read, time."""
    collection, reads = reader._chunks, []

    class Watched:
        name = collection.name

        def get(self, ids=None, **kwargs):
            reads.append(len(ids or ()))
            return collection.get(ids=ids, **kwargs)

        def __getattr__(self, attr):
            return getattr(collection, attr)

    reader._chunks, result, times = Watched(), {"texts_read_per_phrase_query": [],
                                                "largest_read_per_phrase_query": []}, []
    try:
        for phrase in PHRASES:
            reads.clear()
            began = time.perf_counter()
            reader.search(phrase)
            times.append(time.perf_counter() - began)
            result["texts_read_per_phrase_query"].append(sum(reads))
            result["largest_read_per_phrase_query"].append(max(reads, default=0))
    finally:
        reader._chunks = collection
    return result | {"phrase_query_ms_median": round(statistics.median(times) * 1000, 1)}


def searches(source: Path, queries: int) -> dict:
    from onrecord.search.config import Settings
    from onrecord.search.retrieval import searcher as searcher_module
    from onrecord.search.store import open_archive
    from onrecord.search.store.migrate import migrate

    copy = OUT / "perquery-archive"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(source, copy)
    asked = [q["question"] for q in questions()][:queries]
    batch = searcher_module.PHRASE_BATCH
    searcher_module.PHRASE_BATCH = searcher_module.PHRASE_POOL  # before: every candidate's text at once
    before = measure_searches(copy, asked)
    searcher_module.PHRASE_BATCH = batch
    began = time.perf_counter()
    migrated = migrate(open_archive(Settings(archive=copy), upgrading=True))
    after = measure_searches(copy, asked)
    after["migrate_s"], after["pages_rewritten"] = round(time.perf_counter() - began, 1), migrated.changed
    return {"before": before, "after": after}


# ---------------------------------------------------------------- report

def table(results: dict) -> list[str]:
    rows = [("page: ms to build one hit's 6 segments", results["pages"]["before_ms"], results["pages"]["after_ms"]),
            ("page: characters decoded", results["pages"]["before_chars_decoded"],
             results["pages"]["after_chars_decoded"])]
    if "searches" in results:
        b, a = results["searches"]["before"], results["searches"]["after"]
        rows += [(f"search: {k.replace('_', ' ')}", b[k], a[k]) for k in
                 ("chars_decoded_per_search", "segments_decoded_per_search", "narrowing_ms_median",
                  "texts_read_per_phrase_query", "largest_read_per_phrase_query", "phrase_query_ms_median")]
    return ["metric | before | after", "--- | --- | ---", *(f"{m} | {b} | {a}" for m, b, a in rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=CORPUS_ARCHIVE)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--skip-searches", action="store_true", help="only the synthetic page (seconds, no archive)")
    args = parser.parse_args()
    configure_environment()
    results = {"pages": page_decode()}
    if not args.skip_searches:
        results["searches"] = searches(args.archive, args.queries)
    write_report("bench_perquery", results)
    print("\n".join(table(results)))


if __name__ == "__main__":
    main()
