"""Benchmark onrecord search under load: many parallel searches complete with no error; the latency spread.

1. Targets. The embedded archive --archive DIR (default benchmarks/out/corpus-archive, used read-only: it is
   only searched), then, unless --skip-server, the same archive served by a real Chroma server: the folder is
   copied once to benchmarks/out/load-server-archive (again only when the copy is missing or came from another
   archive), `chroma run --path COPY --host 127.0.0.1 --port PORT` is started on a free port (8799 when free:
   the keyword-index cache is keyed by the server's URL, so runs then share one cache entry) with its log in
   benchmarks/out/load-server.log; once it answers its heartbeat, the workers reach it through onrecord's
   chroma_url setting. The server is stopped at the end, also on Ctrl-C or an exception.

2. Queries. The 70 questions of benchmarks/data/search_eval.jsonl ("question" field), as one endless stream:
   query k is question k mod 70 in mode MODES[k mod 3] (70 and 3 share no factor, so every 210 queries hold
   every question in every mode once). Worker w runs queries w*Q .. w*Q+Q-1 (Q = --queries, default 200), with
   limit=10, so the workers start at different questions and, between them, cover the whole stream.

3. Workers. Each worker is its own OS process (multiprocessing, spawn), with a Searcher built the way the CLI
   builds it (harness.searcher: Settings -> open_archive -> embedder_for -> Searcher, default cache_dir).
   It warms up with one query per mode (keyword first: it loads or builds the BM25 index), then waits on a
   barrier with every other worker and the parent, so the measured queries of all workers start together.
   Every query is timed alone (time.perf_counter); any exception is an error (counted, the first few kept
   with their tracebacks) and is left out of the latencies. A worker that dies loses its unrun queries,
   which count as errors too. Each query's hits are kept as (interview, start, end), to compare runs.

4. Runs, per target: first the sequential baseline, ONE worker running the same W x Q queries one after the
   other (it also leaves the keyword-index cache warm, as a long-lived reader would), then W workers
   (--workers, default 8) at once. Reported: queries, errors, wall time (first measured query started to last
   one finished, across processes), throughput, latency p50 / p90 / p95 / p99 / max per mode and overall,
   concurrent / sequential ratios of p50 and p95, queries whose hits (interview, start, end, in order) differ
   from the sequential run's (the first few with both hit lists), the
   spread of the workers' start times, and the largest worker's max RSS. On a machine with fewer cores than
   workers the concurrent run oversubscribes the CPU, and the report says so: its latencies then include
   waiting for a core.

Every process runs with XDG_CACHE_HOME=benchmarks/out/cache and without ONRECORD_* variables. Run from the
repository root, venv active:
    python benchmarks/bench_load.py [--archive DIR] [--workers 8] [--queries 200] [--skip-server]
The report is printed and written as JSON to benchmarks/out/bench_load.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue
import shutil
import statistics
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from harness import (
    CORPUS_ARCHIVE, OUT, ROOT, WARMUP_ORDER, chroma_server, configure_environment, load_average, peak_rss_mib,
    percentile, print_table, questions, require_archive, searcher, warm_up, write_report)

SERVER_COPY = OUT / "load-server-archive"
SERVER_LOG = OUT / "load-server.log"
COPY_MARKER = "bench-load-source.json"  # in the server copy: which archive it was copied from

MODES = ("hybrid", "keyword", "semantic")
LIMIT = 10
PERCENTILES = (50, 90, 95, 99)
ERROR_EXAMPLES = 5
BARRIER_TIMEOUT_S = 900.0  # every worker warmed up (imports, model, HNSW and BM25 loads) on a busy machine
RUN_TIMEOUT_S = 3600.0  # a whole run, from the barrier on
# The keyword-index cache is keyed by the archive's location, for a server its URL: one port, one cache entry.
PREFERRED_PORT = 8799


@dataclass(frozen=True)
class Target:
    name: str  # "embedded" or "server"
    archive: str  # the folder (for the server: the copy it serves)
    chroma_url: str | None = None


@dataclass(frozen=True)
class WorkerSpec:
    target: Target
    worker: int
    first: int  # index of the worker's first query in the stream
    count: int
    questions: list[str]


# ---------------------------------------------------------------- the worker (its own process)

def query_at(k: int, questions: list[str]) -> tuple[str, str]:
    """Query k of the stream: (question, mode)."""
    return questions[k % len(questions)], MODES[k % len(MODES)]


def build_searcher(target: Target):
    """The way the CLI builds it, over the folder or through onrecord's chroma_url setting."""
    where = {"chroma_url": target.chroma_url} if target.chroma_url else {"archive": target.archive}
    return searcher(**where)


