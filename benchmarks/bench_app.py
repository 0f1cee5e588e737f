"""How the Streamlit app feels on real archives: its start, its searches, the reader on long interviews.

    python benchmarks/bench_app.py start [--archive DIR] [--runs 3]
    python benchmarks/bench_app.py reader [--archive DIR] [--runs 5] [--queries N] [--label now]
        [--app-root DIR] [--paragraph-selector CSS] [--hit-selector CSS] [--baseline FILE]
    python benchmarks/bench_app.py media --baseline-root DIR [--media-hours 3]

The archive (start, reader): --archive DIR (default benchmarks/out/corpus-archive, the 509-episode archive) is used
as it is when it holds anything, else built as bench_search.py builds it (all transcripts of --corpus, default
../shared/data/podcasts/talkpython; ~11 min on 2 cores). The questions: benchmarks/data/search_eval.jsonl. Every
process runs with XDG_CACHE_HOME=benchmarks/out/cache and without ONRECORD_* variables; an app's log goes to
benchmarks/out/bench_app-<part>-<label>-server.log.

start: cold start, from launching `onrecord ui` to the library page rendered in Chromium (process start included),
  median of --runs; then the search interaction's server time: in a warm app (streamlit.testing AppTest, in this
  process), the script run that follows typing a query on the Search page, over the questions (p50, p95).

reader: against `onrecord ui` of --app-root (default this checkout; another one runs through harness.checkout(),
  first on PYTHONPATH, so this checkout's editable install does not stand in for it), in headless Chromium:
  - open: from `page.goto(/interview?id=<a 3-hour interview>)` to the first transcript paragraph visible
    (--paragraph-selector; Playwright's CSS pierces open shadow roots), after one untimed open; median and max
    over --runs. Target <= 1.5 s. The 3-hour interview, benchmarks/out/three-hour-interview.vtt: the cues of the
    three shortest episodes lasting at least an hour, one after the other, ingested once into the archive.
  - search: on a freshly loaded /search whose first script run has finished, from pressing Enter in the box
    labelled "What was said?" to the first hit visible (--hit-selector), over the questions (--queries N: the
    first N), after one untimed search; median and p90. Target <= 500 ms.
  - deep link: from `page.goto(/search?q=<question>)` to the first hit visible; median and p90. An app without
    deep links shows no hit: that is recorded once (after --deep-link-timeout s) and not retried.
  Baseline side by side: run once against a checkout of the baseline with its selectors, then the current app
  with --baseline pointing at that run's JSON; the second prints metric | baseline | now | ratio (now / baseline):
      git worktree add /tmp/reader-base 7c64758
      python benchmarks/bench_app.py reader --label baseline --app-root /tmp/reader-base \\
          --paragraph-selector .st-key-seg-0 --hit-selector .st-key-hit-0
      python benchmarks/bench_app.py reader --baseline benchmarks/out/bench_app-reader-baseline.json
  Writes benchmarks/out/bench_app-reader-<label>.json and bench_app-reader.json (with the baseline and ratios).

media: `onrecord ui` of --baseline-root (a checkout of the baseline, e.g. `git worktree add /tmp/base 486bbe3`)
  and of this checkout, each opening /interview on a short transcript whose recording is a --media-hours long WAV
  (8 kHz mono, 173 MB for 3 hours), in Chromium: seconds to the first paragraph and the player ready, and the
  server process's bytes read (/proc/PID/io rchar) and peak memory (VmHWM) across the open. The archive is made
  by the baseline, then `migrate`d by this checkout. Writes benchmarks/out/bench_app-media.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
import urllib.parse
import wave
from functools import partial
from pathlib import Path

from harness import (
    CHROMIUM_ARGS, CORPUS_ARCHIVE, DEFAULT_CORPUS, OUT, ROOT, Checkout, app_server, checkout, chromium,
    configure_environment, ensure_corpus_archive, join_episodes, list_interviews, load_average, onrecord, percentile,
    print_table, process_io, questions, require_dir, run, summary_ms, vtt_stamp, write_report)

THREE_HOURS = OUT / "three-hour-interview.vtt"
THREE_HOURS_TITLE = "Three-hour interview"
SEARCH_LABEL = "What was said?"
WARM_TIMEOUT_MS = 300_000  # the first open or search of a fresh app may load models or build the keyword index
TIMED_TIMEOUT_MS = 60_000
TARGET_OPEN_S = 1.5
TARGET_SEARCH_MS = 500.0
TARGET_COLD_S = 15.0


def browser(playwright):
    return playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)


# ---------------------------------------------------------------- start: cold start, search interaction

def cold_start(archive: Path, log: Path) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chrome = browser(p)
        try:
            page = chrome.new_page()
            began = time.perf_counter()
            with app_server(archive, log) as (url, _):
                page.goto(f"{url}/", timeout=120_000)
                page.get_by_text("interview(s)").wait_for(timeout=120_000)
                return time.perf_counter() - began
        finally:
            chrome.close()


def search_interactions(archive: Path, queries: list[str]) -> list[float]:
    from streamlit.testing.v1 import AppTest

    os.environ["ONRECORD_ARCHIVE"] = str(archive)
    at = AppTest.from_file(str(ROOT / "ui" / "app" / "main.py"), default_timeout=300).run()
    at.switch_page("views/search.py").run()
    at.text_input(key="search_query").set_value(queries[0]).run()  # warm: models, keyword index
    times = []
    for query in queries:
        began = time.perf_counter()
        at.text_input(key="search_query").set_value(query).run()
        times.append((time.perf_counter() - began) * 1000)
        assert not at.exception, at.exception
    return times


def start_command(args: argparse.Namespace) -> None:
    archive = args.archive.resolve()
    ensure_corpus_archive(archive, args.corpus)
    colds = [cold_start(archive, OUT / "bench_app-start-server.log") for _ in range(args.runs)]
    searches = summary_ms(search_interactions(archive, [q["question"] for q in questions()]))
    report = {"archive": str(archive), "load_average": load_average(),
              "cold_start_s": {"runs": [round(c, 2) for c in colds], "median": round(statistics.median(colds), 2),
                               "target": TARGET_COLD_S},
              "search_server_ms": {"queries": searches["n"], "p50": round(searches["p50"]),
                                   "p95": round(searches["p95"]), "target_p50": TARGET_SEARCH_MS}}
    print(f"onrecord app on {archive}")
    print(f"  cold start to rendered library   median {report['cold_start_s']['median']:6.2f} s   "
          f"runs {report['cold_start_s']['runs']}   target <= {TARGET_COLD_S:g} s")
    print(f"  search interaction (server)      p50 {report['search_server_ms']['p50']:5d} ms   "
          f"p95 {report['search_server_ms']['p95']:5d} ms over {searches['n']} queries   "
          f"target <= {TARGET_SEARCH_MS:g} ms")
    print(f"  load average {report['load_average']}")
    write_report("bench_app", report)


# ---------------------------------------------------------------- reader: the archive and its 3-hour interview

def three_hour_episodes(corpus: Path) -> list[Path]:
    """The three shortest episodes lasting at least an hour."""
    from onrecord.ingest.captions import parse_vtt

    ends = {f: parse_vtt(f.read_text(), f.stem).segments for f in sorted(corpus.glob("*.vtt"))}
    return [f for _, f in sorted((s[-1].end, f) for f, s in ends.items() if s and s[-1].end >= 3600)[:3]]


def prepare_archive(archive: Path, corpus: Path) -> dict:
    """The archive (built when empty) with the 3-hour interview in it; what it holds."""
    built = ensure_corpus_archive(archive, corpus)
    if not THREE_HOURS.exists():
        print(f"joining three episodes into {THREE_HOURS} ...", flush=True)
        join_episodes(three_hour_episodes(require_dir(corpus, "the podcast corpus", "--corpus")), THREE_HOURS)
    interviews = list_interviews(archive)
    if not any(Path(i["source"]).name == THREE_HOURS.name for i in interviews):
        print(f"ingesting {THREE_HOURS.name} ...", flush=True)
        run(onrecord("--archive", str(archive), "ingest", str(THREE_HOURS), "--title", THREE_HOURS_TITLE, "--json"))
        interviews = list_interviews(archive)
    long_one = next(i for i in interviews if Path(i["source"]).name == THREE_HOURS.name)
    return {"folder": str(archive), "interviews": len(interviews), "chunks": sum(i["chunks"] for i in interviews),
            "built": built, "three_hours": {k: long_one[k] for k in ("id", "title", "duration", "segments", "chunks")}}


# ---------------------------------------------------------------- reader: the measurements

def seconds_until_visible(page, selector: str, timeout_ms: int, action) -> float:
    """Seconds from calling `action` to the first element matching `selector` being visible."""
    began = time.perf_counter()
    action()
    page.locator(selector).first.wait_for(state="visible", timeout=timeout_ms)
    return time.perf_counter() - began


def measure_open(page, url: str, interview: dict, selector: str, runs: int) -> dict:
    link = f"{url}/interview?id={interview['id']}"
    warm = seconds_until_visible(page, selector, WARM_TIMEOUT_MS, partial(page.goto, link))
    page.get_by_text(interview["title"]).first.wait_for(state="visible", timeout=TIMED_TIMEOUT_MS)  # ?id= honoured
    times = []
    for _ in range(runs):
        page.goto("about:blank")
        times.append(seconds_until_visible(page, selector, TIMED_TIMEOUT_MS, partial(page.goto, link)))
    return {"warm_s": round(warm, 3), "runs_s": [round(t, 3) for t in times],
            "median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}


def search_once(page, url: str, query: str, selector: str, timeout_ms: int) -> float:
    """A fresh /search, once its script run has finished (Streamlit marks its root): Enter to the first hit."""
    page.goto(f"{url}/search")
    box = page.get_by_label(SEARCH_LABEL)
    box.wait_for(state="visible", timeout=WARM_TIMEOUT_MS)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        state="attached", timeout=WARM_TIMEOUT_MS)
    box.fill(query)
    return seconds_until_visible(page, selector, timeout_ms, partial(box.press, "Enter"))


def measure_search(page, url: str, queries: list[str], selector: str) -> dict:
    warm = search_once(page, url, queries[0], selector, WARM_TIMEOUT_MS)
    times = [search_once(page, url, q, selector, TIMED_TIMEOUT_MS) * 1000 for q in queries]
    return {"warm_ms": round(warm * 1000, 1), **spread_ms(times)}


def measure_deep_link(page, url: str, queries: list[str], selector: str, timeout_s: float) -> dict:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    times = []
    for query in queries:
        link = f"{url}/search?q={urllib.parse.quote(query)}"
        page.goto("about:blank")
        try:
            times.append(seconds_until_visible(page, selector, int(timeout_s * 1000), partial(page.goto, link)) * 1000)
        except PlaywrightTimeout:
            if not times:
                return {"supported": False, "note": f"no hit within {timeout_s:g} s of opening /search?q=<question>"}
            raise
    return {"supported": True, **spread_ms(times)}


def spread_ms(values: list[float]) -> dict:
    return {"n": len(values), "median_ms": round(statistics.median(values), 1),
            "p90_ms": round(percentile(values, 90), 1), "max_ms": round(max(values), 1),
            "runs_ms": [round(v, 1) for v in values]}


def measure_reader(args: argparse.Namespace, code: Checkout, archive: dict, queries: list[str]) -> dict:
    from playwright.sync_api import sync_playwright

    log = OUT / f"bench_app-reader-{args.label}-server.log"
    with app_server(Path(archive["folder"]), log, code) as (url, _), sync_playwright() as p:
        chrome = browser(p)
        try:
            page = chrome.new_page()
            print(f"[{args.label}] opening the 3-hour interview, {args.runs} runs ...", flush=True)
            opened = measure_open(page, url, archive["three_hours"], args.paragraph_selector, args.runs)
            print(f"[{args.label}] search, {len(queries)} queries ...", flush=True)
            searched = measure_search(page, url, queries, args.hit_selector)
            print(f"[{args.label}] deep links, {len(queries)} queries ...", flush=True)
            linked = measure_deep_link(page, url, queries, args.hit_selector, args.deep_link_timeout)
        finally:
            chrome.close()
    return {"open": opened, "search": searched, "deep_link": linked}


# ---------------------------------------------------------------- reader: report

METRICS = [  # (label, section, key, unit, target)
    ("open 3-hour interview, median", "open", "median_s", "s", TARGET_OPEN_S),
    ("open 3-hour interview, max", "open", "max_s", "s", TARGET_OPEN_S),
    ("search Enter -> first hit, median", "search", "median_ms", "ms", TARGET_SEARCH_MS),
    ("search Enter -> first hit, p90", "search", "p90_ms", "ms", TARGET_SEARCH_MS),
    ("deep link /search?q= -> first hit, median", "deep_link", "median_ms", "ms", None),
    ("deep link /search?q= -> first hit, p90", "deep_link", "p90_ms", "ms", None),
]


def value(result: dict | None, section: str, key: str) -> float | None:
    return (result or {}).get(section, {}).get(key)


def shown(v: float | None, unit: str) -> str:
    if v is None:
        return "n/a"
    return f"{v:.2f} s" if unit == "s" else f"{v:.0f} ms"


def ratios(now: dict, base: dict) -> dict:
    return {f"{section}.{key}": round(value(now, section, key) / value(base, section, key), 2)
            for _, section, key, _, _ in METRICS if value(now, section, key) and value(base, section, key)}


def print_reader(now: dict, base: dict | None) -> None:
    a = now["archive"]
    print(f"\nonrecord reader benchmark - {os.cpu_count()} CPUs, load average {now['load_before']} before, "
          f"{now['load_after']} after")
    print(f"archive: {a['folder']} ({a['interviews']} interviews, {a['chunks']} chunks); 3-hour interview "
          f"{a['three_hours']['id']} ({a['three_hours']['duration'] / 3600:.2f} h, {a['three_hours']['segments']} "
          f"segments)")
    for r in filter(None, [base, now]):
        print(f"  {r['label']}: {r['app_root']} at {r['commit']}; paragraph {r['selectors']['paragraph']}, "
              f"hit {r['selectors']['hit']}; {r['search']['n']} queries")
    header = ["metric", *(["baseline"] if base else []), now["label"], *(["ratio"] if base else []), "target"]
    rows = []
    for label, section, key, unit, target in METRICS:
        v, b = value(now, section, key), value(base, section, key)
        verdict = "" if target is None else f"<= {shown(target, unit)}: {'PASS' if v and v <= target else 'MISS'}"
        rows.append([label, *([shown(b, unit)] if base else []), shown(v, unit),
                     *([f"{v / b:.2f}x" if v and b else "n/a"] if base else []), verdict])
    print()
    print_table(header, rows, sep=" | ")
    for r in filter(None, [base, now]):
        if not r["deep_link"]["supported"]:
            print(f"  {r['label']}: deep link not supported ({r['deep_link']['note']})")


def reader_command(args: argparse.Namespace) -> None:
    code = checkout(args.app_root)
    base = json.loads(args.baseline.read_text()) if args.baseline else None
    queries = [q["question"] for q in questions()][:args.queries]
    result = {"label": args.label, "app_root": str(code.root), "commit": code.commit(), "load_before": load_average(),
              "selectors": {"paragraph": args.paragraph_selector, "hit": args.hit_selector},
              "archive": prepare_archive(args.archive.resolve(), args.corpus)}
    result |= measure_reader(args, code, result["archive"], queries)
    result["load_after"] = load_average()
    print_reader(result, base)
    mine = write_report(f"bench_app-reader-{args.label}", result)
    compared = {"baseline": base, "ratios": ratios(result, base)} if base else {}
    both = write_report("bench_app-reader", result | compared)
    print(f"\nwritten: {mine}, {both}")


# ---------------------------------------------------------------- media: the reader on a long recording

def long_wav(path: Path, hours: float) -> Path:
    """Silence, 8 kHz mono 16-bit: written in blocks, never held whole."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        block = bytes(2 * 8000 * 60)
        for _ in range(int(hours * 60)):
            w.writeframes(block)
    return path


