"""What the benchmark scripts share: where they write, and how they run onrecord."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
CACHE = OUT / "cache"


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
