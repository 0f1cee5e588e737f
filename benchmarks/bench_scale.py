"""Benchmark onrecord at scale: the first search after another process commits, and a million chunks.

0. The archives (--grow SOURCE TARGET --chunks N): copies of every interview of SOURCE (the 509-episode corpus
   archive) added to TARGET (a folder, or a `chroma run` server's database URL) under new ids, vectors and all,
   until it holds N chunks; embedding that many texts would take hours on a laptop, and copies search exactly like
   originals (each copy's title says which copy it is). Every record is written the way onrecord writes it
   (chunks with their vectors and metadata, transcript pages, the interview record), copy by copy, and the
   revision is bumped once each copy is whole, as a commit does. bench_search.py grows its 100k archive the same way.
1. Commit vs unchanged (--archive URL, ~100k chunks). Every measurement is a new process (`--probe`) that opens
   the archive, loads the embedder, then times its first hybrid search: that search loads the keyword index from
   this machine's cache, or brings it up to date. First one probe builds the index (cold, reported apart), then
   ROUNDS times: a probe on the unchanged archive, another process commits one interview (a copy under a new id),
   a probe after that commit. With --baseline DIR (a checkout of an older onrecord, e.g. `git worktree add
   /tmp/base 486bbe3`), the same probes run with that checkout's code side by side, on its own cache (harness.py's
   checkout(): it goes first on PYTHONPATH, so the editable install of this one does not run instead). Reported:
   medians, after-commit / unchanged (target <= 1.5 at 100k), and the probes' memory (RSS; the index's part is
   the difference made by loading it, target <= 1 GB).
2. A million chunks (--big URL): the keyword index's cold build; cold start, `onrecord search` as a fresh process
   from start to exit (median of COLD_RUNS, index cached); warm hybrid latency over the 70 labelled questions in
   one process (p50 / p95); that reader's peak RSS; and one commit vs unchanged round.

    python benchmarks/bench_scale.py --grow benchmarks/out/corpus-archive http://127.0.0.1:8765/db100k --chunks 100000
    python benchmarks/bench_scale.py --archive http://127.0.0.1:8765/db100k [--baseline /tmp/base] [--big URL]
Prints the report and writes benchmarks/out/bench_scale.json; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import (
    OUT, ROOT, Checkout, checkout, clean_env, last_json, onrecord, peak_rss_mib, percentile, questions, run, searcher,
    timed, write_report)

ROUNDS = 3
COLD_RUNS = 3
QUERY = "how do you handle database migrations in production"
RATIO_TARGET, INDEX_MB_TARGET = 1.5, 1024
INTERVIEWS_PER_READ = 40  # about 2,500 chunks of the podcast corpus per read: far below SQLite's variable limit


# ---------------------------------------------------------------- growing an archive by copies

def copy_id(interview_id: str, copy: int) -> str:
    return hashlib.sha256(f"{interview_id}:copy{copy}".encode()).hexdigest()[:16]


def copy_number(title: str) -> int | None:
    """N for a copy's title, "... [copy N]"; None for an original."""
    if title.endswith("]") and "[copy " in title:
        return int(title.rsplit("[copy ", 1)[1].rstrip("]"))
    return None


def grow(source, target, chunks_wanted: int, log=print) -> int:
    """Add copies of `source`'s original interviews to `target` until it holds `chunks_wanted` chunks (or a little
    more: whole interviews only); `target` may be `source`. Returns the chunk count reached."""
    from onrecord.search.iterutil import batched

    if not target.embed_model:
        target.set_embed_model(source.embed_model)
    have = sum(i.chunks for i in target.list())
    copy = 1 + max((copy_number(i.title) or 0 for i in target.list()), default=0)
    originals = sorted((i for i in source.list() if copy_number(i.title) is None), key=lambda i: i.id)
    if not originals:
        raise SystemExit("no original interview to copy in the source archive")
    started = time.perf_counter()
    while have < chunks_wanted:
        for group in batched(originals, INTERVIEWS_PER_READ):
            group = [i for i in group if not target.has(copy_id(i.id, copy))]
            if group and have < chunks_wanted:
                have += copy_group(source, target, group, copy)
        target._bump_revision()  # as a commit does: readers look again
        log(f"copy {copy}: {have:,} chunks ({have / (time.perf_counter() - started):,.0f} chunks/s)")
        copy += 1
    return have


