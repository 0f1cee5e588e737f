"""Benchmark onrecord answers and summaries: are the quotes right, are they verbatim, and how long do they take.

1. Archive. The bundled samples (samples/: four recordings, two caption files) are ingested once into
   benchmarks/out/samples-archive with `onrecord --archive DIR ingest samples --json`; a later run reuses it
   when it holds every sample. Every process runs with XDG_CACHE_HOME=benchmarks/out/cache and without
   ONRECORD_* variables.

2. Quality on the samples. benchmarks/data/answer_eval.jsonl holds listener questions, each with the interview
   (title) and the [start, end] seconds of the passage that answers it. Every question goes through
   Answerer.ask built the way the CLI builds it: extractive (no LLM settings) and, unless --skip-llm, LLM mode
   against a real llama.cpp server serving SmolLM2-135M-Instruct on loopback (tests/llm_servers.llama_server).
   Reported per mode: answers returned; first-quote hit rate (the answer's FIRST quote is from the right
   interview and overlaps the gold window widened by SAMPLE_SLACK_S each side); mean quotes per answer; for the
   LLM mode, how many answers stayed "llm" and how many fell back to extractive, with their notices counted.
   Crucially, every quote of every answer is re-checked here, independently of onrecord's own checker: its
   normalized words (search.text.words) must occur contiguously in the interview's transcript (read back with
   archive.segments) and 0 <= start < end <= duration + DURATION_TOLERANCE_S. The verified share must be 100%.
   A second, stricter check is reported beside it: the quote's times fall inside the segments holding the
   words it quotes (within TIME_TOLERANCE_S).

3. Quality on the corpus. With --corpus-archive DIR (an archive of the talkpython corpus;
   benchmarks/out/corpus-archive is used by default when it exists and holds the whole corpus), the first
   --corpus-questions N (default 30) questions of benchmarks/data/search_eval.jsonl are asked the same way,
   both modes, and scored the same way with the gold window widened by CORPUS_SLACK_S. Questions whose episode
   is not in that archive are skipped and counted. Episode file -> interview id comes from `onrecord list
   --json` (an interview's "source" ends with its file name).

4. Timing, per mode, in one warm process (one warm-up question first, not counted): for each question, the
   time to the first retrieved quote (Searcher.search with the same question and limit that ask uses, timed
   on its own just before the ask: the retrieval that ask starts with) and the time to the full answer (ask).
   Medians and p95, in milliseconds.

5. Summary time. Summarizer.summarize(ref, refresh=True), extractive, on SUMMARY_EPISODES corpus episodes of
   45-75 minutes, spread over that range by duration (from the corpus archive's `onrecord list --json`; with no
   corpus archive, that many such episodes are first ingested into a temporary archive, picked by the end time
   of their last caption). Reported: seconds per hour of audio (target <= 20 s/h), topics per episode, and
   whether every summary quote verifies. Unless --skip-llm, one LLM summary (of the shortest of them) is timed.

Run from the repository root, venv active:
    python benchmarks/bench_answers.py [--corpus-archive DIR] [--skip-llm] [--corpus-questions N]
The report is printed and written as JSON to benchmarks/out/bench_answers.json.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness import (
    CACHE, CORPUS_ARCHIVE, DATA, DEFAULT_CORPUS, EVAL, OUT, ROOT, configure_environment, episode_ids, json_lines,
    list_interviews, load_average, load_jsonl, onrecord, require_dir, run, summary_ms, table_lines, timed, write_report)

SAMPLES = ROOT / "samples"
SAMPLES_ARCHIVE = OUT / "samples-archive"
ANSWER_EVAL = DATA / "answer_eval.jsonl"
sys.path.insert(0, str(ROOT / "tests"))  # llm_servers: the real llama.cpp server the tests use

SAMPLE_TITLES = ("rockets-interview", "coffee-interview", "packaging-talk", "city-bikes", "gardening",
                 "chess-podcast")
SAMPLE_SLACK_S = 2.0
CORPUS_SLACK_S = 5.0
DURATION_TOLERANCE_S = 0.5  # caption and ASR end times may run a hair past the probed duration
TIME_TOLERANCE_S = 1.0
LLM_MODEL = "smollm2"
SUMMARY_EPISODES = 5
SUMMARY_MINUTES = (45, 75)
TARGET_SUMMARY_S_PER_HOUR = 20.0
WARMUP_QUESTION = "what is this interview about?"


# ---------------------------------------------------------------- archives

def ingest(archive: Path, source: Path) -> float:
    print(f"ingesting {source} into {archive} ...", flush=True)
    seconds, proc = run(onrecord("--archive", str(archive), "ingest", str(source), "--json"), ok=(0, 1))
    failed = [r for r in json_lines(proc.stdout) if r["status"] == "failed"]
    if failed:
        print(f"  {len(failed)} failed: {failed[:3]}", flush=True)
    return seconds


def samples_archive() -> tuple[Path, dict]:
    """benchmarks/out/samples-archive, built unless it already holds every sample."""
    have = {i["title"] for i in list_interviews(SAMPLES_ARCHIVE)} if SAMPLES_ARCHIVE.is_dir() else set()
    if set(SAMPLE_TITLES) <= have:
        return SAMPLES_ARCHIVE, {"reused": True}
    shutil.rmtree(SAMPLES_ARCHIVE, ignore_errors=True)
    seconds = ingest(SAMPLES_ARCHIVE, SAMPLES)
    return SAMPLES_ARCHIVE, {"reused": False, "ingest_seconds": round(seconds, 1)}


def corpus_archive(requested: Path | None, corpus: Path) -> Path | None:
    """The archive given, else the default one when it holds the whole corpus, else None."""
    if requested is not None:
        if not requested.is_dir():
            sys.exit(f"no archive at {requested}")
        return requested
    if CORPUS_ARCHIVE.is_dir():
        if len(list_interviews(CORPUS_ARCHIVE)) >= len(list(corpus.glob("*.vtt"))):
            return CORPUS_ARCHIVE
        print(f"note: {CORPUS_ARCHIVE} is incomplete; the corpus part is skipped", flush=True)
    return None


# ---------------------------------------------------------------- onrecord services, as the CLI builds them

def services(archive: Path, llm_url: str | None = None):
    """The answerer and the summarizer, built as the CLI builds them (onrecord.Onrecord)."""
    from onrecord import Onrecord
    from onrecord.search.config import Settings

    llm = {"llm_base_url": llm_url, "llm_model": LLM_MODEL} if llm_url else {}
    lib = Onrecord(Settings(archive=archive, cache_dir=CACHE / "onrecord", **llm))
    return lib.answerer(), lib.summarizer()


# ---------------------------------------------------------------- the independent quote check

@dataclass
class _Transcript:
    tokens: list[str]
    segment_of: list[int]  # token -> segment index
    spans: list[tuple[float, float]]  # segment index -> (start, end)
    duration: float


class QuoteChecker:
    """Re-checks shown quotes against the stored transcript, without onrecord's own quote matcher."""

    def __init__(self, archive):
        self.archive = archive
        self._cache: dict[str, _Transcript] = {}

    def transcript(self, interview_id: str) -> _Transcript:
        if interview_id not in self._cache:
            from onrecord.search.retrieval.text import words

            interview = self.archive.get(interview_id)
            tokens, segment_of, spans = [], [], []
            for n, segment in enumerate(self.archive.segments(interview)):
                found = words(segment.text)
                tokens += found
                segment_of += [n] * len(found)
                spans.append((segment.start, segment.end))
            self._cache[interview_id] = _Transcript(tokens, segment_of, spans, interview.duration)
        return self._cache[interview_id]

    def check(self, quote) -> dict:
        """verbatim: words contiguous + times sane (the required check); timed: inside the words' segments."""
        from onrecord.search.retrieval.text import words

        t = self.transcript(quote.interview_id)
        wanted = words(quote.text)
        n = len(wanted)
        places = [i for i in range(len(t.tokens) - n + 1) if wanted and t.tokens[i:i + n] == wanted]
        times_ok = 0 <= quote.start < quote.end <= t.duration + DURATION_TOLERANCE_S
        timed = any(t.spans[t.segment_of[i]][0] - TIME_TOLERANCE_S <= quote.start
                    and quote.end <= t.spans[t.segment_of[i + n - 1]][1] + TIME_TOLERANCE_S for i in places)
        return {"verbatim": bool(places) and times_ok, "words_found": bool(places), "times_ok": times_ok,
                "timed": bool(places) and times_ok and timed}


