"""Benchmark onrecord search: answer quality on a labelled question set, warm latency against bare Chroma,
cold-start time of the CLI, and the same latencies at 100,000 chunks.

1. Archive. --archive DIR (default benchmarks/out/corpus-archive) is used as it is when it holds anything;
   otherwise it is built with `onrecord --archive DIR ingest CORPUS --json` (CORPUS: --corpus, default
   ../shared/data/podcasts/talkpython beside the repository: all 509 transcripts). --corpus-limit N ingests
   only the episodes the question set needs plus the first N others (through a temporary folder of symlinks),
   into benchmarks/out/corpus-archive-limitN by default, so a quick development run never passes for the full
   corpus. Episode file -> interview id comes from
   `onrecord list --json` (an interview's "source" ends with its file name).

2. Quality. benchmarks/data/search_eval.jsonl holds 70 questions, each with the episode and the [start, end]
   seconds that answer it. In one warm process (a Searcher over the archive, built the way the CLI builds it),
   every question is searched with limit=10 in keyword, semantic and hybrid mode. A hit is correct when its
   interview is the episode and its [start, end] overlaps the answer's window widened by SLACK_S seconds each
   side (caption cues and narrowed hits round differently). Reported: Success@1, Success@5, MRR@10; questions
   whose episode is not in the archive are skipped and counted.

3. Warm latency, in that same process after one warm-up query per mode (the keyword one loads or builds the
   BM25 index): the 70 questions x REPEATS, each timed in hybrid, keyword and semantic mode and against a
   baseline, interleaved: embed the query (searcher.embedder.embed) + a bare Chroma
   `collection.query(query_embeddings=[v], n_results=10)` on the same chunks collection (the collection handle
   is fetched once, outside the timing). Reported: p50 / p95 / mean, hybrid / baseline ratios, max RSS.

4. Cold start: `onrecord --archive DIR search "<question 1>" --limit 10 --json` as fresh processes, timed from
   process start to exit: first the first-ever one, after deleting the keyword-index cache (so it builds
   the BM25 index), then COLD_RUNS more (median and min). These run before the warm process, so that it loads
   the keyword index from the cache, as a long-lived reader usually would, and its max RSS is not the build's.

5. 100k chunks (skip with --skip-100k). The archive is copied to benchmarks/out/archive-100k (once; again only
   when the copy is missing, came from another archive or holds fewer chunks), and inside the copy the corpus
   is duplicated under new interview ids by bench_scale.py's grow (chunks with their embeddings, pages, then the
   interview record, written last) until it holds >= 100,000 chunks. Then steps 3 and 4 run on it, in a fresh
   process. Targets: hybrid p50 <= 50 ms, p95 <= 150 ms at 100k; onrecord / baseline <= 3x.

Every process runs with XDG_CACHE_HOME=benchmarks/out/cache (the embedder's one-time ONNX export and the
keyword-index cache live there) and without ONRECORD_* variables. Run from the repository root, venv active:
    python benchmarks/bench_search.py [--archive DIR] [--skip-100k] [--corpus-limit N]
The report is printed and written as JSON to benchmarks/out/bench_search.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

from harness import (
    CACHE, CORPUS_ARCHIVE, DEFAULT_CORPUS, OUT, ROOT, SLACK_S, build_corpus_archive, configure_environment,
    episode_ids, first_correct_rank, has_content, last_json, list_interviews, load_average, onrecord, peak_rss_mib,
    print_table, questions, rank_metrics, require_dir, run, searcher, summary_ms, timed, verdict, warm_up,
    write_report)

KEYWORD_CACHE = CACHE / "onrecord" / "keyword"
BIG_ARCHIVE = OUT / "archive-100k"
BIG_MARKER = "bench-source.json"  # in the 100k copy: which archive it was copied from

LIMIT = 10
MODES = ("keyword", "semantic", "hybrid")
REPEATS = 3
COLD_RUNS = 5
TARGET_CHUNKS = 100_000
TARGET_P50_MS = 50.0
TARGET_P95_MS = 150.0
TARGET_RATIO = 3.0


# ---------------------------------------------------------------- 2 + 3. the warm process (a worker)

def warm_measurements(archive: Path, asked: list[dict], episodes: dict[str, str] | None) -> dict:
    """Runs in a fresh worker process (see run_worker): warm-up, quality when `episodes` is given, latency."""
    reader = searcher(archive=archive)
    result = {"warmup_ms": warm_up(reader, asked[0]["question"], LIMIT),
              "interviews": len(reader.interviews()), "chunks": reader.archive.chunks().count()}
    if episodes is not None:
        result["quality"] = quality(reader, asked, episodes)
    result["latency"] = latency(reader, reader.archive.chunks(), [q["question"] for q in asked])
    result["max_rss_mib"] = peak_rss_mib()
    return result


def quality(reader, asked: list[dict], episodes: dict[str, str]) -> dict:
    scored = [q for q in asked if q["episode"] in episodes]
    ranks = {mode: [first_correct_rank(reader.search(q["question"], limit=LIMIT, mode=mode),
                                       episodes[q["episode"]], q) for q in scored] for mode in MODES}
    return {"questions": len(asked), "scored": len(scored), "skipped": len(asked) - len(scored),
            "skipped_ids": [q["id"] for q in asked if q["episode"] not in episodes],
            "metrics": {mode: rank_metrics(rs) for mode, rs in ranks.items()},
            "ranks": {q["id"]: {m: ranks[m][k] for m in MODES} for k, q in enumerate(scored)}}


def latency(reader, collection, asked: list[str]) -> dict:
    """Milliseconds per query, the kinds interleaved so that drift in machine load hits them alike."""
    def baseline(question: str) -> None:
        vector = reader.embedder.embed([question])[0]
        collection.query(query_embeddings=[vector], n_results=LIMIT)

    kinds = {mode: (lambda q, m=mode: reader.search(q, limit=LIMIT, mode=m))
             for mode in ("hybrid", "keyword", "semantic")}
    kinds["baseline"] = baseline
    samples: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(REPEATS):
        for question in asked:
            for name, call in kinds.items():
                samples[name].append(timed(call, question)[1] * 1000)
    summary = {name: summary_ms(values) for name, values in samples.items()}
    summary["ratio"] = {stat: round(summary["hybrid"][stat] / summary["baseline"][stat], 2) for stat in ("p50", "p95")}
    summary["queries"] = len(asked) * REPEATS
    return summary


def run_worker(archive: Path, asked: list[dict], episodes: dict[str, str] | None) -> dict:
    """warm_measurements in a fresh process: this script with --worker, the spec on stdin, JSON back."""
    spec = json.dumps({"archive": str(archive), "questions": asked, "episodes": episodes})
    return last_json(run([sys.executable, str(Path(__file__).resolve()), "--worker"], stdin=spec)[1].stdout)


def worker_main() -> None:
    spec = json.loads(sys.stdin.read())
    print(json.dumps(warm_measurements(Path(spec["archive"]), spec["questions"], spec["episodes"])))


# ---------------------------------------------------------------- 4. cold start

def cold_start(archive: Path, question: str) -> dict:
    """The first-ever search (no keyword cache), then COLD_RUNS more; seconds from process start to exit."""
    cmd = onrecord("--archive", str(archive), "search", question, "--limit", str(LIMIT), "--json")
    shutil.rmtree(KEYWORD_CACHE, ignore_errors=True)
    first, proc = run(cmd)
    hits = len(json.loads(proc.stdout))
    runs = [run(cmd)[0] for _ in range(COLD_RUNS)]
    return {"first_ever_s": round(first, 2), "median_s": round(statistics.median(runs), 2),
            "min_s": round(min(runs), 2), "runs_s": [round(s, 2) for s in runs], "hits": hits}


# ---------------------------------------------------------------- 5. the 100k-chunk archive

def open_store(folder: Path):
    from onrecord.search.config import Settings
    from onrecord.search.store import open_archive

    return open_archive(Settings(archive=folder))


def close_store() -> None:
    """Drop this process's embedded Chroma, so a worker opens the folder fresh (and no two clients linger)."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def chunk_count(folder: Path) -> int:
    try:
        return open_store(folder).chunks().count()
    finally:
        close_store()