def copy_group(source, target, interviews, copy: int) -> int:
    """Chunks, pages, then the interview records (the commit point) of `interviews`, copied under new ids."""
    from onrecord.search.iterutil import batched
    from onrecord.search.store.archive import chunk_id, interview_from_doc, page_id

    ids = [i.id for i in interviews]
    new = {i.id: copy_id(i.id, copy) for i in interviews}
    got = source.chunks().get(where={"interview_id": {"$in": ids}}, include=["documents", "metadatas", "embeddings"])
    metas = [dict(m, interview_id=new[m["interview_id"]]) for m in got["metadatas"]]
    for part in batched(range(len(metas)), 2000):
        target.chunks().upsert(ids=[chunk_id(metas[n]["interview_id"], metas[n]["index"]) for n in part],
                               documents=[got["documents"][n] for n in part], metadatas=[metas[n] for n in part],
                               embeddings=[got["embeddings"][n] for n in part])
    pages = source.transcripts.get(where={"interview_id": {"$in": ids}}, include=["documents", "metadatas"])
    page_metas = [dict(m, interview_id=new[m["interview_id"]]) for m in pages["metadatas"]]
    target.transcripts.upsert(ids=[page_id(m["interview_id"], m["page"]) for m in page_metas],
                              documents=pages["documents"], metadatas=page_metas, embeddings=[[1.0]] * len(page_metas))
    for doc in source.interviews.get(ids=ids, include=["documents"])["documents"]:
        interview = interview_from_doc(doc)
        title = f"{interview.title} [copy {copy}]"
        target.put_record(dataclasses.replace(interview, id=new[interview.id], title=title))
    return len(metas)


def grow_command(source: str, target: str, chunks: int) -> None:
    from onrecord.search.config import Settings
    from onrecord.search.store import open_archive

    grow(open_archive(Settings(archive=source)), open_archive(Settings(archive=target), create=True), chunks)


# ---------------------------------------------------------------- probes: a new process each

def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def probe(url: str, cache: Path, package: str) -> dict:
    """In this (new) process: the first hybrid search, timed, and what loading the index cost in memory."""
    reader = searcher(cache, package, archive=url)
    reader.embedder.embed(["warm up"])
    reader.interviews()
    before = rss_mb()
    hits, took = timed(reader.search, QUERY, limit=10)
    index = reader.keyword_index()
    size = getattr(index, "count", None) or len(getattr(index, "chunk_ids", []))
    return {"search_s": round(took, 3), "hits": len(hits), "chunks": size, "index_mb": round(rss_mb() - before),
            "peak_rss_mb": round(peak_rss_mib())}


def run_probe(url: str, cache: Path, code: Checkout) -> dict:
    cmd = [sys.executable, __file__, "--probe", url, "--cache", str(cache), "--package", code.package]
    done = subprocess.run(cmd, env=code.env(), capture_output=True, text=True, cwd=code.cwd, timeout=3600)
    if done.returncode:
        raise SystemExit(f"probe failed ({code.root}):\n{done.stderr[-3000:]}")
    return last_json(done.stdout)


def commit_one(url: str, number: int) -> None:
    """Another process commits an interview: a copy of a corpus interview under a new id."""
    script = ("import sys; sys.path.insert(0, 'benchmarks'); import bench_scale as s; "
              "from onrecord.search.config import Settings; from onrecord.search.store import open_archive; "
              f"a = open_archive(Settings(archive={url!r})); i = sorted(a.list(), key=lambda x: x.id)[{number}]; "
              f"s.copy_group(a, a, [i], {1000 + number}); a._bump_revision()")
    run([sys.executable, "-c", script])