# ---------------------------------------------------------------- asking, timing and scoring

@dataclass
class Gold:
    qid: str
    question: str
    interview_id: str | None  # None: not in the archive
    start: float
    end: float
    slack: float


@dataclass
class Result:
    qid: str
    mode: str
    notice: str | None
    quotes: list[dict]
    first_correct: bool
    search_ms: float
    ask_ms: float
    checks: list[dict] = field(default_factory=list)


def overlaps(quote, gold: Gold) -> bool:
    return (quote.interview_id == gold.interview_id and quote.start <= gold.end + gold.slack
            and quote.end >= gold.start - gold.slack)


def ask_all(answerer, checker: QuoteChecker, golds: list[Gold]) -> list[Result]:
    """Every question, warm: the retrieval timed on its own, then the whole ask; every quote re-checked."""
    from onrecord.search.writeups.answer import EXCERPTS

    answerer.ask(WARMUP_QUESTION)
    results = []
    for gold in golds:
        _, search_s = timed(answerer.searcher.search, gold.question, limit=EXCERPTS)
        answer, ask_s = timed(answerer.ask, gold.question)
        results.append(Result(gold.qid, answer.mode, answer.notice, [q.as_json() for q in answer.quotes],
                              bool(answer.quotes) and overlaps(answer.quotes[0], gold), search_s * 1000, ask_s * 1000,
                              [checker.check(q) for q in answer.quotes]))
    return results