def prepare_copy(source: Path, source_chunks: int) -> bool:
    """Copy the archive to BIG_ARCHIVE unless a copy of this archive, with at least its chunks, is there."""
    marker = BIG_ARCHIVE / BIG_MARKER
    if marker.exists() and json.loads(marker.read_text()).get("source") == str(source.resolve()) \
            and chunk_count(BIG_ARCHIVE) >= source_chunks:
        return False
    shutil.rmtree(BIG_ARCHIVE, ignore_errors=True)
    shutil.copytree(source, BIG_ARCHIVE)
    marker.write_text(json.dumps({"source": str(source.resolve()), "source_chunks": source_chunks}))
    return True


def build_big_archive(source: Path) -> dict:
    """The copy, grown in place by copies of its interviews (bench_scale.py's grow) to TARGET_CHUNKS."""
    from bench_scale import grow

    copied, copy_seconds = timed(prepare_copy, source, chunk_count(source))
    store = open_store(BIG_ARCHIVE)
    try:
        _, grow_seconds = timed(grow, store, store, TARGET_CHUNKS, log=lambda line: print(f"  {line}", flush=True))
        chunks, interviews = store.chunks().count(), len(store.interviews.get(include=[])["ids"])
    finally:
        close_store()
    return {"folder": str(BIG_ARCHIVE), "copied": copied, "copy_seconds": round(copy_seconds, 1),
            "duplicate_seconds": round(grow_seconds, 1), "chunks": chunks, "interviews": interviews}


