"""What the benchmark scripts share: where they read and write, how they run onrecord (this checkout's or another
checkout's), the servers they start, and how they time and report.

Scripts run as `python benchmarks/<script>.py`, so this folder is on sys.path and `from harness import ...` works.
Nothing here imports onrecord at module level: bench_first_run.py runs with any python3, and a process running
another checkout must import that checkout's onrecord, not this one's.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
OUT = ROOT / "benchmarks" / "out"
CACHE = OUT / "cache"
EVAL = DATA / "search_eval.jsonl"  # 70 listener questions about the podcast corpus, each with its answer's moment
CORPUS_ARCHIVE = OUT / "corpus-archive"  # the 509-episode archive bench_search.py builds
# The project's shared folder, beside the repository (a user's clone has none: pass the paths instead).
SHARED = ROOT.parent / "shared"
DEFAULT_CORPUS = SHARED / "data" / "podcasts" / "talkpython"
DEFAULT_AUDIO = SHARED / "data" / "audio"
CLI = [sys.executable, "-m", "onrecord.ui"]  # this checkout's onrecord (the editable install), a process of its own
SLACK_S = 5.0  # a hit answers a question when it overlaps the answer's window widened this much either side
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# The CLI in a process that reports its own peak RSS (KiB, Linux's ru_maxrss) as the last line of stderr.
CLI_REPORTING_RSS = [sys.executable, "-c", "import resource, sys\nfrom onrecord.ui.cli import main\ntry:\n"
                     "    main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
                     "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(code)"]


# ---------------------------------------------------------------- paths and the environment

def require_dir(path: Path, what: str, flag: str) -> Path:
    """`path` resolved, or exit with one line saying what to pass instead."""
    if not path.is_dir():
        sys.exit(f"{what} not found at {path}: pass {flag} DIR")
    return path.resolve()


def require_archive(archive: Path) -> Path:
    """An archive folder that holds something, or exit saying how to build one."""
    if not has_content(archive):
        sys.exit(f"no archive at {archive}: build it with `python benchmarks/bench_search.py --skip-100k`, "
                 "or pass --archive DIR")
    return archive.resolve()


def has_content(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without ONRECORD_* variables (onrecord runs with its defaults), plus `extra`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ONRECORD_")} | extra


def configure_environment() -> None:
    """For this process and every child: the benchmark's cache folder, onrecord's defaults."""
    for key in [k for k in os.environ if k.startswith("ONRECORD_")]:
        del os.environ[key]
    os.environ["XDG_CACHE_HOME"] = str(CACHE)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def onrecord(*args: str) -> list[str]:
    """The command a user types, `onrecord ARGS` (the venv's console script, beside this Python)."""
    exe = Path(sys.executable).with_name("onrecord")
    return [str(exe) if exe.exists() else "onrecord", *args]


def chromium() -> str:
    """Debian's chromium on PATH, or wherever ONRECORD_CHROMIUM points."""
    found = shutil.which(os.environ.get("ONRECORD_CHROMIUM", "chromium"))
    if found is None:
        sys.exit("chromium not found: apt-get install chromium, or set ONRECORD_CHROMIUM to its path")
    return found


# ---------------------------------------------------------------- subprocesses, time and memory

def run(cmd: list[str], *, ok: tuple[int, ...] = (0,), stdin: str | None = None, env: dict | None = None,
        cwd: Path = ROOT, timeout: float | None = None) -> tuple[float, subprocess.CompletedProcess]:
    """Wall-clock seconds from process start to exit, and the process; exits in one message on another code."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, input=stdin, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - start
    if proc.returncode not in ok:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))[:300]}\n{proc.stderr[-3000:]}")
    return seconds, proc


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def last_json(text: str) -> dict:
    """The last JSON object a child printed (on a line of its own)."""
    return json_lines(text)[-1]


def reported_peak_mib(proc: subprocess.CompletedProcess) -> float:
    """The peak RSS a CLI_REPORTING_RSS child printed last on stderr."""
    return int(proc.stderr.strip().splitlines()[-1]) / 1024


def peak_rss_mib() -> float:
    """This process's peak RSS so far."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def process_io(pid: int) -> dict:
    """Another process's bytes read (rchar), peak and current RSS (KiB), from /proc."""
    io = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {"rchar": int(io["rchar"]), "hwm_kb": int(status["VmHWM"].split()[0]),
            "rss_kb": int(status["VmRSS"].split()[0])}


def timed(call, *args, **kwargs) -> tuple[object, float]:
    """What `call` returns, and the seconds it took."""
    start = time.perf_counter()
    result = call(*args, **kwargs)
    return result, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary_ms(values: list[float]) -> dict:
    """p50 / p95 / mean of milliseconds, one decimal, and how many."""
    if not values:
        return {"p50": 0.0, "p95": 0.0, "mean": 0.0, "n": 0}
    return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1),
            "mean": round(statistics.fmean(values), 1), "n": len(values)}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------- ports and servers