def notice_kind(notice: str | None) -> str:
    return re.sub(r"\d+", "N", notice) if notice else "(none)"


def score(results: list[Result]) -> dict:
    n = len(results)
    checks = [c for r in results for c in r.checks]
    shown = len(checks)
    return {
        "questions": n,
        "answered": sum(bool(r.quotes) for r in results),
        "first_quote_hits": sum(r.first_correct for r in results),
        "first_quote_rate": sum(r.first_correct for r in results) / n if n else 0.0,
        "mean_quotes": sum(len(r.quotes) for r in results) / n if n else 0.0,
        "modes": dict(Counter(r.mode for r in results)),
        "notices": dict(Counter(notice_kind(r.notice) for r in results)),
        "quotes_shown": shown,
        "quotes_verified": sum(c["verbatim"] for c in checks),
        "verified_share": sum(c["verbatim"] for c in checks) / shown if shown else 1.0,
        "quotes_timed": sum(c["timed"] for c in checks),
        "duplicate_quotes": sum(len(r.quotes) - len({(q["interview_id"], q["start"], q["end"]) for q in r.quotes})
                                for r in results),
        "failed_quotes": [{"qid": r.qid, **q, **c} for r in results for q, c in zip(r.quotes, r.checks)
                          if not c["verbatim"] or not c["timed"]],
        "timing_ms": {"first_quote": summary_ms([r.search_ms for r in results]),
                      "full_answer": summary_ms([r.ask_ms for r in results])},
    }


def evaluate(archive: Path, golds: list[Gold], llm_url: str | None) -> dict:
    """Both modes over one question set: scores plus the per-question records."""
    scored = [g for g in golds if g.interview_id]
    modes = {"extractive": None, **({"llm": llm_url} if llm_url else {})}
    out = {"skipped": [g.qid for g in golds if not g.interview_id]}
    for name, url in modes.items():
        answerer, _ = services(archive, url)
        print(f"  asking {len(scored)} questions, {name} ...", flush=True)
        results = ask_all(answerer, QuoteChecker(answerer.archive), scored)
        out[name] = {"score": score(results), "results": [r.__dict__ for r in results]}
    return out


def sample_golds(archive: Path) -> list[Gold]:
    ids = {i["title"]: i["id"] for i in list_interviews(archive)}
    return [Gold(q["id"], q["question"], ids.get(q["title"]), q["start"], q["end"], SAMPLE_SLACK_S)
            for q in load_jsonl(ANSWER_EVAL)]


def corpus_golds(archive: Path, count: int) -> list[Gold]:
    ids = episode_ids(list_interviews(archive))
    return [Gold(q["id"], q["question"], ids.get(q["episode"]), q["start"], q["end"], CORPUS_SLACK_S)
            for q in load_jsonl(EVAL)[:count]]


# ---------------------------------------------------------------- summaries

def spread(items: list, k: int) -> list:
    """k items evenly spaced through a sorted list."""
    if len(items) <= k:
        return items
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def long_episodes(interviews: list[dict]) -> list[dict]:
    low, high = (m * 60 for m in SUMMARY_MINUTES)
    fitting = sorted((i for i in interviews if low <= i["duration"] <= high), key=lambda i: i["duration"])
    return spread(fitting, SUMMARY_EPISODES)


_CUE_END = re.compile(r"-->\s*(\d+):(\d\d):(\d\d)[.,](\d+)")


def caption_minutes(path: Path) -> float:
    ends = _CUE_END.findall(path.read_text(errors="replace")[-4000:])
    if not ends:
        return 0.0
    h, m, s, frac = ends[-1]
    return (int(h) * 3600 + int(m) * 60 + int(s) + float(f"0.{frac}")) / 60


