"""How fast the interview reader answers in Chromium, on the 509-episode archive plus one 3-hour interview.

    python benchmarks/bench_reader.py [--archive DIR] [--runs 5] [--queries N] [--label now]
        [--app-root DIR] [--paragraph-selector CSS] [--hit-selector CSS] [--baseline FILE]

Against a running `onrecord ui` (`onrecord --archive DIR ui --port P`, started from --app-root, default this
checkout), in headless Chromium driven by Playwright:
- open: from `page.goto(/interview?id=<the 3-hour interview>)` to the first transcript paragraph visible
  (--paragraph-selector, default .or-para; Playwright's CSS pierces open shadow roots), after one untimed open;
  median and max over --runs. Target <= 1.5 s.
- search: on a freshly loaded /search whose first script run has finished, from pressing Enter in the box
  labelled "What was said?" to the first hit visible (--hit-selector, default .st-key-hit-0), over the questions
  of benchmarks/data/search_eval.jsonl (the ones bench_search.py and bench_app.py use; --queries N: the first N),
  after one untimed search that loads the models and the keyword index; median and p90. Target <= 500 ms.
- deep link: from `page.goto(/search?q=<question>)` to the first hit visible, same questions; median and p90.
  An app without deep links shows no hit: that is recorded once (after --deep-link-timeout s) and not retried.

The archive: --archive DIR (default benchmarks/out/corpus-archive) is used as it is when it holds anything, else
built as bench_search.py builds it (all 509 transcripts of ../shared/data/podcasts/talkpython; ~11 min on
2 cores). Into it goes one 3-hour interview, benchmarks/out/three-hour-interview.vtt: the cues of the three
shortest episodes lasting at least an hour, one after the other, each shifted to start 1 s after the previous
ends, ingested once with `onrecord --archive DIR ingest <vtt> --title "Three-hour interview"`.

Baseline side by side: run once against a checkout of the baseline with its selectors, then the current app
with --baseline pointing at that run's JSON; the second prints metric | baseline | now | ratio (now / baseline):
    git worktree add /tmp/reader-base 7c64758
    python benchmarks/bench_reader.py --label baseline --app-root /tmp/reader-base \\
        --paragraph-selector .st-key-seg-0 --hit-selector .st-key-hit-0
    python benchmarks/bench_reader.py --baseline benchmarks/out/bench_reader-baseline.json
Each run writes benchmarks/out/bench_reader-<label>.json and benchmarks/out/bench_reader.json (the run, with
the baseline and the ratios when --baseline is given); the app's log goes to bench_reader-<label>-server.log.
Every process runs with XDG_CACHE_HOME=benchmarks/out/cache and without ONRECORD_* variables.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from bench_app import CHROMIUM_ARGS, _wait_healthy  # noqa: E402 - benchmarks/ is on sys.path
from bench_search import (
    DEFAULT_ARCHIVE, build_archive, has_content, list_interviews, load_average, load_questions, run)
from common import DEFAULT_CORPUS, OUT, ROOT, chromium, configure_environment, onrecord, percentile, require_dir

THREE_HOURS = OUT / "three-hour-interview.vtt"
THREE_HOURS_TITLE = "Three-hour interview"
SEARCH_LABEL = "What was said?"
WARM_TIMEOUT_MS = 300_000  # the first open or search of a fresh app may load models or build the keyword index
TIMED_TIMEOUT_MS = 60_000
TARGET_OPEN_S = 1.5
TARGET_SEARCH_MS = 500.0

CLI = [sys.executable, "-m", "onrecord.ui"]  # this checkout's onrecord, in a process of its own


# ---------------------------------------------------------------- the archive and its 3-hour interview

def join_episodes(corpus: Path, out: Path) -> list[str]:
    """Write the three shortest episodes of at least an hour as one VTT, each shifted to start 1 s after the
    previous one ends; returns their file names."""
    from onrecord.ingest.captions import parse_vtt
    from onrecord.search.timefmt import format_timestamp

    episodes = {f.name: parse_vtt(f.read_text(), f.stem).segments for f in sorted(corpus.glob("*.vtt"))}
    chosen = sorted((s[-1].end, name) for name, s in episodes.items() if s and s[-1].end >= 3600)[:3]
    lines, offset = ["WEBVTT", ""], 0.0
    for _, name in chosen:
        for cue in episodes[name]:
            stamps = (format_timestamp(t + offset, always_hours=True) for t in (cue.start, cue.end))
            lines += [" --> ".join(stamps), cue.text, ""]
        offset += episodes[name][-1].end + 1
    out.write_text("\n".join(lines))
    return [name for _, name in chosen]


def prepare_archive(archive: Path, corpus: Path) -> dict:
    """The archive (built when empty) with the 3-hour interview in it; what it holds."""
    built = None
    if not has_content(archive):
        built = build_archive(archive, require_dir(corpus, "the podcast corpus", "--corpus"), None, load_questions())
    if not THREE_HOURS.exists():
        print(f"joining three episodes into {THREE_HOURS} ...", flush=True)
        join_episodes(require_dir(corpus, "the podcast corpus", "--corpus"), THREE_HOURS)
    interviews = list_interviews(archive)
    if not any(Path(i["source"]).name == THREE_HOURS.name for i in interviews):
        print(f"ingesting {THREE_HOURS.name} ...", flush=True)
        run(onrecord("--archive", str(archive), "ingest", str(THREE_HOURS), "--title", THREE_HOURS_TITLE, "--json"))
        interviews = list_interviews(archive)
    long_one = next(i for i in interviews if Path(i["source"]).name == THREE_HOURS.name)
    return {"folder": str(archive), "interviews": len(interviews), "chunks": sum(i["chunks"] for i in interviews),
            "built": built, "three_hours": {k: long_one[k] for k in ("id", "title", "duration", "segments", "chunks")}}


# ---------------------------------------------------------------- the app under test

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_app_root(app_root: Path) -> str:
    """The checkout's commit (+dirty when it has uncommitted changes); exits unless its `ui` is the one run."""
    found = subprocess.run([sys.executable, "-c", "import onrecord.ui; print(onrecord.ui.__file__)"], cwd=app_root,
                           capture_output=True, text=True).stdout.strip()
    if not Path(found).resolve().is_relative_to(app_root):
        sys.exit(f"`python -m onrecord.ui` from {app_root} would run {found}, not that checkout's app")
    git = ["git", "-C", str(app_root)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return commit + ("+dirty" if dirty else "")


@contextmanager
def app_server(app_root: Path, archive: Path, log: Path):
    """`onrecord ui` of the checkout at app_root on a free port; its URL once healthy."""
    with app_process(app_root, archive, log) as (url, _):
        yield url


@contextmanager
def app_process(app_root: Path, archive: Path, log: Path):
    """As app_server, yielding the URL and the server's pid (to read its memory)."""
    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen([*CLI, "--archive", str(archive), "ui", "--port", str(port)],
                                  cwd=app_root, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url)
            yield url, server.pid
        finally:
            server.terminate()
            server.wait(timeout=30)


# ---------------------------------------------------------------- the measurements

def seconds_until_visible(page, selector: str, timeout_ms: int, action) -> float:
    """Seconds from calling `action` to the first element matching `selector` being visible."""
    began = time.perf_counter()
    action()
    page.locator(selector).first.wait_for(state="visible", timeout=timeout_ms)
    return time.perf_counter() - began


def wait_idle(page) -> None:
    """Until the app's script run has finished (Streamlit marks its root with the script state)."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        state="attached", timeout=WARM_TIMEOUT_MS)


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


def search_box(page, url: str):
    page.goto(f"{url}/search")
    box = page.get_by_label(SEARCH_LABEL)
    box.wait_for(state="visible", timeout=WARM_TIMEOUT_MS)
    wait_idle(page)
    return box


def search_once(page, url: str, query: str, selector: str, timeout_ms: int) -> float:
    box = search_box(page, url)
    box.fill(query)
    return seconds_until_visible(page, selector, timeout_ms, partial(box.press, "Enter"))


def measure_search(page, url: str, queries: list[str], selector: str) -> dict:
    warm = search_once(page, url, queries[0], selector, WARM_TIMEOUT_MS)
    times = [search_once(page, url, q, selector, TIMED_TIMEOUT_MS) * 1000 for q in queries]
    return {"warm_ms": round(warm * 1000, 1), **summary_ms(times)}


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
    return {"supported": True, **summary_ms(times)}


def summary_ms(values: list[float]) -> dict:
    return {"n": len(values), "median_ms": round(statistics.median(values), 1),
            "p90_ms": round(percentile(values, 90), 1), "max_ms": round(max(values), 1),
            "runs_ms": [round(v, 1) for v in values]}


def measure(args: argparse.Namespace, archive: dict, queries: list[str]) -> dict:
    from playwright.sync_api import sync_playwright

    log = OUT / f"bench_reader-{args.label}-server.log"
    with app_server(args.app_root, Path(archive["folder"]), log) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            print(f"[{args.label}] opening the 3-hour interview, {args.runs} runs ...", flush=True)
            opened = measure_open(page, url, archive["three_hours"], args.paragraph_selector, args.runs)
            print(f"[{args.label}] search, {len(queries)} queries ...", flush=True)
            searched = measure_search(page, url, queries, args.hit_selector)
            print(f"[{args.label}] deep links, {len(queries)} queries ...", flush=True)
            linked = measure_deep_link(page, url, queries, args.hit_selector, args.deep_link_timeout)
        finally:
            browser.close()
    return {"open": opened, "search": searched, "deep_link": linked}


# ---------------------------------------------------------------- report

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


def print_report(now: dict, base: dict | None) -> None:
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
        ratio = f"{v / b:.2f}x" if v and b else "n/a"
        verdict = "" if target is None else f"<= {shown(target, unit)}: {'PASS' if v and v <= target else 'MISS'}"
        rows.append([label, *([shown(b, unit)] if base else []), shown(v, unit), *([ratio] if base else []), verdict])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, *rows]:
        print("  " + " | ".join([f"{row[0]:<{widths[0]}}"] + [f"{c:>{w}}" for c, w in zip(row[1:], widths[1:])]))
    for r in filter(None, [base, now]):
        if not r["deep_link"]["supported"]:
            print(f"  {r['label']}: deep link not supported ({r['deep_link']['note']})")


# ---------------------------------------------------------------- main

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE, help="archive folder")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the talkpython WebVTT folder")
    parser.add_argument("--runs", type=int, default=5, help="timed opens of the 3-hour interview")
    parser.add_argument("--queries", type=int, metavar="N", help="only the first N eval questions")
    parser.add_argument("--app-root", type=Path, default=ROOT, help="the checkout whose app is measured")
    parser.add_argument("--paragraph-selector", default=".or-para", help="a transcript paragraph (CSS)")
    parser.add_argument("--hit-selector", default=".st-key-hit-0", help="the first search hit (CSS)")
    parser.add_argument("--deep-link-timeout", type=float, default=20.0, help="seconds to wait for a deep link's hit")
    parser.add_argument("--label", default="now", help="this run's name in the table and its JSON file")
    parser.add_argument("--baseline", type=Path, help="an earlier run's JSON, printed beside this one with ratios")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    args.app_root = args.app_root.resolve()
    configure_environment()
    OUT.mkdir(parents=True, exist_ok=True)
    base = json.loads(args.baseline.read_text()) if args.baseline else None
    commit = check_app_root(args.app_root)
    queries = [q["question"] for q in load_questions()][:args.queries]
    result = {"label": args.label, "app_root": str(args.app_root), "commit": commit, "load_before": load_average(),
              "selectors": {"paragraph": args.paragraph_selector, "hit": args.hit_selector},
              "archive": prepare_archive(args.archive.resolve(), args.corpus)}
    result |= measure(args, result["archive"], queries)
    result["load_after"] = load_average()
    print_report(result, base)
    (OUT / f"bench_reader-{args.label}.json").write_text(json.dumps(result, indent=2) + "\n")
    report = result | ({"baseline": base, "ratios": ratios(result, base)} if base else {})
    (OUT / "bench_reader.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {OUT / f'bench_reader-{args.label}.json'}, {OUT / 'bench_reader.json'}")


if __name__ == "__main__":
    main()
