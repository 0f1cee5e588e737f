"""Benchmark ingest memory against transcript length: does peak memory stay flat as a transcript grows?

WebVTT transcripts of 12, 10,000 and 100,000 cues (--cues), each cue --words-per-cue words of the bundled
samples' spoken text (samples/scripts.json, cycled; a number is added so that no two cues are alike), one
second apart. Each is ingested by `onrecord --archive <fresh dir> ingest <file> --json` in a process of its
own, which reports its own peak RSS (ru_maxrss). The 12-cue file is the baseline: the models loaded and almost
nothing else. Reported per size: peak memory, growth above the baseline, ingest time, chunks made.

The cache (benchmarks/out/cache) is warmed first by an untimed 12-cue ingest, so no run pays for the one-time
ONNX export of the embedder (which loads torch).

Run from the repository root, venv active:
    python benchmarks/bench_memory.py [--cues 12 10000 100000] [--words-per-cue 4]
The report is printed and written as JSON to benchmarks/out/bench_memory.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from harness import (
    CLI_REPORTING_RSS, ROOT, configure_environment, json_lines, onrecord, reported_peak_mib, run, vtt_stamp,
    write_report)


def write_vtt(path: Path, cues: int, words_per_cue: int) -> Path:
    scripts = json.loads((ROOT / "samples" / "scripts.json").read_text())
    said = [w for turns in scripts.values() for turn in turns for w in turn["text"].split()]
    with open(path, "w") as out:
        out.write("WEBVTT\n\n")
        for i in range(cues):
            at = (i * words_per_cue) % (len(said) - words_per_cue)
            text = " ".join(said[at:at + words_per_cue])
            out.write(f"{vtt_stamp(i)} --> {vtt_stamp(i + 0.9)}\n{text} {i}\n\n")
    return path


def ingest(archive: Path, source: Path) -> dict:
    """`onrecord ingest` in a process that reports its own peak RSS: status, seconds, peak MiB, chunks made."""
    seconds, done = run([*CLI_REPORTING_RSS, "--archive", str(archive), "ingest", str(source), "--json"],
                        timeout=3600)
    [result] = json_lines(done.stdout)
    listed = json.loads(run(onrecord("--archive", str(archive), "list", "--json"), timeout=600)[1].stdout)
    return {"status": result["status"], "seconds": round(seconds, 1), "peak_mib": round(reported_peak_mib(done), 1),
            "chunks": sum(i["chunks"] for i in listed)}


def measure(sizes: list[int], words_per_cue: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        ingest(folder / "warm-up", write_vtt(folder / "warm-up.vtt", 12, words_per_cue))
        rows = []
        for cues in sizes:
            source = write_vtt(folder / f"cues-{cues}.vtt", cues, words_per_cue)
            rows.append({"cues": cues, **ingest(folder / f"archive-{cues}", source)})
            print(f"  {cues} cues: {rows[-1]}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cues", type=int, nargs="+", default=[12, 10_000, 100_000])
    parser.add_argument("--words-per-cue", type=int, default=4)
    args = parser.parse_args()
    configure_environment()
    rows = measure(sorted(args.cues), args.words_per_cue)
    write_report("bench_memory", {"words_per_cue": args.words_per_cue, "rows": rows})
    base = rows[0]["peak_mib"]
    print(f"\n{'cues':>8} {'chunks':>7} {'peak MiB':>9} {'above ' + str(rows[0]['cues']) + ' cues':>15} {'time s':>7}")
    for row in rows:
        print(f"{row['cues']:8d} {row['chunks']:7d} {row['peak_mib']:9.0f} {row['peak_mib'] - base:+15.0f} "
              f"{row['seconds']:7.1f}")
    print(f"largest / smallest peak: {rows[-1]['peak_mib'] / base:.2f}x for {rows[-1]['cues'] / rows[0]['cues']:.0f}x "
          "the cues")


if __name__ == "__main__":
    main()