# ---------------------------------------------------------------- report

def print_quality(q: dict) -> None:
    rows = [[mode, f"{m['success_at_1']:.3f}", f"{m['success_at_5']:.3f}", f"{m['mrr_at_10']:.3f}"]
            for mode, m in q["metrics"].items()]
    print_table(["mode", "Success@1", "Success@5", "MRR@10"], rows,
                f"Quality: {q['questions']} questions, {q['scored']} scored, {q['skipped']} skipped "
                f"(episode not in the archive)")
    print(f"  A hit is correct when its interview is the episode and its [start, end] overlaps the answer's "
          f"window widened by {SLACK_S:g} s each side (cue rounding).")
    if q["skipped_ids"]:
        print(f"  skipped: {', '.join(q['skipped_ids'])}")


def print_latency(title: str, w: dict) -> None:
    lat = w["latency"]
    names = [("hybrid", "hybrid (onrecord)"), ("keyword", "keyword (onrecord)"),
             ("semantic", "semantic (onrecord)"), ("baseline", "baseline: embed + Chroma query")]
    rows = [[label, f"{lat[k]['p50']:.1f}", f"{lat[k]['p95']:.1f}", f"{lat[k]['mean']:.1f}", ""] for k, label in names]
    rows[0][4] = (f"p50 <= {TARGET_P50_MS:g}: {verdict(lat['hybrid']['p50'] <= TARGET_P50_MS)}, "
                  f"p95 <= {TARGET_P95_MS:g}: {verdict(lat['hybrid']['p95'] <= TARGET_P95_MS)}")
    rows.append(["ratio hybrid / baseline", f"{lat['ratio']['p50']:.2f}x", f"{lat['ratio']['p95']:.2f}x", "",
                 f"<= {TARGET_RATIO:g}x: {verdict(max(lat['ratio'].values()) <= TARGET_RATIO)}"])
    print_table(["query", "p50", "p95", "mean", "target (hybrid, at 100k)"], rows,
                f"{title}: {w['interviews']} interviews, {w['chunks']} chunks, {lat['queries']} queries per row (ms)")
    warm = ", ".join(f"{mode} {ms:.0f}" for mode, ms in w["warmup_ms"].items())
    print(f"  warm-up, first query per mode (ms, not in the rows): {warm}")
    print(f"  max RSS of the warm process after the run: {w['max_rss_mib']:.0f} MiB")


