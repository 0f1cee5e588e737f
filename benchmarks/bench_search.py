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
   is duplicated under new interview ids (pages, chunks with their embeddings, then the interview record,
   committed last) until the active chunks collection holds >= 100,000 chunks. Then steps 3 and 4 run on it,
   in a fresh process. Targets: hybrid p50 <= 50 ms, p95 <= 150 ms at 100k; onrecord / baseline <= 3x.

Every process runs with XDG_CACHE_HOME=benchmarks/out/cache (the embedder's one-time ONNX export and the
keyword-index cache live there) and without ONRECORD_* variables. Run from the repository root, venv active:
    python benchmarks/bench_search.py [--archive DIR] [--skip-100k] [--corpus-limit N]
The report is printed and written as JSON to benchmarks/out/bench_search.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (  # noqa: E402 - benchmarks/ is on sys.path
    CACHE, DEFAULT_CORPUS, OUT, ROOT, configure_environment, load_jsonl, onrecord, percentile, require_dir, warm_up)
KEYWORD_CACHE = CACHE / "onrecord" / "keyword"
EVAL = ROOT / "benchmarks" / "data" / "search_eval.jsonl"
DEFAULT_ARCHIVE = OUT / "corpus-archive"
BIG_ARCHIVE = OUT / "archive-100k"
BIG_MARKER = "bench-source.json"  # in the 100k copy: which archive it was copied from

LIMIT = 10
SLACK_S = 5.0
MODES = ("keyword", "semantic", "hybrid")
REPEATS = 3
COLD_RUNS = 5
TARGET_CHUNKS = 100_000
UPSERT_BATCH = 5000
TARGET_P50_MS = 50.0
TARGET_P95_MS = 150.0
TARGET_RATIO = 3.0


# ---------------------------------------------------------------- environment and subprocesses

def run(cmd: list[str], *, ok_codes=(0,), stdin: str | None = None) -> tuple[float, subprocess.CompletedProcess]:
    """Wall-clock seconds from process start to exit; fails loudly on an unexpected exit code."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, input=stdin, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in ok_codes:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)[:300]}\n{proc.stderr[-3000:]}")
    return seconds, proc


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def load_questions() -> list[dict]:
    return load_jsonl(EVAL)


# ---------------------------------------------------------------- 1. the archive

def has_content(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def corpus_source(corpus: Path, limit: int | None, questions: list[dict], scratch: Path) -> tuple[Path, int]:
    """The folder to ingest and how many transcripts it holds: the corpus, or a folder of symlinks to the
    question set's episodes plus the first `limit` others."""
    files = sorted(corpus.glob("*.vtt"))
    if limit is None:
        return corpus, len(files)
    needed = {q["episode"] for q in questions}
    others = [f for f in files if f.name not in needed][:limit]
    folder = scratch / "corpus"
    folder.mkdir()
    for f in [f for f in files if f.name in needed] + others:
        (folder / f.name).symlink_to(f)
    return folder, len(needed) + len(others)


def build_archive(archive: Path, corpus: Path, limit: int | None, questions: list[dict]) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        source, files = corpus_source(corpus, limit, questions, Path(tmp))
        print(f"building the archive: ingesting {files} transcripts into {archive} ...", flush=True)
        seconds, proc = run(onrecord("--archive", str(archive), "ingest", str(source), "--json"), ok_codes=(0, 1))
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    failed = [r for r in results if r["status"] == "failed"]
    return {"built": True, "files": files, "ingest_seconds": round(seconds, 1),
            "added": sum(r["status"] == "added" for r in results), "failed": len(failed),
            "failures": [f"{r['source']}: {r['error']}" for r in failed][:10]}


def list_interviews(archive: Path) -> list[dict]:
    _, proc = run(onrecord("--archive", str(archive), "list", "--json"))
    return json.loads(proc.stdout)


def episode_ids(interviews: list[dict]) -> dict[str, str]:
    """Transcript file name -> interview id (an interview's "source" ends with its file name)."""
    return {Path(i["source"]).name: i["id"] for i in interviews}


# ---------------------------------------------------------------- 2 + 3. the warm process (a worker)