def open_media(code: Checkout, archive: Path, interview_id: str, label: str) -> dict:
    from playwright.sync_api import sync_playwright

    log = OUT / f"bench_app-media-{label}-server.log"
    with app_server(archive, log, code) as (url, pid), sync_playwright() as p:
        chrome = browser(p)
        page = chrome.new_page()
        page.set_default_timeout(300_000)
        page.goto(f"{url}/")  # the first run of the app: models and archive opened, not counted
        page.get_by_text("Library").first.wait_for()
        before = process_io(pid)
        began = time.perf_counter()
        page.goto(f"{url}/interview?id={interview_id}&t=3600")
        page.locator(".or-para").first.wait_for()
        page.wait_for_function("() => { const m = document.querySelector('audio'); return m && m.readyState >= 1 }")
        opened = time.perf_counter() - began
        src = page.evaluate("() => document.querySelector('audio').currentSrc")
        page.wait_for_timeout(2000)  # what the player fetches once it is cued
        after = process_io(pid)
        chrome.close()
    return {"open_s": round(opened, 2), "server_bytes_read_mb": round((after["rchar"] - before["rchar"]) / 2**20, 1),
            "server_peak_rss_mb": round(after["hwm_kb"] / 1024, 1),
            "server_rss_growth_mb": round((after["rss_kb"] - before["rss_kb"]) / 1024, 1),
            "player_src": src[:60]}


