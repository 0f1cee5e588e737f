"""How search does in languages other than English, in each mode, with the bundled embedder (all-MiniLM-L6-v2).

    python benchmarks/bench_languages.py [--root DIR] [--label now] [--baseline FILE]

The archive: the Russian, German and Spanish interviews of tests/data/languages plus the English gardening
sample, ingested afresh into benchmarks/out/languages-<label>/ by the onrecord of --root (default this checkout; a
`git worktree` of an older commit gives the baseline, run through harness.checkout(): first on PYTHONPATH, so this
checkout's editable install does not stand in for it). The questions (benchmarks/data/
language_eval.jsonl) are written in each interview's language, mostly in other words than the interview's
(paraphrases), a few across languages (an English question about a Spanish interview). A question is answered
when the top hit is in its interview and covers its moment (the cue of the answer, or the question just before).

Prints, per language and mode, answered / asked; with --baseline (a previous run's JSON) side by side, with the
difference. Writes benchmarks/out/bench_languages-<label>.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections import defaultdict
from pathlib import Path

from harness import DATA, OUT, ROOT, Checkout, checkout, configure_environment, write_report

MODES = ("keyword", "semantic", "hybrid")


def cli(code: Checkout, archive: Path, *args: str):
    """`onrecord --archive ARCHIVE ARGS` with `code`, the benchmark's cache; the finished process."""
    return code.run("--archive", str(archive), *args, ok=(0, 1, 2), timeout=900)[1]


def build(code: Checkout, archive: Path) -> None:
    shutil.rmtree(archive, ignore_errors=True)
    done = cli(code, archive, "ingest", str(ROOT / "tests" / "data" / "languages"),
               str(ROOT / "samples" / "transcripts" / "gardening.vtt"))
    if done.returncode != 0:
        sys.exit(f"ingest failed: {done.stderr.strip()}")


def answered(code: Checkout, archive: Path, question: dict, mode: str) -> bool:
    done = cli(code, archive, "search", question["q"], "--mode", mode, "--limit", "1", "--json")
    if done.returncode != 0:  # e.g. "the query has no words to search for"
        return False
    hits = json.loads(done.stdout)
    if not hits:
        return False
    top = hits[0]
    lo, hi = question["moment"]
    return top["title"] == question["interview"] and top["start"] < hi and top["end"] > lo


def evaluate(code: Checkout, label: str) -> dict:
    archive = OUT / f"languages-{label}"
    build(code, archive)
    questions = [json.loads(line) for line in (DATA / "language_eval.jsonl").read_text().splitlines() if line.strip()]
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: {m: [0, 0] for m in MODES})
    for question in questions:
        for mode in MODES:
            cell = table[question["lang"]][mode]
            cell[0] += answered(code, archive, question, mode)
            cell[1] += 1
    return {"label": label, "root": str(code.root), "commit": code.commit(), "table": table}


def show(result: dict, baseline: dict | None) -> None:
    head = f"{'questions':<14}" + "".join(f"{m:>22}" for m in MODES)
    print(head)
    for lang, row in result["table"].items():
        cells = []
        for mode in MODES:
            got, asked = row[mode]
            text = f"{got}/{asked}"
            if baseline and lang in baseline["table"]:
                was = baseline["table"][lang][mode][0]
                text = f"{was}/{asked} -> {got}/{asked}"
            cells.append(f"{text:>22}")
        print(f"{lang:<14}" + "".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose onrecord runs")
    parser.add_argument("--label", default="now")
    parser.add_argument("--baseline", type=Path, help="a previous run's JSON, shown side by side")
    args = parser.parse_args()
    configure_environment()
    result = evaluate(checkout(args.root), args.label)
    write_report(f"bench_languages-{args.label}", result)
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    if baseline:
        print(f"baseline: {baseline['root']} ({baseline['label']}) -> now: {result['root']} ({result['label']})")
    show(result, baseline)


if __name__ == "__main__":
    main()