def warm_measurements(archive: Path, questions: list[dict], episodes: dict[str, str] | None) -> dict:
    """Runs in a fresh worker process (see run_worker): warm-up, quality when `episodes` is given, latency."""
    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.retrieval.searcher import Searcher
    from onrecord.search.store import open_archive

    settings = Settings(archive=archive)
    store = open_archive(settings)
    searcher = Searcher(store, embedder_for(settings, store.embed_model), settings.cache_dir)
    result = {"warmup_ms": warm_up(searcher, questions[0]["question"], LIMIT),
              "interviews": len(searcher.interviews()), "chunks": store.chunks().count()}
    if episodes is not None:
        result["quality"] = quality(searcher, questions, episodes)
    result["latency"] = latency(searcher, store.chunks(), [q["question"] for q in questions])
    result["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def is_correct(hit, interview_id: str, question: dict) -> bool:
    return (hit.interview_id == interview_id and hit.start <= question["end"] + SLACK_S
            and hit.end >= question["start"] - SLACK_S)


def first_correct_rank(hits, interview_id: str, question: dict) -> int | None:
    return next((rank for rank, hit in enumerate(hits, 1) if is_correct(hit, interview_id, question)), None)


def quality(searcher, questions: list[dict], episodes: dict[str, str]) -> dict:
    scored = [q for q in questions if q["episode"] in episodes]
    ranks = {mode: [first_correct_rank(searcher.search(q["question"], limit=LIMIT, mode=mode),
                                       episodes[q["episode"]], q) for q in scored] for mode in MODES}
    return {"questions": len(questions), "scored": len(scored), "skipped": len(questions) - len(scored),
            "skipped_ids": [q["id"] for q in questions if q["episode"] not in episodes],
            "metrics": {mode: rank_metrics(rs) for mode, rs in ranks.items()},
            "ranks": {q["id"]: {m: ranks[m][k] for m in MODES} for k, q in enumerate(scored)}}


def rank_metrics(ranks: list[int | None]) -> dict[str, float]:
    """Success@1, Success@5 and MRR@10 from each question's first correct rank (None: none in the top 10)."""
    found = [r for r in ranks if r is not None]
    n = max(1, len(ranks))
    return {"success_at_1": sum(r == 1 for r in found) / n, "success_at_5": sum(r <= 5 for r in found) / n,
            "mrr_at_10": sum(1 / r for r in found) / n}


def latency(searcher, collection, questions: list[str]) -> dict:
    """Milliseconds per query, the kinds interleaved so that drift in machine load hits them alike."""
    def baseline(question: str) -> None:
        vector = searcher.embedder.embed([question])[0]
        collection.query(query_embeddings=[vector], n_results=LIMIT)

    kinds = {mode: (lambda q, m=mode: searcher.search(q, limit=LIMIT, mode=m))
             for mode in ("hybrid", "keyword", "semantic")}
    kinds["baseline"] = baseline
    samples: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(REPEATS):
        for question in questions:
            for name, call in kinds.items():
                start = time.perf_counter()
                call(question)
                samples[name].append((time.perf_counter() - start) * 1000)
    summary = {name: summarize(values) for name, values in samples.items()}
    for stat in ("p50", "p95"):
        summary.setdefault("ratio", {})[stat] = round(summary["hybrid"][stat] / summary["baseline"][stat], 2)
    summary["queries"] = len(questions) * REPEATS
    return summary


def summarize(values_ms: list[float]) -> dict:
    return {"p50": round(percentile(values_ms, 50), 1), "p95": round(percentile(values_ms, 95), 1),
            "mean": round(statistics.fmean(values_ms), 1), "n": len(values_ms)}


def run_worker(archive: Path, questions: list[dict], episodes: dict[str, str] | None) -> dict:
    """warm_measurements in a fresh process: this script with --worker, the spec on stdin, JSON back."""
    spec = json.dumps({"archive": str(archive), "questions": questions, "episodes": episodes})
    _, proc = run([sys.executable, str(Path(__file__).resolve()), "--worker"], stdin=spec)
    return json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])


def worker_main() -> None:
    spec = json.loads(sys.stdin.read())
    result = warm_measurements(Path(spec["archive"]), spec["questions"], spec["episodes"])
    print(json.dumps(result))


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