def media_archive(base: Checkout, folder: Path, hours: float) -> tuple[Path, str, Path]:
    """An archive made by the baseline: a transcript of `hours`, its recording a long WAV; its id."""
    vtt = folder / "talk.vtt"
    vtt.write_text("WEBVTT\n\n" + "".join(f"{vtt_stamp(60.0 * n)} --> {vtt_stamp(60.0 * n + 50)}\n"
                                          f"Minute {n} of the talk.\n\n" for n in range(int(hours * 60))))
    media, archive = long_wav(folder / "talk.wav", hours), folder / "archive"
    base.run("--archive", str(archive), "ingest", str(vtt))
    interview_id = json.loads(base.run("--archive", str(archive), "list", "--json")[1].stdout)[0]["id"]
    attach = (f"import dataclasses, sys; from {base.package}search.config import Settings; "
              f"from {base.package}search.store import open_archive; "
              "a = open_archive(Settings(archive=sys.argv[1])); i = a.get(sys.argv[2]); "
              "a.commit(dataclasses.replace(i, media=sys.argv[3], duration=float(sys.argv[4])))")
    run([sys.executable, "-c", attach, str(archive), interview_id, str(media), str(hours * 3600)], env=base.env(),
        cwd=base.cwd)
    return archive, interview_id, media


