"""Per-query work, before and after it was bounded by the hit: segments decoded per search, texts read per phrase
query, and what opening the reader on a long recording costs the app's server.

    python benchmarks/bench_perquery.py [--archive DIR] [--queries 20] [--skip-reader]
        [--baseline-root DIR] [--media-hours 3]

Side by side, in one run (metric | before | after):
- pages: a 200-segment transcript page with Whisper-like word timings (synthetic, ~20 words a segment): decoding
  the page to build one hit's 6 segments (before) against decoding only those 6 (after).
- hits: the questions of benchmarks/data/search_eval.jsonl (first --queries) on a copy of --archive (default
  benchmarks/out/corpus-archive, the 509-episode archive bench_search.py builds; schema 2, captions without word
  timings): characters and segments decoded per search, and the time spent turning candidates into hits. Before:
  the copy as it is (pages without sizes are decoded whole, as onrecord did); after: the copy once `migrate`d.
- phrase: quoted-phrase queries on that copy, hybrid mode: chunk texts read per query and the query time. Before:
  PHRASE_BATCH set to PHRASE_POOL, i.e. all 1,000 keyword candidates read at once as onrecord did; after: 64 at a time.
- reader: `onrecord ui` of --baseline-root (a checkout of the baseline, e.g. `git worktree add /tmp/base 486bbe3`)
  and of this checkout, each opening /interview on a short transcript whose recording is a --media-hours long WAV
  (8 kHz mono, 173 MB for 3 hours) in headless Chromium: seconds to the first paragraph and the player ready,
  and the server process's bytes read (/proc/PID/io rchar) and peak memory (VmHWM) across the open.
Writes benchmarks/out/bench_perquery.json.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
import wave
from pathlib import Path

from bench_app import CHROMIUM_ARGS  # noqa: E402 - benchmarks/ is on sys.path
from bench_reader import app_process
from common import OUT, ROOT, chromium, configure_environment, load_jsonl

DEFAULT_ARCHIVE = OUT / "corpus-archive"
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


def measure_searches(archive_dir: Path, questions: list[str]) -> dict:
    from onrecord.search.config import Settings
    from onrecord.search.retrieval import hits, searcher as searcher_module
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.store import archive as archive_module
    from onrecord.search.store import open_archive

    archive = open_archive(Settings(archive=archive_dir), upgrading=True)
    searcher = searcher_module.Searcher(archive, embedder_for(Settings(), archive.embed_model), Settings().cache_dir)
    searcher.search("warm up the models and the keyword index")
    counting, narrowing, reads = _Counting(), [], []
    real_narrow, real_json = hits.narrow, archive_module.json

    def timed_narrow(*args, **kwargs):
        began = time.perf_counter()
        try:
            return real_narrow(*args, **kwargs)
        finally:
            narrowing.append(time.perf_counter() - began)

    collection = searcher._chunks

    class Watched:
        name = collection.name

        def get(self, ids=None, **kwargs):
            reads.append(len(ids or ()))
            return collection.get(ids=ids, **kwargs)

        def __getattr__(self, attr):
            return getattr(collection, attr)

    searcher_module.narrow, archive_module.json = timed_narrow, counting
    try:
        for q in questions:
            searcher.search(q)
        result = {"searches": len(questions),
                  "chars_decoded_per_search": round(counting.chars / len(questions)),
                  "segments_decoded_per_search": round(counting.segments / len(questions), 1),
                  "narrowing_ms_median": round(statistics.median(narrowing) * 1000, 2)}
        searcher._chunks = Watched()
        phrase_times = []
        for phrase in PHRASES:
            reads.clear()
            began = time.perf_counter()
            searcher.search(phrase)
            phrase_times.append(time.perf_counter() - began)
            result.setdefault("texts_read_per_phrase_query", []).append(sum(reads))
            result.setdefault("largest_read_per_phrase_query", []).append(max(reads, default=0))
        result["phrase_query_ms_median"] = round(statistics.median(phrase_times) * 1000, 1)
    finally:
        searcher_module.narrow, archive_module.json = real_narrow, real_json
    return result


def searches(source: Path, queries: int) -> dict:
    from onrecord.search.config import Settings
    from onrecord.search.retrieval import searcher as searcher_module
    from onrecord.search.store import open_archive
    from onrecord.search.store.migrate import migrate

    copy = OUT / "perquery-archive"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(source, copy)
    questions = [q["question"] for q in load_jsonl(ROOT / "benchmarks" / "data" / "search_eval.jsonl")][:queries]
    batch = searcher_module.PHRASE_BATCH
    searcher_module.PHRASE_BATCH = searcher_module.PHRASE_POOL  # before: every candidate's text at once
    before = measure_searches(copy, questions)
    searcher_module.PHRASE_BATCH = batch
    began = time.perf_counter()
    migrated = migrate(open_archive(Settings(archive=copy), upgrading=True))
    after = measure_searches(copy, questions)
    after["migrate_s"], after["pages_rewritten"] = round(time.perf_counter() - began, 1), migrated.changed
    return {"before": before, "after": after}


# ---------------------------------------------------------------- the reader on a long recording

def long_wav(path: Path, hours: float) -> Path:
    """Silence, 8 kHz mono 16-bit: written in blocks, never held whole."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        block = bytes(2 * 8000 * 60)
        for _ in range(int(hours * 60)):
            w.writeframes(block)
    return path