def signature(hits) -> str:
    """What came back, in order, in a few characters per hit: enough to compare runs and show a difference."""
    return " ".join(f"{h.interview_id[:8]}@{h.start:.2f}-{h.end:.2f}" for h in hits)


def timed_query(reader, question: str, mode: str) -> tuple[float, str | None, str | None, str | None]:
    """(ms, hits signature, error line, traceback); never raises an Exception."""
    start = time.perf_counter()
    try:
        hits = reader.search(question, limit=LIMIT, mode=mode)
    except Exception as exc:  # noqa: BLE001 - every exception is what this benchmark counts
        ms = (time.perf_counter() - start) * 1000
        return ms, None, f"{type(exc).__name__}: {exc}", traceback.format_exc()
    return (time.perf_counter() - start) * 1000, signature(hits), None, None


def measure(reader, spec: WorkerSpec) -> dict:
    samples: list[list] = []  # [k, mode, ms, signature or None, error or None]
    tracebacks: list[str] = []
    started = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process on the machine
    for k in range(spec.first, spec.first + spec.count):
        question, mode = query_at(k, spec.questions)
        ms, sig, error, trace = timed_query(reader, question, mode)
        samples.append([k, mode, round(ms, 2), sig, error])
        if trace and len(tracebacks) < ERROR_EXAMPLES:
            tracebacks.append(f"worker {spec.worker}, query {k} ({mode}): {question!r}\n{trace}")
    return {"started": started, "finished": time.monotonic(), "samples": samples, "tracebacks": tracebacks}


def worker_main(spec: WorkerSpec, barrier, results) -> None:
    try:
        work(spec, barrier, results)
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches the whole process group: the parent reports it, once


def work(spec: WorkerSpec, barrier, results) -> None:
    """Set up and warm up, wait for everyone, run the queries, post one result dict."""
    result: dict = {"worker": spec.worker}
    try:
        reader = build_searcher(spec.target)
        result["warmup_ms"] = warm_up(reader, spec.questions[spec.first % len(spec.questions)], LIMIT)
        result["interviews"] = len(reader.interviews())
        result["chunks"] = reader.archive.chunks().count()
    except Exception:  # noqa: BLE001 - reported to the parent, which stops the run
        barrier.abort()
        results.put(result | {"setup_error": traceback.format_exc()})
        return
    barrier.wait(timeout=BARRIER_TIMEOUT_S)
    result |= measure(reader, spec)
    result["max_rss_mib"] = peak_rss_mib()
    results.put(result)


# ---------------------------------------------------------------- one run: N workers at once

def start_workers(target: Target, workers: int, per_worker: int, questions: list[str]):
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(workers + 1), ctx.Queue()
    procs = [ctx.Process(target=worker_main, name=f"load-worker-{w}", daemon=True,
                         args=(WorkerSpec(target, w, w * per_worker, per_worker, questions), barrier, results))
             for w in range(workers)]
    for proc in procs:
        proc.start()
    return procs, barrier, results


def collect(procs, results, deadline: float) -> tuple[list[dict], list[str]]:
    """Every worker's result; a worker that exited without one is reported as dead."""
    got: dict[int, dict] = {}
    dead: list[str] = []
    while len(got) + len(dead) < len(procs) and time.monotonic() < deadline:
        try:
            item = results.get(timeout=1.0)
            got[item["worker"]] = item
        except queue.Empty:
            dead = [f"worker {w} exited with code {p.exitcode} without a result"
                    for w, p in enumerate(procs) if w not in got and p.exitcode is not None]
    if len(got) + len(dead) < len(procs):
        dead.append(f"timed out after {RUN_TIMEOUT_S:.0f} s waiting for {len(procs) - len(got)} worker(s)")
    return [got[w] for w in sorted(got)], dead


def stop_workers(procs) -> None:
    for proc in procs:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=10)