def copy_id(interview_id: str, copy: int) -> str:
    """16 hex characters: the original's first 12, then its last 4 XOR the copy number, so a copy never
    takes its original's id and copies of one interview differ."""
    return f"{interview_id[:-4]}{int(interview_id[-4:], 16) ^ copy:04x}"


class CopyBatch:
    """Copied records waiting to be written: pages and chunks in upserts of <= UPSERT_BATCH, then the
    interview records, so an interview becomes visible only once all of its data is in."""

    def __init__(self, store, collection):
        self.store, self.collection = store, collection
        self._reset()

    def _reset(self) -> None:
        self.pages: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        self.chunks: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        self.interviews: list = []

    def add(self, interview, new_id: str, copy: int, pages: dict, chunks: dict) -> int:
        from onrecord.search.store.archive import chunk_id, page_id

        self._extend(self.pages, pages, new_id, lambda meta: page_id(new_id, meta["page"]))
        self._extend(self.chunks, chunks, new_id, lambda meta: chunk_id(new_id, meta["index"]))
        self.interviews.append(dataclasses.replace(interview, id=new_id, title=f"{interview.title} (copy {copy})"))
        if len(self.chunks["ids"]) >= UPSERT_BATCH or len(self.pages["ids"]) >= UPSERT_BATCH:
            self.flush()
        return len(chunks["ids"])

    @staticmethod
    def _extend(into: dict, got: dict, new_id: str, new_record_id) -> None:
        metas = [{**meta, "interview_id": new_id} for meta in got["metadatas"]]
        into["ids"].extend(new_record_id(meta) for meta in metas)
        into["documents"].extend(got["documents"])
        into["metadatas"].extend(metas)
        into["embeddings"].extend(list(map(list, got["embeddings"])))

    def flush(self) -> None:
        _upsert(self.store.transcripts, self.pages)
        _upsert(self.collection, self.chunks)
        for interview in self.interviews:
            self.store.commit(interview)
        self._reset()


def _upsert(collection, records: dict[str, list]) -> None:
    for start in range(0, len(records["ids"]), UPSERT_BATCH):
        collection.upsert(**{key: values[start:start + UPSERT_BATCH] for key, values in records.items()})


def read_interview(store, collection, interview_id: str) -> tuple[object, dict, dict]:
    where = {"interview_id": interview_id}
    include = ["documents", "metadatas", "embeddings"]
    return store.get(interview_id), store.transcripts.get(where=where, include=include), \
        collection.get(where=where, include=include)


def duplicate(store, originals: list[str]) -> int:
    """Copy the original interviews, pass after pass, until the chunks collection holds TARGET_CHUNKS;
    copies already committed (an interrupted earlier run) are kept. Returns the number of passes."""
    collection = store.chunks()
    batch = CopyBatch(store, collection)
    known = set(originals)
    copy = 0
    while collection.count() < TARGET_CHUNKS:
        copy += 1
        expected = collection.count()
        for interview_id in originals:
            if expected >= TARGET_CHUNKS:
                break
            new_id = copy_id(interview_id, copy)
            if new_id in known:
                sys.exit(f"copy id {new_id} of {interview_id} collides with an original interview")
            if not store.has(new_id):
                interview, pages, chunks = read_interview(store, collection, interview_id)
                expected += batch.add(interview, new_id, copy, pages, chunks)
        batch.flush()
        print(f"  copy {copy}: {collection.count()} chunks", flush=True)
    return copy


def build_big_archive(source: Path, source_chunks: int, originals: list[str]) -> dict:
    start = time.perf_counter()
    copied = prepare_copy(source, source_chunks)
    copy_seconds = time.perf_counter() - start
    store = open_store(BIG_ARCHIVE)
    try:
        passes = duplicate(store, originals)
        chunks, interviews = store.chunks().count(), len(store.interviews.get(include=[])["ids"])
    finally:
        close_store()
    return {"folder": str(BIG_ARCHIVE), "copied": copied, "copy_seconds": round(copy_seconds, 1),
            "duplicate_seconds": round(time.perf_counter() - start - copy_seconds, 1), "passes": passes,
            "chunks": chunks, "interviews": interviews}


# ---------------------------------------------------------------- report

