"""Benchmark transcript import against bare embedding: does `onrecord ingest` run at the embedder's speed?

1. Import: `onrecord --archive <fresh dir> ingest <corpus folder> --json` over the talkpython .vtt files (--corpus,
   default ../shared/data/podcasts/talkpython: all 509; --corpus-limit N for the first N), timed from process
   start to exit; the chunks it stored are counted afterwards.
2. Bare embedding, in a fresh process: the same chunk texts, read back from that archive in stored order, embedded
   with the same encoder (onrecord's OnnxEncoder over the cached ONNX export) in the same batches (EMBED_BATCH
   texts per call, the embedder's batch size within), timed around the embedding alone: no process start, no
   model load, no reading, no writing.
3. Optionally (--baseline DIR, a checkout of an older onrecord, e.g. `git worktree add /tmp/base 486bbe3`) the
   same import with that checkout's code, for the speed-up (harness.checkout(): that checkout goes first on
   PYTHONPATH, so this one's editable install does not run in its place).

With --rounds N, the steps alternate N times and the fastest run of each counts. Reported side by side: wall
seconds, chunks, chunks/s, the archive's size on disk, and the ratio import throughput / bare embedding throughput
(= bare s / import s).
Targets: ratio >= 0.85, and the whole corpus in <= 6 minutes (checked only when the whole corpus ran). Exits 1
when a target is missed. The load average is printed before and after: on a shared machine only the ratios of
one run mean much.

Run from the repository root, with the project's venv active:
    python benchmarks/bench_import.py [--corpus DIR] [--corpus-limit N] [--baseline DIR] [--rounds N]
Writes benchmarks/out/bench_import.json. Every process runs with XDG_CACHE_HOME=benchmarks/out/cache and without
ONRECORD_* variables.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import (
    DEFAULT_CORPUS, ROOT, Checkout, checkout, configure_environment, json_lines, last_json, load_average, onrecord,
    require_dir, run, write_report)

TARGET_RATIO = 0.85
TARGET_MINUTES = 6.0

# Step 2, in its own process: the archive's chunk texts through the embedder alone.
BARE_EMBED = """
import json, sys, time
from onrecord.ingest.pipeline import EMBED_BATCH
from onrecord.search.config import Settings
from onrecord.search.iterutil import batched
from onrecord.search.retrieval.embedder import embedder_for
from onrecord.search.store import open_archive

archive = open_archive(Settings(archive=sys.argv[1]))
got = archive.chunks().get(include=["documents", "metadatas"])
rows = sorted(zip(got["metadatas"], got["documents"]), key=lambda row: (row[0]["interview_id"], row[0]["index"]))
texts = [text for _, text in rows]
embedder = embedder_for(Settings(), archive.embed_model)
embedder.embed(texts[:8])  # loads the model
start = time.perf_counter()
for batch in batched(texts, EMBED_BATCH):
    embedder.embed(list(batch))
