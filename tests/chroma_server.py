"""A real `chroma run` on loopback, for the server-mode tests and for running whole suites against a server.

    python tests/chroma_server.py -- PYTEST ARGS   starts a server, runs `pytest --chroma-url URL ARGS`, stops it
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

from llm_servers import free_port

# `chroma` comes with the chromadb package, beside this Python (make test does not activate the venv).
CHROMA = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")


def start(data: Path, port: int, log: Path | None = None) -> subprocess.Popen:
    if CHROMA is None:
        raise RuntimeError("the `chroma` command (from the chromadb package) is not installed")
    out = open(log, "w") if log else subprocess.DEVNULL
    return subprocess.Popen([CHROMA, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=out, stderr=subprocess.STDOUT)


def wait_until_up(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"chroma exited with {server.returncode} before listening") from None
            time.sleep(0.3)
    raise RuntimeError(f"chroma did not listen on port {port} within {timeout:.0f} s")


@contextlib.contextmanager
def running(data: Path, log: Path | None = None) -> Iterator[str]:
    """A server over `data` for the duration; yields its URL."""
    port = free_port()
    server = start(data, port, log)
    try:
        wait_until_up(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def main(pytest_args: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="onrecord-chroma-") as folder:
        with running(Path(folder) / "data", Path(folder) / "server.log") as url:
            print(f"chroma run at {url}; pytest --chroma-url {url} {' '.join(pytest_args)}", flush=True)
            code = subprocess.call([sys.executable, "-m", "pytest", "--chroma-url", url, *pytest_args])
            if code:
                print((Path(folder) / "server.log").read_text()[-4000:], file=sys.stderr)
            return code


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(args[1:] if args[:1] == ["--"] else args))