def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """Left-aligned first column, the others right-aligned, every column as wide as its widest cell."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}\n{'-' * min(len(title), 100)}")
    for row in [header, *rows]:
        cells = [f"{row[0]:<{widths[0]}}"] + [f"{str(c):>{w}}" for c, w in zip(row[1:], widths[1:])]
        print("  " + "  ".join(cells).rstrip())


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_quality(q: dict) -> None:
    rows = [[mode, f"{m['success_at_1']:.3f}", f"{m['success_at_5']:.3f}", f"{m['mrr_at_10']:.3f}"]
            for mode, m in q["metrics"].items()]
    table(f"Quality: {q['questions']} questions, {q['scored']} scored, {q['skipped']} skipped "
          f"(episode not in the archive)", ["mode", "Success@1", "Success@5", "MRR@10"], rows)
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
    table(f"{title}: {w['interviews']} interviews, {w['chunks']} chunks, {lat['queries']} queries per row (ms)",
          ["query", "p50", "p95", "mean", "target (hybrid, at 100k)"], rows)
    warm = ", ".join(f"{mode} {ms:.0f}" for mode, ms in w["warmup_ms"].items())
    print(f"  warm-up, first query per mode (ms, not in the rows): {warm}")
    print(f"  max RSS of the warm process after the run: {w['max_rss_mib']:.0f} MiB")


def print_cold(title: str, c: dict) -> None:
    table(title, ["onrecord search --limit 10 --json", "median s", "min s", "runs"], [
        ["first-ever (no keyword cache: builds BM25)", f"{c['first_ever_s']:.2f}", "", "1"],
        ["warm caches", f"{c['median_s']:.2f}", f"{c['min_s']:.2f}", str(len(c["runs_s"]))]])


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
              f"{b['copy_seconds']:.0f} s; duplication {b['duplicate_seconds']:.0f} s in {b['passes']} passes)")
        print_latency("Warm latency, 100k archive (fresh process)", r["big_warm"])
        print_cold("Cold start, 100k archive: fresh processes, start to exit", r["big_cold"])


# ---------------------------------------------------------------- main

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, help=f"archive folder (default {DEFAULT_ARCHIVE.relative_to(ROOT)})")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="the talkpython WebVTT folder to build the archive from (default: the shared folder's)")
    parser.add_argument("--skip-100k", action="store_true", help="skip the 100k-chunk part")
    parser.add_argument("--corpus-limit", type=int, metavar="N",
                        help="build the archive from the question set's episodes plus the first N others")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def default_archive(limit: int | None) -> Path:
    return DEFAULT_ARCHIVE if limit is None else OUT / f"corpus-archive-limit{limit}"


def main() -> None:
    args = parse_args()
    configure_environment()
    if args.worker:
        return worker_main()
    OUT.mkdir(parents=True, exist_ok=True)
    questions = load_questions()
    archive = (args.archive or default_archive(args.corpus_limit)).resolve()
    report: dict = {"cpu_count": os.cpu_count(), "load_before": load_average()}
    if has_content(archive):
        report["archive"] = {"built": False}
    else:
        corpus = require_dir(args.corpus, "the podcast corpus", "--corpus")
        report["archive"] = build_archive(archive, corpus, args.corpus_limit, questions)
    interviews = list_interviews(archive)
    episodes = episode_ids(interviews)
    report["archive"] |= {"folder": str(archive), "interviews": len(interviews)}
    print("cold starts on the corpus archive ...", flush=True)
    report["corpus_cold"] = cold_start(archive, questions[0]["question"])
    print("warm process on the corpus archive: quality and latency ...", flush=True)
    report["corpus"] = run_worker(archive, questions, episodes)
    if not args.skip_100k:
        print(f"100k archive: copying and duplicating into {BIG_ARCHIVE} ...", flush=True)
        report["big"] = build_big_archive(archive, chunk_count(archive), [i["id"] for i in interviews])
        print("cold starts on the 100k archive ...", flush=True)
        report["big_cold"] = cold_start(BIG_ARCHIVE, questions[0]["question"])
        print("warm process on the 100k archive ...", flush=True)
        report["big_warm"] = run_worker(BIG_ARCHIVE, questions, None)
    report["load_after"] = load_average()
    print_report(report)
    (OUT / "bench_search.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {OUT / 'bench_search.json'}")


if __name__ == "__main__":
    main()