def run_workers(target: Target, workers: int, per_worker: int, questions: list[str]) -> dict:
    procs, barrier, results = start_workers(target, workers, per_worker, questions)
    try:
        try:
            barrier.wait(timeout=BARRIER_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - BrokenBarrierError: a worker failed to set up (or timed out)
            got, dead = collect(procs, results, time.monotonic() + 30)
            return {"setup_errors": [r["setup_error"] for r in got if "setup_error" in r] + dead,
                    "workers": workers, "queries": workers * per_worker}
        got, dead = collect(procs, results, time.monotonic() + RUN_TIMEOUT_S)
    finally:
        stop_workers(procs)
    if not got:  # every worker died after the barrier: nothing to summarize
        return {"setup_errors": dead, "workers": workers, "queries": workers * per_worker}
    return summarize_run(got, dead, workers, per_worker)


# ---------------------------------------------------------------- summaries

def latency_stats(values_ms: list[float]) -> dict:
    if not values_ms:
        return {"n": 0}
    stats: dict = {"n": len(values_ms)}
    stats |= {f"p{q}": round(percentile(values_ms, q), 1) for q in PERCENTILES}
    return stats | {"max": round(max(values_ms), 1), "mean": round(statistics.fmean(values_ms), 1)}


def latencies(samples: list[list]) -> dict:
    ok = [s for s in samples if s[4] is None]
    by_mode = {mode: latency_stats([s[2] for s in ok if s[1] == mode]) for mode in MODES}
    return by_mode | {"all": latency_stats([s[2] for s in ok])}


def error_summary(samples: list[list], lost: int, dead: list[str], tracebacks: list[str]) -> dict:
    failed = [s for s in samples if s[4] is not None]
    messages = [f"query {s[0]} ({s[1]}): {s[4]}" for s in failed[:ERROR_EXAMPLES]]
    return {"count": len(failed) + lost, "failed_queries": len(failed), "lost_queries": lost,
            "by_mode": {mode: sum(s[1] == mode for s in failed) for mode in MODES},
            "examples": messages + dead, "tracebacks": tracebacks[:ERROR_EXAMPLES]}


def summarize_run(got: list[dict], dead: list[str], workers: int, per_worker: int) -> dict:
    samples = [s for r in got for s in r["samples"]]
    lost = workers * per_worker - len(samples)
    first, last = min(r["started"] for r in got), max(r["finished"] for r in got)
    wall = last - first
    return {"workers": workers, "queries": workers * per_worker, "completed": len(samples),
            "errors": error_summary(samples, lost, dead, [t for r in got for t in r["tracebacks"]]),
            "wall_s": round(wall, 2), "throughput_qps": round(len(samples) / wall, 1) if wall else None,
            "start_spread_ms": round((max(r["started"] for r in got) - first) * 1000, 1),
            "latency_ms": latencies(samples),
            "signatures": {s[0]: s[3] for s in samples if s[3] is not None},
            "warmup_ms_max": {m: max(r["warmup_ms"][m] for r in got) for m in WARMUP_ORDER},
            "max_rss_mib": max(r["max_rss_mib"] for r in got),
            "interviews": got[0]["interviews"], "chunks": got[0]["chunks"]}


def ratios(concurrent: dict, sequential: dict) -> dict:
    """Concurrent / sequential p50 and p95, per mode and overall."""
    out = {}
    for key, conc in concurrent["latency_ms"].items():
        seq = sequential["latency_ms"][key]
        if conc.get("n") and seq.get("n"):
            out[key] = {stat: round(conc[stat] / seq[stat], 2) for stat in ("p50", "p95")}
    return out


def differences(concurrent: dict, sequential: dict, questions: list[str]) -> dict:
    """Queries whose hits differ between the two runs, and how many came back empty (same in both)."""
    conc, seq = concurrent["signatures"], sequential["signatures"]
    differ = sorted(k for k, sig in conc.items() if k in seq and seq[k] != sig)
    examples = [{"query": k, "mode": query_at(k, questions)[1], "question": query_at(k, questions)[0],
                 "concurrent": conc[k], "sequential": seq[k]} for k in differ[:ERROR_EXAMPLES]]
    return {"compared": sum(k in seq for k in conc), "differ": len(differ), "differ_queries": differ[:20],
            "differ_examples": examples,
            "empty_concurrent": sum(not sig for sig in conc.values()),
            "empty_sequential": sum(not sig for sig in seq.values())}


# ---------------------------------------------------------------- one target: sequential, then concurrent

def bench_target(target: Target, workers: int, per_worker: int, questions: list[str]) -> dict:
    total = workers * per_worker
    print(f"[{target.name}] sequential baseline: 1 worker x {total} queries ...", flush=True)
    sequential = run_workers(target, 1, total, questions)
    print(f"[{target.name}] concurrent: {workers} workers x {per_worker} queries ...", flush=True)
    concurrent = run_workers(target, workers, per_worker, questions)
    result = {"target": asdict(target), "sequential": sequential, "concurrent": concurrent}
    if "setup_errors" not in sequential and "setup_errors" not in concurrent:
        result["ratio"] = ratios(concurrent, sequential)
        result["results"] = differences(concurrent, sequential, questions)
    for run in (sequential, concurrent):
        run.pop("signatures", None)  # compared; too long for the report
    return result


# ---------------------------------------------------------------- the Chroma server

def prepare_server_copy(source: Path) -> bool:
    """Copy the archive to SERVER_COPY unless a copy of this archive is already there."""
    marker = SERVER_COPY / COPY_MARKER
    if marker.exists() and json.loads(marker.read_text()).get("source") == str(source):
        return False
    shutil.rmtree(SERVER_COPY, ignore_errors=True)
    shutil.copytree(source, SERVER_COPY)
    marker.write_text(json.dumps({"source": str(source)}))
    return True


def bench_server(archive: Path, workers: int, per_worker: int, questions: list[str]) -> dict:
    print(f"[server] copying {archive} to {SERVER_COPY} (once) ...", flush=True)
    start = time.monotonic()
    copied = prepare_server_copy(archive)
    copy_s = time.monotonic() - start
    with chroma_server(SERVER_COPY, SERVER_LOG, PREFERRED_PORT) as (url, ready_s):
        print(f"[server] chroma run at {url}, heartbeat after {ready_s:.1f} s", flush=True)
        result = bench_target(Target("server", str(SERVER_COPY), url), workers, per_worker, questions)
    return result | {"server": {"url": url, "copied": copied, "copy_s": round(copy_s, 1),
                                "heartbeat_s": round(ready_s, 1), "log": str(SERVER_LOG)}}


# ---------------------------------------------------------------- report

def latency_row(key: str, conc: dict, seq: dict, ratio: dict) -> list[str]:
    if not conc.get("n"):
        return [key, "0"] + ["-"] * 10
    cells = [key, str(conc["n"])] + [f"{conc[f'p{q}']:.1f}" for q in PERCENTILES] + [f"{conc['max']:.1f}"]
    cells += [f"{seq[s]:.1f}" if seq.get("n") else "-" for s in ("p50", "p95", "max")]
    return cells + [f"{ratio[key][s]:.2f}x" if key in ratio else "-" for s in ("p50", "p95")]


def run_line(label: str, run: dict) -> str:
    e = run["errors"]
    return (f"  {label}: {run['workers']} worker(s), {run['completed']}/{run['queries']} queries, "
            f"{e['count']} error(s), wall {run['wall_s']:.1f} s, {run['throughput_qps']:.1f} queries/s, "
            f"start spread {run['start_spread_ms']:.0f} ms, max RSS per worker {run['max_rss_mib']:.0f} MiB")


def print_errors(label: str, errors: dict) -> None:
    if not errors["count"]:
        return
    print(f"  {label} errors by mode: {errors['by_mode']}, lost (dead workers): {errors['lost_queries']}")
    for line in errors["examples"]:
        print(f"    {line}")
    for trace in errors["tracebacks"][:2]:
        print("    " + trace.rstrip().replace("\n", "\n    "))


def print_target(r: dict) -> None:
    seq, conc = r["sequential"], r["concurrent"]
    where = r["target"]["chroma_url"] or r["target"]["archive"]
    for label, run in (("sequential", seq), ("concurrent", conc)):
        if "setup_errors" in run:
            print(f"\n[{r['target']['name']}] {label} run could not start:")
            for line in run["setup_errors"]:
                print("    " + line.rstrip().replace("\n", "\n    "))
    if "ratio" not in r:
        return
    rows = [latency_row(key, conc["latency_ms"][key], seq["latency_ms"][key], r["ratio"]) for key in (*MODES, "all")]
    print_table(["mode", "n", "p50", "p90", "p95", "p99", "max", "seq p50", "seq p95", "seq max", "p50 x", "p95 x"],
                rows, f"{r['target']['name']}: {where} ({conc['interviews']} interviews, {conc['chunks']} chunks), "
                f"latency ms")
    print(run_line("concurrent", conc))
    print(run_line("sequential", seq))
    print_errors("concurrent", conc["errors"])
    print_errors("sequential", seq["errors"])
    d = r["results"]
    print(f"  hits identical to the sequential run's: {d['compared'] - d['differ']}/{d['compared']} queries; "
          f"empty results: {d['empty_concurrent']} concurrent, {d['empty_sequential']} sequential")
    for x in d["differ_examples"][:2]:
        print(f"    differs: query {x['query']} ({x['mode']}) {x['question']!r}\n"
              f"      concurrent: {x['concurrent']}\n      sequential: {x['sequential']}")
    warm = ", ".join(f"{m} {ms:.0f}" for m, ms in conc["warmup_ms_max"].items())
    print(f"  warm-up, slowest worker's first query per mode (ms, not measured): {warm}")
    if "server" in r:
        s = r["server"]
        print(f"  server: chroma run at {s['url']} over {r['target']['archive']} "
              f"({'copied' if s['copied'] else 'existing copy'}), heartbeat after {s['heartbeat_s']:.1f} s")


def print_report(report: dict) -> None:
    print(f"\nonrecord load benchmark - {report['cpu_count']} CPU cores, load average {report['load_before']} "
          f"before, {report['load_after']} after")
    print(f"{report['workers']} workers x {report['queries_per_worker']} queries, limit {LIMIT}, modes "
          f"round-robin ({', '.join(MODES)}); each worker its own process, all starting together after warm-up")
    if report["oversubscribed"]:
        print(f"NOTE: {report['workers']} workers on {report['cpu_count']} cores oversubscribe the CPU: "
              f"concurrent latencies include waiting for a core; 'x' columns = concurrent / sequential (1 worker)")
    for result in report["targets"].values():
        print_target(result)
    ok = report["total_errors"] == 0 and report["sequential_errors"] == 0
    print(f"\nTOTAL: {report['total_queries']} concurrent queries, {report['total_errors']} error(s) "
          f"(sequential baselines: {report['sequential_errors']}) -> {'PASS' if ok else 'FAIL'}")


# ---------------------------------------------------------------- main

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, help=f"archive folder (default {CORPUS_ARCHIVE.relative_to(ROOT)})")
    parser.add_argument("--workers", type=int, default=8, help="parallel worker processes (default 8)")
    parser.add_argument("--queries", type=int, default=200, help="queries per worker (default 200)")
    parser.add_argument("--skip-server", action="store_true", help="skip the `chroma run` server target")
    return parser.parse_args()


