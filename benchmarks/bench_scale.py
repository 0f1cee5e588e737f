"""Benchmark onrecord at scale: the first search after another process commits, and a million chunks.

Archives come from benchmarks/scale_archive.py (copies of the 509-episode corpus archive, vectors and all) on a
`chroma run` server: one database grown to ~100k chunks, one to ~1M.

1. Commit vs unchanged (--archive URL, ~100k chunks). Every measurement is a new process (`--probe`) that opens
   the archive, loads the embedder, then times its first hybrid search: that search loads the keyword index from
   this machine's cache, or brings it up to date. First one probe builds the index (cold, reported apart), then
   ROUNDS times: a probe on the unchanged archive, another process commits one interview (a copy under a new id),
   a probe after that commit. With --baseline DIR (a checkout of an older onrecord, e.g. `git worktree add
   /tmp/base 486bbe3`), the same probes run with that code side by side, on its own cache. Reported: medians,
   after-commit / unchanged (target <= 1.5 at 100k), and the probes' memory (RSS; the index's part is the
   difference made by loading it, target <= 1 GB).
2. A million chunks (--big URL): the keyword index's cold build; cold start, `onrecord search` as a fresh process
   from start to exit (median of COLD_RUNS, index cached); warm hybrid latency over the 70 labelled questions in
   one process (p50 / p95); that reader's peak RSS; and one commit vs unchanged round.

    python benchmarks/bench_scale.py --archive http://127.0.0.1:8765 [--baseline /tmp/base] [--big URL]
Prints the report and writes benchmarks/out/bench_scale.json; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, ROOT, load_jsonl, onrecord, percentile  # noqa: E402

ROUNDS = 3
COLD_RUNS = 3
QUERY = "how do you handle database migrations in production"
RATIO_TARGET, INDEX_MB_TARGET = 1.5, 1024


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def probe(url: str, cache: Path, query: str) -> dict:
    """In this (new) process: the first hybrid search, timed, and what loading the index cost in memory."""
    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.retrieval.searcher import Searcher
    from onrecord.search.store import open_archive

    archive = open_archive(Settings(archive=url))
    searcher = Searcher(archive, embedder_for(Settings(), archive.embed_model), cache)
    searcher.embedder.embed(["warm up"])
    searcher.interviews()
    before = rss_mb()
    start = time.perf_counter()
    hits = searcher.search(query, limit=10)
    took = time.perf_counter() - start
    index = searcher.keyword_index()
    size = getattr(index, "count", None) or len(getattr(index, "chunk_ids", []))
    return {"search_s": round(took, 3), "hits": len(hits), "chunks": size, "index_mb": round(rss_mb() - before),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def run_probe(url: str, cache: Path, code: Path = ROOT) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run([sys.executable, __file__, "--probe", url, "--cache", str(cache)], env=env,
                          capture_output=True, text=True, cwd=code, timeout=3600)
    if done.returncode:
        raise SystemExit(f"probe failed ({code}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def commit_one(url: str, number: int) -> None:
    """Another process commits an interview: a copy of a corpus interview under a new id."""
    script = ("import sys; sys.path.insert(0, 'benchmarks'); import scale_archive as s; "
              "from onrecord.search.config import Settings; from onrecord.search.store import open_archive; "
              f"a = open_archive(Settings(archive={url!r})); i = sorted(a.list(), key=lambda x: x.id)[{number}]; "
              f"s._copy_group(a, a, [i], {1000 + number}); a._bump_revision()")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT)


def commit_vs_unchanged(url: str, name: str, baseline: Path | None, first_commit: int,
                        built: Path | None = None) -> dict:
    """`built`: a cache whose index is up to date already (the 1M figures'), so its "cold" probe is warm."""
    codes = {"now": ROOT} | ({"baseline": baseline} if baseline else {})
    caches = {label: OUT / "cache-scale" / name / label for label in codes}
    for cache in caches.values():
        shutil.rmtree(cache, ignore_errors=True)
    if built is not None:
        caches["now"] = built
    report = {label: {"cold": run_probe(url, caches[label], code), "unchanged": [], "after_commit": []}
              for label, code in codes.items()}
    for n in range(ROUNDS):
        for label, code in codes.items():
            report[label]["unchanged"].append(run_probe(url, caches[label], code))
        commit_one(url, first_commit + n)
        for label, code in codes.items():
            report[label]["after_commit"].append(run_probe(url, caches[label], code))
    for r in report.values():
        unchanged = statistics.median(p["search_s"] for p in r["unchanged"])
        after = statistics.median(p["search_s"] for p in r["after_commit"])
        r["summary"] = {"unchanged_s": unchanged, "after_commit_s": after, "ratio": round(after / unchanged, 2),
                        "cold_s": r["cold"]["search_s"], "chunks": r["cold"]["chunks"],
                        "index_mb": max(p["index_mb"] for p in r["unchanged"])}
    return report


def big_figures(url: str) -> dict:
    """The cold build happens once, in the cache the CLI runs and the warm reader then share (a build at 1M
    takes minutes)."""
    xdg = OUT / "cache-scale" / "big" / "xdg"
    cache = xdg / "onrecord"
    shutil.rmtree(xdg, ignore_errors=True)
    cold = run_probe(url, cache)
    env = {**os.environ, "XDG_CACHE_HOME": str(xdg)}
    subprocess.run(onrecord("--archive", url, "search", QUERY, "--json"), env=env, capture_output=True,
                   check=True)  # exports the embedder into this cache; the keyword index is there already
    starts = []
    for _ in range(COLD_RUNS):
        start = time.perf_counter()
        subprocess.run(onrecord("--archive", url, "search", QUERY, "--json"), env=env, capture_output=True,
                       check=True)
        starts.append(time.perf_counter() - start)
    warm = subprocess.run([sys.executable, __file__, "--warm", url, "--cache", str(cache)], capture_output=True,
                          text=True, check=True, cwd=ROOT)
    return {"cold_index": cold, "cold_start_s": round(statistics.median(starts), 2),
            "warm": json.loads(warm.stdout.strip().splitlines()[-1])}


def warm(url: str, cache: Path) -> dict:
    """In this process: the labelled questions, hybrid, after one warm-up search."""
    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.retrieval.searcher import Searcher
    from onrecord.search.store import open_archive

    archive = open_archive(Settings(archive=url))
    searcher = Searcher(archive, embedder_for(Settings(), archive.embed_model), cache)
    searcher.search(QUERY)
    times = []
    for q in load_jsonl(ROOT / "benchmarks" / "data" / "search_eval.jsonl"):
        start = time.perf_counter()
        searcher.search(q["question"], limit=10)
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": round(percentile(times, 50)), "p95_ms": round(percentile(times, 95)),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "chunks": searcher.keyword_index().count}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", help="a Chroma server URL (database) of ~100k chunks")
    parser.add_argument("--big", help="a Chroma server URL (database) of ~1M chunks")
    parser.add_argument("--baseline", type=Path, help="a checkout of an older onrecord to run side by side")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--warm", help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe, args.cache, QUERY)))
        return 0
    if args.warm:
        print(json.dumps(warm(args.warm, args.cache)))
        return 0
    report, missed = {}, []
    if args.archive:
        report["commit"] = commit_vs_unchanged(args.archive, "100k", args.baseline, 0)
        for label, r in report["commit"].items():
            s = r["summary"]
            print(f"{label:>8}: {s['chunks']:,} chunks; first search, unchanged {s['unchanged_s']:.2f} s, after "
                  f"another process's commit {s['after_commit_s']:.2f} s ({s['ratio']}x); cold build "
                  f"{s['cold_s']:.1f} s; index memory {s['index_mb']} MB")
        now = report["commit"]["now"]["summary"]
        if now["ratio"] > RATIO_TARGET or now["index_mb"] > INDEX_MB_TARGET:
            missed.append("commit vs unchanged")
    if args.big:
        report["big"] = big_figures(args.big)
        report["big_commit"] = commit_vs_unchanged(args.big, "1m", None, 10, OUT / "cache-scale" / "big" / "xdg"
                                                   / "onrecord")
        b, c = report["big"], report["big_commit"]["now"]["summary"]
        print(f"1M: {b['warm']['chunks']:,} chunks; keyword index cold build {b['cold_index']['search_s']:.0f} s; "
              f"cold start (search as a new process) {b['cold_start_s']} s; warm hybrid p50 {b['warm']['p50_ms']} "
              f"ms, p95 {b['warm']['p95_ms']} ms; reader peak RSS {b['warm']['peak_rss_mb']} MB; first search "
              f"unchanged {c['unchanged_s']:.2f} s, after a commit {c['after_commit_s']:.2f} s ({c['ratio']}x)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_scale.json").write_text(json.dumps(report, indent=2))
    if missed:
        print("missed: " + ", ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