def free_port(preferred: int | None = None) -> int:
    """`preferred` when it is free, else any free port on 127.0.0.1."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port on 127.0.0.1")


def wait_for(url: str, server: subprocess.Popen | None = None, timeout: float = 180, log: Path | None = None) -> float:
    """Seconds until `url` answers; fails when the server exits first or it never answers."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if server is not None and server.poll() is not None:
            raise RuntimeError(f"{server.args[0]} exited with code {server.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return time.monotonic() - start
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no answer from {url} in {timeout:.0f} s; see {log}")


def stop(server: subprocess.Popen, timeout: float = 30) -> None:
    """Terminate a server (its whole process group when it has its own session), then kill it if it lingers."""
    if server.poll() is not None:
        return
    own_group = os.getpgid(server.pid) == server.pid
    signal_it = (lambda sig: os.killpg(server.pid, sig)) if own_group else server.send_signal
    signal_it(signal.SIGTERM)
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_it(signal.SIGKILL)
        server.wait()


@contextlib.contextmanager
def app_server(archive: Path, log: Path, code: Checkout | None = None):
    """`onrecord ui` of `code` (default this checkout) over `archive` on a free port: its URL and pid once healthy."""
    code = code or Checkout(ROOT)
    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen([*code.cli, "--archive", str(archive), "ui", "--port", str(port)], cwd=code.cwd,
                                  env=code.env(), stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/_stcore/health", server, 120, log)
        yield url, server.pid
    finally:
        stop(server)


@contextlib.contextmanager
def api_server(archive: Path, log: Path, start_timeout: float = 300):
    """`onrecord serve` of this checkout on a free loopback port: its URL and pid, once it listens."""
    import select

    with log.open("w") as err:
        server = subprocess.Popen([*CLI, "--archive", str(archive), "serve", "--port", "0", "--json"], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        ready, _, _ = select.select([server.stdout], [], [], start_timeout)
        line = server.stdout.readline() if ready else ""
        if not line:
            sys.exit(f"`onrecord serve` did not start; see {log}")
        yield json.loads(line)["url"], server.pid
    finally:
        stop(server)


@contextlib.contextmanager
def chroma_server(folder: Path, log: Path, preferred_port: int | None = None):
    """`chroma run` over `folder`, in its own session (Ctrl-C reaches only us, and we stop it): URL, seconds to
    its first heartbeat."""
    port = free_port(preferred_port)
    chroma = Path(sys.executable).with_name("chroma")
    cmd = [str(chroma if chroma.exists() else "chroma"), "run", "--path", str(folder), "--host", "127.0.0.1",
           "--port", str(port)]
    with log.open("w") as out:
        server = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        yield url, wait_for(f"{url}/api/v2/heartbeat", server, 180, log)
    finally:
        stop(server)


# ---------------------------------------------------------------- whose onrecord runs

@dataclass(frozen=True)
class Checkout:
    """The onrecord code a child process runs. This checkout's is the editable install, which maps onrecord.* to
    this folder whatever the working directory; another checkout's must come first on PYTHONPATH (an install of it
    made for the purpose, or, from before the one namespace, the checkout itself with its top-level packages)."""

    root: Path
    pythonpath: Path | None = None  # None: this checkout, as installed
    package: str = "onrecord."  # "" for a checkout from before the one namespace (top-level search/, ui/, ingest/)

    @property
    def cli(self) -> list[str]:
        return [sys.executable, "-m", f"{self.package}ui"]

    @property
    def cwd(self) -> Path:
        """Where its processes run: never a folder holding another checkout's top-level packages."""
        return self.pythonpath or ROOT

    def env(self, **extra: str) -> dict[str, str]:
        env = clean_env(**extra)
        if self.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join([str(self.pythonpath), *filter(None, [env.get("PYTHONPATH")])])
        return env

    def run(self, *args: str, ok: tuple[int, ...] = (0,), timeout: float | None = None):
        """`onrecord ARGS` with this code: seconds and the process."""
        return run([*self.cli, *args], ok=ok, env=self.env(), cwd=self.cwd, timeout=timeout)

    def commit(self) -> str:
        """The checkout's commit, +dirty when it has uncommitted changes to tracked files."""
        git = ["git", "--no-optional-locks", "-C", str(self.root)]
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True).stdout.strip()
        return (head or "unknown") + ("+dirty" if dirty else "")


def checkout(root: Path) -> Checkout:
    """The code of the onrecord checkout at `root`, checked to be what its processes import."""
    root = root.resolve()
    if root == ROOT:
        code = Checkout(ROOT)
    elif (root / "core" / "__init__.py").is_file():  # one namespace: installed afresh where only we look
        target = OUT / "checkouts" / root.name
        shutil.rmtree(target, ignore_errors=True)
        print(f"installing {root} into {target} (throwaway, --no-deps) ...", flush=True)
        run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target",
             str(target), str(root)])
        code = Checkout(root, target)
    elif (root / "ui" / "__main__.py").is_file():  # before it: `python -m ui` from the checkout itself
        code = Checkout(root, root, package="")
    else:
        sys.exit(f"{root} is not an onrecord checkout")
    _, found = run([sys.executable, "-c", f"import {code.package}ui as m; print(m.__file__)"], env=code.env(),
                   cwd=code.cwd)
    if not Path(found.stdout.strip()).resolve().is_relative_to(code.pythonpath or ROOT):
        sys.exit(f"the code run for {root} would be {found.stdout.strip()}, not that checkout's")
    return code