def commit_vs_unchanged(url: str, name: str, baseline: Path | None, first_commit: int,
                        built: Path | None = None) -> dict:
    """`built`: a cache whose index is up to date already (the 1M figures'), so its "cold" probe is warm."""
    codes = {"now": Checkout(ROOT)} | ({"baseline": checkout(baseline)} if baseline else {})
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


# ---------------------------------------------------------------- a million chunks

def big_figures(url: str) -> dict:
    """The cold build happens once, in the cache the CLI runs and the warm reader then share (a build at 1M
    takes minutes)."""
    xdg = OUT / "cache-scale" / "big" / "xdg"
    cache = xdg / "onrecord"
    shutil.rmtree(xdg, ignore_errors=True)
    cold = run_probe(url, cache, Checkout(ROOT))
    env = clean_env(XDG_CACHE_HOME=str(xdg))
    search = onrecord("--archive", url, "search", QUERY, "--json")
    run(search, env=env)  # exports the embedder into this cache; the keyword index is there already
    starts = [run(search, env=env)[0] for _ in range(COLD_RUNS)]
    _, warm_run = run([sys.executable, __file__, "--warm", url, "--cache", str(cache)])
    return {"cold_index": cold, "cold_start_s": round(statistics.median(starts), 2), "warm": last_json(warm_run.stdout)}


def warm(url: str, cache: Path) -> dict:
    """In this process: the labelled questions, hybrid, after one warm-up search."""
    reader = searcher(cache, archive=url)
    reader.search(QUERY)
    times = [timed(reader.search, q["question"], limit=10)[1] * 1000 for q in questions()]
    return {"p50_ms": round(percentile(times, 50)), "p95_ms": round(percentile(times, 95)),
            "peak_rss_mb": round(peak_rss_mib()), "chunks": reader.keyword_index().count}


# ---------------------------------------------------------------- main

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grow", nargs=2, metavar=("SOURCE", "TARGET"),
                        help="add copies of SOURCE's interviews to TARGET (a folder or a server URL) up to --chunks")
    parser.add_argument("--chunks", type=int, help="with --grow: the chunk count to reach")
    parser.add_argument("--archive", help="a Chroma server URL (database) of ~100k chunks")
    parser.add_argument("--big", help="a Chroma server URL (database) of ~1M chunks")
    parser.add_argument("--baseline", type=Path, help="a checkout of an older onrecord to run side by side")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--warm", help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--package", default="onrecord.", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.grow and not args.chunks:
        parser.error("--grow needs --chunks N")
    return args


def measure(args: argparse.Namespace) -> list[str]:
    """The commit and 1M parts asked for; what missed its target."""
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
        built = OUT / "cache-scale" / "big" / "xdg" / "onrecord"
        report["big_commit"] = commit_vs_unchanged(args.big, "1m", None, 10, built)
        b, c = report["big"], report["big_commit"]["now"]["summary"]
        print(f"1M: {b['warm']['chunks']:,} chunks; keyword index cold build {b['cold_index']['search_s']:.0f} s; "
              f"cold start (search as a new process) {b['cold_start_s']} s; warm hybrid p50 {b['warm']['p50_ms']} "
              f"ms, p95 {b['warm']['p95_ms']} ms; reader peak RSS {b['warm']['peak_rss_mb']} MB; first search "
              f"unchanged {c['unchanged_s']:.2f} s, after a commit {c['after_commit_s']:.2f} s ({c['ratio']}x)")
    write_report("bench_scale", report)
    return missed


def main() -> int:
    args = parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe, args.cache, args.package)))
        return 0
    if args.warm:
        print(json.dumps(warm(args.warm, args.cache)))
        return 0
    if args.grow:
        grow_command(*args.grow, args.chunks)
        return 0
    missed = measure(args)
    if missed:
        print("missed: " + ", ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