def import_long_episodes(corpus: Path, scratch: Path) -> Path:
    """With no corpus archive: SUMMARY_EPISODES episodes of the right length, ingested into a temporary archive."""
    low, high = SUMMARY_MINUTES
    fitting = sorted((f for f in corpus.glob("*.vtt") if low + 1 <= caption_minutes(f) <= high - 1),
                     key=caption_minutes)
    folder = scratch / "episodes"
    folder.mkdir()
    for f in spread(fitting, SUMMARY_EPISODES):
        (folder / f.name).symlink_to(f)
    archive = scratch / "archive"
    ingest(archive, folder)
    return archive


def summarize_one(summarizer, checker: QuoteChecker, interview: dict) -> dict:
    run_as = "llm" if summarizer.chat else "extractive"
    start = time.perf_counter()
    summary = summarizer.summarize(interview["id"], refresh=True)
    seconds = time.perf_counter() - start
    quotes = [q for t in summary.topics for q in t.quotes]
    checks = [checker.check(q) for q in quotes]
    return {"title": interview["title"], "minutes": round(interview["duration"] / 60, 1),
            "seconds": round(seconds, 2), "s_per_hour": round(seconds / (interview["duration"] / 3600), 2),
            "run": run_as, "mode": summary.mode, "notice": summary.notice, "topics": len(summary.topics),
            "quotes": len(quotes), "quotes_verified": sum(c["verbatim"] for c in checks),
            "quotes_timed": sum(c["timed"] for c in checks)}


def summary_times(archive: Path, llm_url: str | None) -> dict:
    episodes = long_episodes(list_interviews(archive))
    answerer, summarizer = services(archive)
    checker = QuoteChecker(answerer.archive)
    summarizer.embedder.embed(["warm up"])
    print(f"  summarizing {len(episodes)} episodes, extractive ...", flush=True)
    extractive = [summarize_one(summarizer, checker, e) for e in episodes]
    hours = sum(e["minutes"] for e in extractive) / 60
    result = {"extractive": extractive,
              "s_per_hour": round(sum(e["seconds"] for e in extractive) / hours, 2) if hours else None}
    if llm_url and episodes:
        print("  summarizing one episode with the LLM ...", flush=True)
        _, llm_summarizer = services(archive, llm_url)
        result["llm"] = summarize_one(llm_summarizer, checker, min(episodes, key=lambda e: e["duration"]))
    return result


# ---------------------------------------------------------------- the report

def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def quality_lines(name: str, part: dict) -> list[str]:
    modes = [m for m in ("extractive", "llm") if m in part]
    if not modes:
        return []
    rows = [("", *modes)]
    s = {m: part[m]["score"] for m in modes}
    rows.append(("questions asked", *(str(s[m]["questions"]) for m in modes)))
    rows.append(("answers with quotes", *(str(s[m]["answered"]) for m in modes)))
    rows.append(("first quote right (window)",
                 *(f"{s[m]['first_quote_hits']}/{s[m]['questions']} = {pct(s[m]['first_quote_rate'])}" for m in modes)))
    rows.append(("mean quotes per answer", *(f"{s[m]['mean_quotes']:.2f}" for m in modes)))
    rows.append(("answer mode llm / extractive",
                 *(f"{s[m]['modes'].get('llm', 0)} / {s[m]['modes'].get('extractive', 0)}" for m in modes)))
    rows.append(("QUOTES VERIFIED (must be 100%)",
                 *(f"{s[m]['quotes_verified']}/{s[m]['quotes_shown']} = {pct(s[m]['verified_share'])}"
                   for m in modes)))
    rows.append(("quotes timed inside their words",
                 *(f"{s[m]['quotes_timed']}/{s[m]['quotes_shown']}" for m in modes)))
    rows.append(("repeated quotes within an answer", *(str(s[m]["duplicate_quotes"]) for m in modes)))
    for stat, label in (("first_quote", "first quote"), ("full_answer", "full answer")):
        rows.append((f"{label} p50 / p95 ms",
                     *(f"{s[m]['timing_ms'][stat]['p50']:.0f} / {s[m]['timing_ms'][stat]['p95']:.0f}" for m in modes)))
    lines = [f"== {name}" + (f" (skipped, episode not in archive: {len(part['skipped'])})" if part["skipped"] else "")]
    lines += table_lines(rows)
    for m in modes:
        for kind, count in sorted(s[m]["notices"].items(), key=lambda kv: -kv[1]):
            lines.append(f"  {m} notice x{count}: {kind}")
        for bad in s[m]["failed_quotes"]:
            lines.append(f"  {m} FAILED CHECK {bad['qid']}: {bad['title']} {bad['start']}-{bad['end']} "
                         f"words={bad['words_found']} times={bad['times_ok']} timed={bad['timed']}: "
                         f"{bad['text'][:80]!r}")
    return lines