def run_errors(run: dict) -> int:
    """A run that could not start counts all of its queries as failed."""
    return run["queries"] if "setup_errors" in run else run["errors"]["count"]


def totals(report: dict) -> dict:
    runs = {kind: [t[kind] for t in report["targets"].values()] for kind in ("concurrent", "sequential")}
    return {"total_queries": sum(r["queries"] for r in runs["concurrent"]),
            "total_errors": sum(map(run_errors, runs["concurrent"])),
            "sequential_errors": sum(map(run_errors, runs["sequential"]))}


def main() -> None:
    try:
        bench(parse_args())
    except KeyboardInterrupt:
        sys.exit("\ninterrupted: workers and server stopped, no report written")


def bench(args: argparse.Namespace) -> None:
    configure_environment()
    archive = require_archive(args.archive or CORPUS_ARCHIVE)
    asked = [q["question"] for q in questions()]
    cores = os.cpu_count() or 1
    report: dict = {"cpu_count": cores, "workers": args.workers, "queries_per_worker": args.queries,
                    "oversubscribed": args.workers > cores, "limit": LIMIT, "modes": list(MODES),
                    "questions": len(asked), "load_before": load_average(), "targets": {}}
    embedded = Target("embedded", str(archive))
    report["targets"]["embedded"] = bench_target(embedded, args.workers, args.queries, asked)
    if not args.skip_server:
        report["targets"]["server"] = bench_server(archive, args.workers, args.queries, asked)
    report |= {"load_after": load_average()} | totals(report)
    print_report(report)
    print(f"\nwritten: {write_report('bench_load', report)}")


if __name__ == "__main__":
    main()
