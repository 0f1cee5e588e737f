"""What the benchmark scripts share: where they write, and how they run onrecord."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
CACHE = OUT / "cache"
# The project's shared folder, beside the repository (a user's clone has none: pass the paths instead).
SHARED = ROOT.parent / "shared"
DEFAULT_CORPUS = SHARED / "data" / "podcasts" / "talkpython"
DEFAULT_AUDIO = SHARED / "data" / "audio"


def require_dir(path: Path, what: str, flag: str) -> Path:
    """`path` resolved, or exit with one line saying what to pass instead."""
    if not path.is_dir():
        sys.exit(f"{what} not found at {path}: pass {flag} DIR")
    return path.resolve()


def chromium() -> str:
    """Debian's chromium on PATH, or wherever ONRECORD_CHROMIUM points."""
    found = shutil.which(os.environ.get("ONRECORD_CHROMIUM", "chromium"))
    if found is None:
        sys.exit("chromium not found: apt-get install chromium, or set ONRECORD_CHROMIUM to its path")
    return found


def configure_environment() -> None:
    """For this process and every child: the benchmark's cache folder, onrecord's defaults."""
    for key in [k for k in os.environ if k.startswith("ONRECORD_")]:
        del os.environ[key]
    os.environ["XDG_CACHE_HOME"] = str(CACHE)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def onrecord(*args: str) -> list[str]:
    exe = Path(sys.executable).with_name("onrecord")
    return [str(exe) if exe.exists() else "onrecord", *args]


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


WARMUP_ORDER = ("keyword", "semantic", "hybrid")  # keyword first: it loads or builds the BM25 index


def warm_up(searcher, question: str, limit: int) -> dict[str, float]:
    """One query per mode, in WARMUP_ORDER; their times in ms, for the record."""
    times = {}
    for mode in WARMUP_ORDER:
        start = time.perf_counter()
        searcher.search(question, limit=limit, mode=mode)
        times[mode] = round((time.perf_counter() - start) * 1000, 1)
    return times