def summary_lines(part: dict) -> list[str]:
    rows = [("episode", "min", "s", "s/hour", "topics", "quotes ok", "run -> mode")]
    entries = [*part["extractive"], *([part["llm"]] if "llm" in part else [])]
    for e in entries:
        rows.append((e["title"][:44], f"{e['minutes']:.0f}", f"{e['seconds']:.1f}", f"{e['s_per_hour']:.1f}",
                     str(e["topics"]), f"{e['quotes_verified']}/{e['quotes']}", f"{e['run']} -> {e['mode']}"))
    verdict = "ok" if part["s_per_hour"] is not None and part["s_per_hour"] <= TARGET_SUMMARY_S_PER_HOUR else "MISSED"
    lines = [f"== Summaries: extractive {part['s_per_hour']} s per hour of audio "
             f"(target <= {TARGET_SUMMARY_S_PER_HOUR:.0f}: {verdict})"]
    lines += table_lines(rows)
    notices = Counter((e["run"], e["notice"]) for e in entries if e["notice"])
    lines += [f"  {run} run notice x{count}: {notice}" for (run, notice), count in notices.items()]
    return lines


def verified_banner(report: dict) -> list[str]:
    parts = [(f"{name}/{mode}", report[name][mode]["score"]) for name in ("samples", "corpus")
             if report.get(name) for mode in ("extractive", "llm") if mode in report[name]]
    shown = sum(s["quotes_shown"] for _, s in parts)
    ok = sum(s["quotes_verified"] for _, s in parts)
    status = "PASS" if ok == shown else "FAIL"
    return [f"*** QUOTES VERIFIED: {ok}/{shown} = {pct(ok / shown if shown else 1.0)} [{status}] "
            f"(every quote of every answer; words contiguous in the transcript, times inside the interview) ***"]


def print_report(report: dict) -> None:
    lines = [f"onrecord answers benchmark — load average at start {report['load_start']}, "
             f"at end {report['load_end']}; {report['total_seconds']:.0f} s in all",
             f"samples archive: {report['samples_archive']}; corpus archive: {report['corpus_archive'] or 'none'}; "
             f"LLM: {'SmolLM2-135M via llama.cpp' if report['llm'] else 'skipped'}", ""]
    lines += verified_banner(report) + [""]
    lines += quality_lines(f"Samples ({SAMPLE_SLACK_S:.0f} s slack)", report["samples"]) + [""]
    if report.get("corpus"):
        lines += quality_lines(f"Corpus, first {report['corpus_questions']} search_eval questions "
                               f"({CORPUS_SLACK_S:.0f} s slack)", report["corpus"]) + [""]
    lines += summary_lines(report["summaries"])
    print("\n".join(lines))


# ---------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus-archive", type=Path, help="an archive of the talkpython corpus")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="the talkpython WebVTT folder (default: the shared folder's, beside the repository)")
    parser.add_argument("--skip-llm", action="store_true", help="extractive mode only; no llama.cpp server")
    parser.add_argument("--corpus-questions", type=int, default=30, help="how many search_eval questions to ask")
    args = parser.parse_args()
    configure_environment()
    OUT.mkdir(parents=True, exist_ok=True)
    began, report = time.perf_counter(), {"load_start": load_average(), "llm": not args.skip_llm}
    samples, report["samples_build"] = samples_archive()
    transcripts = require_dir(args.corpus, "the podcast corpus", "--corpus")
    corpus = corpus_archive(args.corpus_archive.resolve() if args.corpus_archive else None, transcripts)
    report.update(samples_archive=str(samples), corpus_archive=str(corpus) if corpus else None,
                  corpus_questions=args.corpus_questions)
    with contextlib.ExitStack() as stack:
        llm_url = None
        if not args.skip_llm:
            from llm_servers import llama_server

            print("starting llama.cpp (SmolLM2-135M) ...", flush=True)
            llm_url = stack.enter_context(llama_server(OUT / "llama-server.log"))
        print("samples:", flush=True)
        report["samples"] = evaluate(samples, sample_golds(samples), llm_url)
        if corpus:
            print("corpus:", flush=True)
            report["corpus"] = evaluate(corpus, corpus_golds(corpus, args.corpus_questions), llm_url)
        print("summaries:", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-answers-") as scratch:
            report["summaries"] = summary_times(corpus or import_long_episodes(transcripts, Path(scratch)), llm_url)
    report.update(load_end=load_average(), total_seconds=round(time.perf_counter() - began, 1))
    written = write_report("bench_answers", report)
    print()
    print_report(report)
    print(f"\nwritten to {written.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
