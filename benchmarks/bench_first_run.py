"""A newcomer's first run: `make demo` in a fresh clone with a new HOME, timed to the first search result.

    python3 benchmarks/bench_first_run.py [--target 180] [--keep]

Clones the repository's committed HEAD into a temporary folder, points HOME there (so pip's cache and every
onrecord folder start empty), runs `make demo` exactly as the README says and timestamps each line it prints.
Reported: when the install finished (the ingest began), when the first search result was printed, and when the
app answered its health check; then the app is stopped and the folder removed (--keep leaves it). The time to
the first search result is compared with --target seconds (the README's promise); the run exits 1 when it
misses the target or `make demo` fails. Needs only python3, git and make: run it with any Python.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from harness import OUT, ROOT, free_port, write_report  # stdlib only: this script runs with any python3

INGEST_STARTS = re.compile(r"^==> Ingesting")
SEARCH_COMMAND = re.compile(r"onrecord .*\bsearch\b")


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def run_demo(clone: Path, home: Path, port: int, log: Path, limit: float) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONRECORD_", "VIRTUAL_ENV", "XDG_"))}
    env |= {"HOME": str(home), "STREAMLIT_SERVER_PORT": str(port)}
    marks: dict[str, float] = {}
    began = time.perf_counter()
    demo = subprocess.Popen(["make", "demo"], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, start_new_session=True)

    def read() -> None:
        after_search = False
        with log.open("w") as out:
            for line in demo.stdout:
                now = time.perf_counter() - began
                out.write(f"[{now:7.1f}] {line}")
                if INGEST_STARTS.match(line):
                    marks.setdefault("installed", now)
                elif SEARCH_COMMAND.search(line):
                    after_search = True
                elif after_search and line.strip():
                    marks.setdefault("first_search_result", now)
                    after_search = False

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        while demo.poll() is None and time.perf_counter() - began < limit:
            if healthy(port):
                marks["app_answered"] = time.perf_counter() - began
                break
            time.sleep(0.5)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=60)
        reader.join(timeout=10)
    return {name: round(seconds, 1) for name, seconds in marks.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=180.0, help="seconds to the first search result (180)")
    parser.add_argument("--limit", type=float, default=1800.0, help="give up after this many seconds (1800)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone and HOME")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-first-run-"))
    home, clone, log = work / "home", work / "onrecord", OUT / "bench_first_run.log"
    home.mkdir()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    print(f"make demo in a fresh clone of {head.strip()} with HOME={home} (log: {log}) ...", flush=True)
    try:
        marks = run_demo(clone, home, free_port(), log, args.limit)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    first = marks.get("first_search_result")
    report = {"commit": head.strip(), "cpu_count": os.cpu_count(), "machine": platform.machine(),
              "marks_seconds": marks, "target_seconds": args.target,
              "meets_target": first is not None and first <= args.target}
    write_report("bench_first_run", report)
    print(f"\n{'stage':<28}{'seconds':>9}{'/ target':>10}")
    for name in ("installed", "first_search_result", "app_answered"):
        seconds = marks.get(name)
        shown = "never" if seconds is None else f"{seconds:.1f}"
        ratio = "" if seconds is None else f"{seconds / args.target:.2f}"
        print(f"{name:<28}{shown:>9}{ratio:>10}")
    print(f"target: first search result within {args.target:.0f} s: {'met' if report['meets_target'] else 'MISSED'}")
    return 0 if report["meets_target"] and "app_answered" in marks else 1


if __name__ == "__main__":
    sys.exit(main())