# ---------------------------------------------------------------- onrecord in this process

WARMUP_ORDER = ("keyword", "semantic", "hybrid")  # keyword first: it loads or builds the BM25 index


def searcher(cache_dir: Path | None = None, package: str = "onrecord.", upgrading: bool = False, **settings):
    """A Searcher built the way the CLI builds it (Settings -> open_archive -> embedder_for -> Searcher), over
    Settings(**settings); `package` "" in a process that runs a checkout from before the one namespace;
    `upgrading`: an archive of an older schema is opened too."""
    config = importlib.import_module(f"{package}search.config")
    store = importlib.import_module(f"{package}search.store")
    embedder = importlib.import_module(f"{package}search.retrieval.embedder")
    searching = importlib.import_module(f"{package}search.retrieval.searcher")
    found = config.Settings(**settings)
    archive = store.open_archive(found, upgrading=True) if upgrading else store.open_archive(found)
    return searching.Searcher(archive, embedder.embedder_for(found, archive.embed_model),
                              cache_dir or found.cache_dir)


def warm_up(searcher, question: str, limit: int) -> dict[str, float]:
    """One query per mode, in WARMUP_ORDER; their times in ms, for the record."""
    return {mode: round(timed(searcher.search, question, limit=limit, mode=mode)[1] * 1000, 1)
            for mode in WARMUP_ORDER}


# ---------------------------------------------------------------- questions, the corpus and its archive

def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def questions() -> list[dict]:
    return load_jsonl(EVAL)


def first_correct_rank(hits, interview_id: str | None, question: dict, slack: float = SLACK_S) -> int | None:
    """1-based rank of the first hit from the question's interview that overlaps its answer (None: none does)."""
    return next((rank for rank, hit in enumerate(hits, 1) if hit.interview_id == interview_id
                 and hit.start <= question["end"] + slack and hit.end >= question["start"] - slack), None)