def print_cold(title: str, c: dict) -> None:
    print_table(["onrecord search --limit 10 --json", "median s", "min s", "runs"], [
        ["first-ever (no keyword cache: builds BM25)", f"{c['first_ever_s']:.2f}", "", "1"],
        ["warm caches", f"{c['median_s']:.2f}", f"{c['min_s']:.2f}", str(len(c["runs_s"]))]], title)


def print_report(r: dict) -> None:
    a = r["archive"]
    print(f"\nonrecord search benchmark - {r['cpu_count']} CPUs, load average {r['load_before']} before, "
          f"{r['load_after']} after")
    how = (f"built: {a['added']} added, {a['failed']} failed of {a['files']} files in {a['ingest_seconds']:.0f} s"
           if a["built"] else "reused")
    print(f"archive: {a['folder']} ({a['interviews']} interviews; {how})")
    print_quality(r["corpus"]["quality"])
    print_latency("Warm latency, corpus archive", r["corpus"])
    print_cold("Cold start, corpus archive: fresh processes, start to exit", r["corpus_cold"])
    if "big" in r:
        b = r["big"]
        print(f"\n100k archive: {b['folder']} ({'copied' if b['copied'] else 'existing copy'}, "
              f"{b['copy_seconds']:.0f} s; duplication {b['duplicate_seconds']:.0f} s)")
        print_latency("Warm latency, 100k archive (fresh process)", r["big_warm"])
        print_cold("Cold start, 100k archive: fresh processes, start to exit", r["big_cold"])


# ---------------------------------------------------------------- main

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, help=f"archive folder (default {CORPUS_ARCHIVE.relative_to(ROOT)})")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="the talkpython WebVTT folder to build the archive from (default: the shared folder's)")
    parser.add_argument("--skip-100k", action="store_true", help="skip the 100k-chunk part")
    parser.add_argument("--corpus-limit", type=int, metavar="N",
                        help="build the archive from the question set's episodes plus the first N others")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def corpus_part(archive: Path, args: argparse.Namespace, asked: list[dict]) -> dict:
    """The archive (built when empty), its cold starts, then quality and latency in a warm process."""
    report: dict = {}
    if has_content(archive):
        report["archive"] = {"built": False}
    else:
        corpus = require_dir(args.corpus, "the podcast corpus", "--corpus")
        report["archive"] = build_corpus_archive(archive, corpus, args.corpus_limit)
    interviews = list_interviews(archive)
    report["archive"] |= {"folder": str(archive), "interviews": len(interviews)}
    print("cold starts on the corpus archive ...", flush=True)
    report["corpus_cold"] = cold_start(archive, asked[0]["question"])
    print("warm process on the corpus archive: quality and latency ...", flush=True)
    report["corpus"] = run_worker(archive, asked, episode_ids(interviews))
    return report


def big_part(archive: Path, asked: list[dict]) -> dict:
    print(f"100k archive: copying and growing into {BIG_ARCHIVE} ...", flush=True)
    report = {"big": build_big_archive(archive)}
    print("cold starts on the 100k archive ...", flush=True)
    report["big_cold"] = cold_start(BIG_ARCHIVE, asked[0]["question"])
    print("warm process on the 100k archive ...", flush=True)
    report["big_warm"] = run_worker(BIG_ARCHIVE, asked, None)
    return report


def main() -> None:
    args = parse_args()
    configure_environment()
    if args.worker:
        return worker_main()
    asked = questions()
    default = CORPUS_ARCHIVE if args.corpus_limit is None else OUT / f"corpus-archive-limit{args.corpus_limit}"
    archive = (args.archive or default).resolve()
    report: dict = {"cpu_count": os.cpu_count(), "load_before": load_average()}
    report |= corpus_part(archive, args, asked)
    if not args.skip_100k:
        report |= big_part(archive, asked)
    report["load_after"] = load_average()
    print_report(report)
    print(f"\nwritten: {write_report('bench_search', report)}")


if __name__ == "__main__":
    main()