def _proc(pid: int) -> dict:
    io = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {"rchar": int(io["rchar"]), "hwm_kb": int(status["VmHWM"].split()[0]),
            "rss_kb": int(status["VmRSS"].split()[0])}


def open_reader(root: Path, archive: Path, interview_id: str, label: str) -> dict:
    from playwright.sync_api import sync_playwright

    with app_process(root, archive, OUT / f"bench_perquery-{label}-server.log") as (url, pid), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(300_000)
        page.goto(f"{url}/")  # the first run of the app: models and archive opened, not counted
        page.get_by_text("Library").first.wait_for()
        before = _proc(pid)
        began = time.perf_counter()
        page.goto(f"{url}/interview?id={interview_id}&t=3600")
        page.locator(".or-para").first.wait_for()
        page.wait_for_function("() => { const m = document.querySelector('audio'); return m && m.readyState >= 1 }")
        opened = time.perf_counter() - began
        src = page.evaluate("() => document.querySelector('audio').currentSrc")
        page.wait_for_timeout(2000)  # what the player fetches once it is cued
        after = _proc(pid)
        browser.close()
    return {"open_s": round(opened, 2), "server_bytes_read_mb": round((after["rchar"] - before["rchar"]) / 2**20, 1),
            "server_peak_rss_mb": round(after["hwm_kb"] / 1024, 1),
            "server_rss_growth_mb": round((after["rss_kb"] - before["rss_kb"]) / 1024, 1),
            "player_src": src[:60]}


def reader(baseline_root: Path, hours: float) -> dict:
    folder = OUT / "perquery-reader"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    vtt = folder / "talk.vtt"
    vtt.write_text("WEBVTT\n\n" + "".join(f"{_stamp(60.0 * n)} --> {_stamp(60.0 * n + 50)}\nMinute {n} of the talk.\n\n"
                                          for n in range(int(hours * 60))))
    media = long_wav(folder / "talk.wav", hours)
    archive = folder / "archive"
    run = [sys.executable, "-m", "onrecord.ui", "--archive", str(archive)]
    subprocess.run([*run, "ingest", str(vtt)], cwd=baseline_root, check=True, capture_output=True)
    listed = json.loads(subprocess.run([*run, "list", "--json"], cwd=baseline_root, check=True,
                                       capture_output=True, text=True).stdout)
    interview_id = listed[0]["id"]
    attach = ("import dataclasses, sys; from onrecord.search.config import Settings; "
              "from onrecord.search.store import open_archive; "
              "a = open_archive(Settings(archive=sys.argv[1])); i = a.get(sys.argv[2]); "
              "a.commit(dataclasses.replace(i, media=sys.argv[3], duration=float(sys.argv[4])))")
    subprocess.run([sys.executable, "-c", attach, str(archive), interview_id, str(media), str(hours * 3600)],
                   cwd=baseline_root, check=True)
    before = open_reader(baseline_root, archive, interview_id, "before")
    subprocess.run([*run, "migrate"], cwd=ROOT, check=True, capture_output=True)
    after = open_reader(ROOT, archive, interview_id, "after")
    return {"media_mb": round(media.stat().st_size / 2**20, 1), "before": before, "after": after}


def _stamp(seconds: float) -> str:
    from onrecord.search.timefmt import format_timestamp

    return format_timestamp(seconds, always_hours=True)


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
    if "reader" in results:
        b, a = results["reader"]["before"], results["reader"]["after"]
        rows += [(f"reader ({results['reader']['media_mb']} MB media): {k.replace('_', ' ')}", b[k], a[k])
                 for k in ("open_s", "server_bytes_read_mb", "server_peak_rss_mb", "server_rss_growth_mb",
                           "player_src")]
    return ["metric | before | after", "--- | --- | ---", *(f"{m} | {b} | {a}" for m, b, a in rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--skip-searches", action="store_true")
    parser.add_argument("--skip-reader", action="store_true")
    parser.add_argument("--baseline-root", type=Path)
    parser.add_argument("--media-hours", type=float, default=3.0)
    args = parser.parse_args()
    configure_environment()
    OUT.mkdir(parents=True, exist_ok=True)
    results = {"pages": page_decode()}
    if not args.skip_searches:
        results["searches"] = searches(args.archive, args.queries)
    if not args.skip_reader:
        if args.baseline_root is None:
            sys.exit("--baseline-root DIR (a checkout of the baseline) is needed for the reader; or --skip-reader")
        results["reader"] = reader(args.baseline_root.resolve(), args.media_hours)
    (OUT / "bench_perquery.json").write_text(json.dumps(results, indent=2))
    print("\n".join(table(results)))


if __name__ == "__main__":
    main()