def rank_metrics(ranks: list[int | None]) -> dict[str, float]:
    """Success@1, Success@5 and MRR@10 from each question's first correct rank (None: none in the top 10)."""
    found = [r for r in ranks if r is not None]
    n = max(1, len(ranks))
    return {"success_at_1": sum(r == 1 for r in found) / n, "success_at_5": sum(r <= 5 for r in found) / n,
            "mrr_at_10": sum(1 / r for r in found) / n}


def list_interviews(archive: Path) -> list[dict]:
    return json.loads(run(onrecord("--archive", str(archive), "list", "--json"))[1].stdout)


def episode_ids(interviews: list[dict]) -> dict[str, str]:
    """Transcript file name -> interview id (an interview's "source" ends with its file name)."""
    return {Path(i["source"]).name: i["id"] for i in interviews}


def build_corpus_archive(archive: Path, corpus: Path, limit: int | None = None) -> dict:
    """`onrecord ingest` of the corpus into `archive`; with `limit`, only the question set's episodes plus the
    first `limit` others (through a folder of symlinks)."""
    files = sorted(corpus.glob("*.vtt"))
    with tempfile.TemporaryDirectory(prefix="bench-corpus-") as tmp:
        source = corpus
        if limit is not None:
            needed = {q["episode"] for q in questions()}
            files = [f for f in files if f.name in needed] + [f for f in files if f.name not in needed][:limit]
            source = Path(tmp)
            for f in files:
                (source / f.name).symlink_to(f)
        print(f"building the archive: ingesting {len(files)} transcripts into {archive} ...", flush=True)
        seconds, proc = run(onrecord("--archive", str(archive), "ingest", str(source), "--json"), ok=(0, 1))
    results = json_lines(proc.stdout)
    failed = [r for r in results if r["status"] == "failed"]
    return {"built": True, "files": len(files), "ingest_seconds": round(seconds, 1),
            "added": sum(r["status"] == "added" for r in results), "failed": len(failed),
            "failures": [f"{r['source']}: {r['error']}" for r in failed][:10]}


def ensure_corpus_archive(archive: Path, corpus: Path) -> dict | None:
    """`archive` as it is when it holds anything, else built from the whole corpus (~11 min on 2 cores)."""
    if has_content(archive):
        return None
    return build_corpus_archive(archive, require_dir(corpus, "the podcast corpus", "--corpus"))


def vtt_stamp(seconds: float) -> str:
    """HH:MM:SS.mmm, as a WebVTT cue time."""
    from onrecord.search.timefmt import format_timestamp

    return format_timestamp(seconds, always_hours=True)


def join_episodes(files: list[Path], out: Path) -> None:
    """The episodes' cues as one WebVTT, each episode shifted to start 1 s after the previous one ends."""
    from onrecord.ingest.captions import parse_vtt

    lines, offset = ["WEBVTT", ""], 0.0
    for f in files:
        cues = parse_vtt(f.read_text(), f.stem).segments
        for cue in cues:
            lines += [f"{vtt_stamp(cue.start + offset)} --> {vtt_stamp(cue.end + offset)}", cue.text, ""]
        offset += cues[-1].end + 1
    out.write_text("\n".join(lines))


# ---------------------------------------------------------------- reports

def table_lines(rows: list[list], sep: str = "  ") -> list[str]:
    """The first column left-aligned, the others right-aligned, every column as wide as its widest cell."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + sep.join([f"{row[0]:<{widths[0]}}"] + [f"{c:>{w}}" for c, w in zip(row[1:], widths[1:])]).rstrip()
            for row in rows]


def print_table(header: list[str], rows: list[list], title: str | None = None, sep: str = "  ") -> None:
    """A title underlined, then table_lines of the header and the rows."""
    if title:
        print(f"\n{title}\n{'-' * min(len(title), 110)}")
    print("\n".join(table_lines([header, *rows], sep)))


def ratio(now: float | None, before: float | None, digits: int = 2) -> str:
    """now / before as "1.23x", or "-" when either is missing or zero."""
    return f"{now / before:.{digits}f}x" if now and before else "-"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def write_report(name: str, report: dict) -> Path:
    """benchmarks/out/NAME.json."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path
