"""How the Streamlit app feels on a real archive.

    python benchmarks/bench_app.py [--archive DIR] [--runs 5]

- cold start: from launching `onrecord ui` to the library page rendered in Chromium (process start included);
- search interaction, server time: in a warm app (streamlit.testing AppTest, same process), the time of the
  script run that follows typing a query on the Search page, over the eval questions.
DIR defaults to benchmarks/out/corpus-archive (the 509-episode archive that bench_search.py builds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common import chromium  # noqa: E402 - benchmarks/ is on sys.path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

CLI = [sys.executable, "-m", "onrecord.ui"]  # this checkout's onrecord, in a process of its own


def cold_start(archive: Path, port: int) -> float:
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "XDG_CACHE_HOME": str(OUT / "cache")}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        began = time.perf_counter()
        server = subprocess.Popen([*CLI, "--archive", str(archive), "ui", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_healthy(f"http://127.0.0.1:{port}")
            page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
            page.get_by_text("interview(s)").wait_for(timeout=120_000)
            return time.perf_counter() - began
        finally:
            server.terminate()
            server.wait(timeout=30)
            browser.close()


def _wait_healthy(url: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("app did not start")


def search_interactions(archive: Path, queries: list[str]) -> list[float]:
    from streamlit.testing.v1 import AppTest

    os.environ["ONRECORD_ARCHIVE"] = str(archive)
    os.environ["XDG_CACHE_HOME"] = str(OUT / "cache")
    at = AppTest.from_file(str(ROOT / "ui" / "app" / "main.py"), default_timeout=300).run()
    at.switch_page("views/search.py").run()
    at.text_input(key="search_query").set_value(queries[0]).run()  # warm: models, keyword index
    times = []
    for query in queries:
        began = time.perf_counter()
        at.text_input(key="search_query").set_value(query).run()
        times.append(time.perf_counter() - began)
        assert not at.exception, at.exception
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, default=OUT / "corpus-archive")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in (ROOT / "benchmarks/data/search_eval.jsonl").open()]
    colds = [cold_start(args.archive, 8700 + n) for n in range(args.runs)]
    searches = search_interactions(args.archive, questions)
    ordered = sorted(searches)
    report = {
        "archive": str(args.archive),
        "cold_start_s": {"runs": [round(c, 2) for c in colds], "median": round(statistics.median(colds), 2),
                         "target": 15},
        "search_server_ms": {"queries": len(searches), "p50": round(1000 * statistics.median(searches)),
                             "p95": round(1000 * ordered[int(0.95 * (len(ordered) - 1))]), "target_p50": 500},
        "load_average": os.getloadavg(),
    }
    print(f"onrecord app on {args.archive}")
    print(f"  cold start to rendered library   median {report['cold_start_s']['median']:6.2f} s   "
          f"runs {report['cold_start_s']['runs']}   target <= 15 s")
    print(f"  search interaction (server)      p50 {report['search_server_ms']['p50']:5d} ms   "
          f"p95 {report['search_server_ms']['p95']:5d} ms over {len(searches)} queries   target <= 500 ms")
    print(f"  load average {report['load_average']}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_app.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