def media_command(args: argparse.Namespace) -> None:
    folder = OUT / "bench_app-media"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    now, base = Checkout(ROOT), checkout(args.baseline_root)
    archive, interview_id, media = media_archive(base, folder, args.media_hours)
    before = open_media(base, archive, interview_id, "before")
    now.run("--archive", str(archive), "migrate")
    after = open_media(now, archive, interview_id, "after")
    report = {"media_mb": round(media.stat().st_size / 2**20, 1), "baseline": base.commit(), "before": before,
              "after": after}
    rows = [[k.replace("_", " "), before[k], after[k]]
            for k in ("open_s", "server_bytes_read_mb", "server_peak_rss_mb", "server_rss_growth_mb", "player_src")]
    print_table(["metric", "before", "after"], rows, f"reader on a {report['media_mb']} MB recording", sep=" | ")
    print(f"\nwritten: {write_report('bench_app-media', report)}")


# ---------------------------------------------------------------- main

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = parser.add_subparsers(dest="part", required=True)
    start = parts.add_parser("start", help="cold start to rendered library; search interaction (server time)")
    reader = parts.add_parser("reader", help="open a 3-hour interview, search, deep links, in Chromium")
    for sub in (start, reader):
        sub.add_argument("--archive", type=Path, default=CORPUS_ARCHIVE, help="archive folder")
        sub.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the talkpython WebVTT folder")
    start.add_argument("--runs", type=int, default=3, help="cold starts (default 3)")
    reader.add_argument("--runs", type=int, default=5, help="timed opens of the 3-hour interview")
    reader.add_argument("--queries", type=int, metavar="N", help="only the first N eval questions")
    reader.add_argument("--app-root", type=Path, default=ROOT, help="the checkout whose app is measured")
    reader.add_argument("--paragraph-selector", default=".or-para", help="a transcript paragraph (CSS)")
    reader.add_argument("--hit-selector", default=".st-key-hit-0", help="the first search hit (CSS)")
    reader.add_argument("--deep-link-timeout", type=float, default=20.0, help="seconds to wait for a deep link's hit")
    reader.add_argument("--label", default="now", help="this run's name in the table and its JSON file")
    reader.add_argument("--baseline", type=Path, help="an earlier run's JSON, printed beside this one with ratios")
    media = parts.add_parser("media", help="open a long recording's reader: the server's bytes read and memory")
    media.add_argument("--baseline-root", type=Path, required=True, help="a checkout of the baseline")
    media.add_argument("--media-hours", type=float, default=3.0, help="the recording's length (default 3)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    configure_environment()
    OUT.mkdir(parents=True, exist_ok=True)
    {"start": start_command, "reader": reader_command, "media": media_command}[args.part](args)


if __name__ == "__main__":
    main()