print(json.dumps({"chunks": len(texts), "seconds": time.perf_counter() - start}))
"""

def corpus_folder(corpus: Path, limit: int | None, scratch: Path) -> tuple[Path, int, float]:
    """The folder to ingest, how many transcripts it holds, and what share of the corpus (by bytes) they are: the
    first episodes are short, so counting files would underestimate the whole."""
    files = sorted(corpus.glob("*.vtt"))
    if limit is None or limit >= len(files):
        return corpus, len(files), 1.0
    folder = scratch / "corpus"
    folder.mkdir()
    for f in files[:limit]:
        shutil.copy2(f, folder / f.name)
    share = sum(f.stat().st_size for f in files[:limit]) / sum(f.stat().st_size for f in files)
    return folder, limit, share


def du_mb(folder: Path) -> float:
    """Space on disk, as `du` counts it (allocated blocks, so sparse index files count what they use)."""
    out = subprocess.run(["du", "-sk", str(folder)], capture_output=True, text=True, check=True).stdout
    return round(int(out.split()[0]) / 1024, 1)


def run_import(code: Checkout, folder: Path, archive: Path) -> dict:
    """One import with `code` (this checkout's or a baseline's); seconds, sources, chunks, size on disk."""
    seconds, done = code.run("--archive", str(archive), "ingest", str(folder), "--json", ok=(0, 1))
    if not done.stdout.strip():
        sys.exit(f"import printed nothing in {code.root}:\n{done.stderr[-3000:]}")
    results = json_lines(done.stdout)
    listed = code.run("--archive", str(archive), "list", "--json")[1]
    return {"seconds": round(seconds, 1), "added": sum(r["status"] == "added" for r in results),
            "failed": sum(r["status"] == "failed" for r in results),
            "chunks": sum(i["chunks"] for i in json.loads(listed.stdout)), "archive_mb": du_mb(archive)}


def warm_cache(scratch: Path) -> None:
    """The one-time ONNX export of the embedder happens here, untimed, not in the first timed import."""
    sample = ROOT / "samples" / "transcripts" / "gardening.vtt"
    run(onrecord("--archive", str(scratch / "warm-up"), "ingest", str(sample)))


def run_bare(archive: Path) -> dict:
    got = last_json(run([sys.executable, "-c", BARE_EMBED, str(archive)])[1].stdout)
    return {"seconds": round(got["seconds"], 1), "chunks": got["chunks"]}


def report_rows(report: dict) -> list[tuple[str, dict]]:
    rows = [("onrecord ingest (this checkout)", report["import"]), ("bare ONNX embedding, same texts", report["bare"])]
    if "baseline" in report:
        rows.append((f"onrecord ingest ({report['baseline_dir']})", report["baseline"]))
    return rows


def print_report(report: dict) -> None:
    print(f"\nimport vs bare embedding - {report['files']} transcripts, {os.cpu_count()} CPUs, "
          f"load average {report['load_before']} before, {report['load_after']} after")
    print(f"  {'':<40} {'wall s':>8} {'chunks':>7} {'chunks/s':>9} {'on disk':>9}")
    for name, row in report_rows(report):
        size = f"{row['archive_mb']:.0f} MiB" if "archive_mb" in row else ""
        print(f"  {name:<40} {row['seconds']:>8.1f} {row['chunks']:>7} {row['chunks'] / row['seconds']:>9.1f}"
              f" {size:>9}  (runs: {', '.join(f'{s:.1f}' for s in row['all_seconds'])})")
    print(f"  ratio ingest / bare throughput: {report['ratio']:.3f}  target >= {TARGET_RATIO}: "
          f"{'PASS' if report['ratio_ok'] else 'MISS'}")
    if "baseline" in report:
        print(f"  speed-up over the baseline: {report['baseline']['seconds'] / report['import']['seconds']:.2f}x")
    if report["whole_corpus"]:
        print(f"  whole corpus: {report['import']['seconds'] / 60:.1f} min, target <= {TARGET_MINUTES:g} min: "
              f"{'PASS' if report['minutes_ok'] else 'MISS'}")
    else:
        print("  whole-corpus time not checked: only part of the corpus ran (--corpus-limit)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the talkpython WebVTT folder")
    parser.add_argument("--corpus-limit", type=int, metavar="N", help="import only the first N transcripts")
    parser.add_argument("--baseline", type=Path, metavar="DIR", help="a checkout of an older onrecord to compare")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds; the fastest of each counts")
    return parser.parse_args()


def alternate(rounds: int, folder: Path, scratch: Path, baseline: Checkout | None) -> dict:
    """The import, the bare embedding and the baseline's import, taking turns (so that a change in the machine's
    load hits each alike); the fastest run of each, with all their times."""
    runs: dict[str, list[dict]] = {"import": [], "bare": [], "baseline": []}
    for n in range(rounds):
        print(f"round {n + 1}/{rounds}: importing {folder} ...", flush=True)
        runs["import"].append(run_import(Checkout(ROOT), folder, scratch / f"archive-{n}"))
        print("  embedding the same chunk texts bare ...", flush=True)
        runs["bare"].append(run_bare(scratch / f"archive-{n}"))
        if baseline:
            print(f"  importing with {baseline.root} ...", flush=True)
            runs["baseline"].append(run_import(baseline, folder, scratch / f"baseline-{n}"))
    return {kind: min(done, key=lambda r: r["seconds"]) | {"all_seconds": [r["seconds"] for r in done]}
            for kind, done in runs.items() if done}


def main() -> None:
    args = parse_args()
    corpus = require_dir(args.corpus, "the podcast corpus", "--corpus")
    configure_environment()
    baseline = checkout(args.baseline) if args.baseline else None
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder, files, share = corpus_folder(corpus, args.corpus_limit, Path(tmp))
        report = {"files": files, "corpus_share": round(share, 4), "whole_corpus": share == 1.0,
                  "load_before": load_average()}
        warm_cache(Path(tmp))
        report |= alternate(args.rounds, folder, Path(tmp), baseline)
        report["baseline_dir"] = str(args.baseline)
        report["load_after"] = load_average()
    report["ratio"] = round(report["bare"]["seconds"] / report["import"]["seconds"], 3)
    report["ratio_ok"] = report["ratio"] >= TARGET_RATIO and report["bare"]["chunks"] == report["import"]["chunks"]
    report["minutes_ok"] = report["import"]["seconds"] / 60 <= TARGET_MINUTES
    print_report(report)
    print(f"\nwritten: {write_report('bench_import', report)}")
    sys.exit(0 if report["ratio_ok"] and (report["minutes_ok"] or not report["whole_corpus"]) else 1)


if __name__ == "__main__":
    main()
