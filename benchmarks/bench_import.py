"""Benchmark transcript import against bare embedding: does `onrecord ingest` run at the embedder's speed?

1. Import: `onrecord --archive <fresh dir> ingest <corpus folder> --json` over the talkpython .vtt files (--corpus,
   default ../shared/data/podcasts/talkpython: all 509; --corpus-limit N for the first N), timed from process
   start to exit; the chunks it stored are counted afterwards.
2. Bare embedding, in a fresh process: the same chunk texts, read back from that archive in stored order, embedded
   with the same encoder (onrecord's OnnxEncoder over the cached ONNX export) in the same batches (EMBED_BATCH
   texts per call, the embedder's batch size within), timed around the embedding alone: no process start, no
   model load, no reading, no writing.
3. Optionally (--baseline DIR, a checkout of an older onrecord, e.g. `git worktree add /tmp/base 486bbe3`) the
   same import with that checkout's code, for the speed-up.

With --rounds N, the steps alternate N times and the fastest run of each counts. Reported side by side: wall
seconds, chunks, chunks/s, and the ratio import throughput / bare embedding throughput (= bare s / import s).
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_ingest import corpus_folder, json_lines  # noqa: E402 - benchmarks/ is on sys.path
from common import DEFAULT_CORPUS, OUT, ROOT, configure_environment, require_dir

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

CLI = [sys.executable, "-m", "onrecord.ui"]  # this checkout's onrecord, in a process of its own


def run_import(code: Path, folder: Path, archive: Path) -> dict:
    """One import with the code in `code` (this checkout or a baseline's); seconds, sources, chunks."""
    start = time.perf_counter()
    done = subprocess.run([*CLI, "--archive", str(archive), "ingest", str(folder), "--json"],
                          cwd=code, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1) or not done.stdout.strip():
        sys.exit(f"import failed ({done.returncode}) in {code}:\n{done.stderr[-3000:]}")
    results = json_lines(done.stdout)
    listed = subprocess.run([*CLI, "--archive", str(archive), "list", "--json"],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    return {"seconds": round(seconds, 1), "added": sum(r["status"] == "added" for r in results),
            "failed": sum(r["status"] == "failed" for r in results),
            "chunks": sum(i["chunks"] for i in json.loads(listed.stdout))}


def warm_cache(scratch: Path) -> None:
    """The one-time ONNX export of the embedder happens here, untimed, not in the first timed import."""
    sample = ROOT / "samples" / "transcripts" / "gardening.vtt"
    subprocess.run([*CLI, "--archive", str(scratch / "warm-up"), "ingest", str(sample)],
                   cwd=ROOT, capture_output=True, check=True)


def run_bare(archive: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", BARE_EMBED, str(archive)], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode:
        sys.exit(f"bare embedding failed:\n{done.stderr[-3000:]}")
    got = json.loads(done.stdout.splitlines()[-1])
    return {"seconds": round(got["seconds"], 1), "chunks": got["chunks"]}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report_rows(report: dict) -> list[tuple[str, dict]]:
    rows = [("onrecord ingest (this checkout)", report["import"]), ("bare ONNX embedding, same texts", report["bare"])]
    if "baseline" in report:
        rows.append((f"onrecord ingest ({report['baseline_dir']})", report["baseline"]))
    return rows


def print_report(report: dict) -> None:
    print(f"\nimport vs bare embedding - {report['files']} transcripts, {os.cpu_count()} CPUs, "
          f"load average {report['load_before']} before, {report['load_after']} after")
    print(f"  {'':<40} {'wall s':>8} {'chunks':>7} {'chunks/s':>9}")
    for name, row in report_rows(report):
        print(f"  {name:<40} {row['seconds']:>8.1f} {row['chunks']:>7} {row['chunks'] / row['seconds']:>9.1f}"
              f"  (runs: {', '.join(f'{s:.1f}' for s in row['all_seconds'])})")
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


def main() -> None:
    args = parse_args()
    corpus = require_dir(args.corpus, "the podcast corpus", "--corpus")
    configure_environment()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        scratch = Path(tmp)
        folder, files, share = corpus_folder(corpus, args.corpus_limit, scratch)
        report = {"files": files, "corpus_share": round(share, 4), "whole_corpus": share == 1.0,
                  "load_before": load_average()}
        warm_cache(scratch)
        runs: dict[str, list[dict]] = {"import": [], "bare": [], "baseline": []}
        for n in range(args.rounds):  # alternating, so that a change in the machine's load hits each alike
            print(f"round {n + 1}/{args.rounds}: importing {files} transcripts ...", flush=True)
            runs["import"].append(run_import(ROOT, folder, scratch / f"archive-{n}"))
            print("  embedding the same chunk texts bare ...", flush=True)
            runs["bare"].append(run_bare(scratch / f"archive-{n}"))
            if args.baseline:
                print(f"  importing with {args.baseline} ...", flush=True)
                runs["baseline"].append(run_import(args.baseline.resolve(), folder, scratch / f"baseline-{n}"))
        for kind, done in runs.items():
            if done:
                report[kind] = min(done, key=lambda run: run["seconds"]) | {"all_seconds": [r["seconds"] for r in done]}
        report["baseline_dir"] = str(args.baseline)
        report["load_after"] = load_average()
    report["ratio"] = round(report["bare"]["seconds"] / report["import"]["seconds"], 3)
    report["ratio_ok"] = report["ratio"] >= TARGET_RATIO and report["bare"]["chunks"] == report["import"]["chunks"]
    report["minutes_ok"] = report["import"]["seconds"] / 60 <= TARGET_MINUTES
    print_report(report)
    (OUT / "bench_import.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {OUT / 'bench_import.json'}")
    sys.exit(0 if report["ratio_ok"] and (report["minutes_ok"] or not report["whole_corpus"]) else 1)


if __name__ == "__main__":
    main()
