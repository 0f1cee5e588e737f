"""The core every surface shares (`onrecord.Onrecord`) and its trust boundary: the README's Python API example as
written, one ingest front door (a feed is its episodes on every surface), the URL box that never reads a server
path, media that is streamed only from where it may be, one namespace, and surfaces that never import each other."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path


from conftest import ROOT, SAMPLES, run_cli
from test_feeds import _item, _write_feed, site  # noqa: F401 - `site`: the loopback feed server fixture

GARDENING = SAMPLES / "transcripts" / "gardening.vtt"


def python_api_example() -> str:
    """The README's "Python API" section's code block, as a reader copies it."""
    section = (ROOT / "README.md").read_text().split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_python_api_example_runs_as_written(tmp_path):
    """Run where a user would run it: in a folder holding a copy of the samples' transcripts, in a new process."""
    shutil.copytree(SAMPLES / "transcripts", tmp_path / "samples" / "transcripts")
    env = {k: v for k, v in os.environ.items() if k != "ONRECORD_ARCHIVE"}
    done = subprocess.run([sys.executable, "-c", python_api_example()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "added" in done.stdout and "gardening" in done.stdout
    assert "Dana Ortiz" in done.stdout and "Tomatoes" in done.stdout, done.stdout
    assert (tmp_path / "my-archive").is_dir()


def test_one_core_serves_search_ask_summarize_and_changes(tmp_path):
    from onrecord import Onrecord

    lib = Onrecord(archive=str(tmp_path / "archive"))
    results = list(lib.ingest([str(GARDENING)]))
    assert [r.status for r in results] == ["added"]
    gardening = lib.interview("gardening")
    assert lib.search("What grows best on the roof?", limit=1)[0].speaker == "Dana Ortiz"
    assert lib.ask("What grows best on the roof?").quotes
    assert lib.summarize(gardening.id).topics
    assert lib.edit("gardening", title="Roof gardens").title == "Roof gardens"
    assert lib.search("tomatoes", limit=1)[0].title == "Roof gardens", "a change is searched at once"
    assert lib.delete("Roof gardens").id == gardening.id and lib.interviews() == []


def test_a_feed_added_over_the_api_becomes_its_episodes(site, monkeypatch):  # noqa: F811 - the imported fixture
    """A feed was one interview keyed by its URL when added in the app or the API (and "skipped" forever after);
    the core's one front door expands it there as the CLI does."""
    from fastapi.testclient import TestClient

    from onrecord import Onrecord
    from onrecord.ui.api import create_app

    monkeypatch.setenv("ONRECORD_ALLOW_PRIVATE_URLS", "true")  # the test feed is served on loopback
    shutil.copy(GARDENING, site.folder / "gardening.vtt")
    feed = _write_feed(site, "feed.xml", [
        _item(site, "Roof gardens", "ep-1", "Tue, 02 Jun 2020 10:00:00 GMT", transcript=("gardening.vtt", "text/vtt"))])
    with TestClient(create_app(Onrecord()), base_url="http://127.0.0.1") as client:
        job = client.post("/api/ingest", json={"url": feed}).json()
        for _ in range(120):
            job = client.get(f"/api/jobs/{job['id']}").json()
            if job["state"] in ("done", "failed"):
                break
            time.sleep(0.5)
        assert [(s["source"], s["status"]) for s in job["sources"]] == [(f"{site.url}/gardening.vtt", "added")], job
        [episode] = client.get("/api/interviews").json()
    assert episode["title"] == "Roof gardens" and episode["show"] == "Small Spaces Radio"


def test_a_url_line_that_names_a_server_path_is_refused(app, tmp_path):
    """The Add page's URL box walked a server path it was given; a URL is a URL, on every surface."""
    from apptest import texts
    from test_app import wait_for

    private = tmp_path / "private"
    private.mkdir()
    shutil.copy(GARDENING, private / "notes.vtt")
    at = app("add", archive=tmp_path / "fresh")
    at.text_area[0].set_value(str(private))
    next(b for b in at.button if b.label == "Add to the archive").click().run()
    at = wait_for(at, lambda at: at.error)
    assert "not a URL" in texts(at)
    assert "already in the archive" not in texts(at) and "added" not in " ".join(s.value for s in at.success)


def test_media_is_streamed_only_from_where_it_may_be(tmp_path, monkeypatch, sample_archive):
    """An interview whose media names a file the server may not stream (an old JSON import's `/etc/passwd`) has
    none on a shared surface; the media folder, an allowed folder and the very file transcribed stay playable."""
    from onrecord import Onrecord
    from onrecord.search.config import Settings

    media_dir = tmp_path / "media"
    (media_dir / "uploads").mkdir(parents=True)
    uploaded = media_dir / "uploads" / "0123456789-talk.mp3"
    uploaded.write_bytes(b"ID3")
    allowed = tmp_path / "shared-folder"
    allowed.mkdir()
    (allowed / "talk.mp3").write_bytes(b"ID3")
    core = Onrecord(Settings(archive=str(sample_archive), media_dir=media_dir, server_folders=str(allowed)))
    rockets = next(i for i in core.interviews() if i.title == "rockets-interview")
    assert core.policy.servable(rockets).media == rockets.media, "the file the archive transcribed itself"
    for media, kept in (("/etc/passwd", False), (str(media_dir / ".." / ".." / "etc" / "passwd"), False),
                        (str(uploaded), True), (str(allowed / "talk.mp3"), True),
                        (str(tmp_path / "shared-folder-2" / "x.mp3"), False), ("https://example.com/ep.mp3", True)):
        shown = core.policy.servable(dataclasses.replace(rockets, media=media, kind="transcript"))
        assert (shown.media == media) is kept, media


def test_the_app_registers_no_player_for_a_file_it_may_not_serve(app, tmp_path, monkeypatch):
    from apptest import id_of

    from onrecord.search.config import Settings
    from onrecord.search.store import open_archive
    from onrecord.ui.app import media

    archive = tmp_path / "archive"
    assert run_cli("--archive", str(archive), "ingest", str(GARDENING)).returncode == 0
    store = open_archive(Settings(archive=str(archive)))
    [interview] = store.list()
    store.commit(dataclasses.replace(interview, media="/etc/passwd", kind="transcript"))
    at = app(archive=archive)
    at.switch_page("views/interview.py")
    at.query_params["id"] = id_of(at, "gardening")
    at.run()
    assert not at.exception
    assert Path("/etc/passwd") not in media._files.values()
    assert not at.get("audio") and not at.get("video")


def test_the_llm_key_goes_only_to_the_operators_server():
    """The app's test drives this through Settings; here, each case of the rule."""
    from pydantic import SecretStr

    from onrecord import LLMChoice
    from onrecord.policy import InputPolicy
    from onrecord.search.config import Settings

    operators = "http://llm.internal:8000/v1"
    policy = InputPolicy(Settings(llm_base_url=operators, llm_model="m", llm_api_key="sk-operator"))
    assert policy.llm_settings(None).llm_api_key.get_secret_value() == "sk-operator"
    assert policy.llm_settings(LLMChoice("other", operators, None)).llm_api_key.get_secret_value() == "sk-operator"
    for elsewhere in ("https://evil.example/v1", None, "http://llm.internal:8001/v1"):  # None: OpenAI itself
        assert policy.llm_settings(LLMChoice("m", elsewhere, None)).llm_api_key is None, elsewhere
    own = SecretStr("sk-visitor")
    assert policy.llm_settings(LLMChoice("m", "https://evil.example/v1", own)).llm_api_key is own


def test_delete_without_yes_off_a_terminal_deletes_nothing(tmp_path):
    assert run_cli("ingest", str(GARDENING)).returncode == 0
    done = run_cli("delete", "gardening")
    assert done.returncode == 1 and "without --yes" in done.stderr and done.stderr.count("\n") == 1
    assert [i["title"] for i in json.loads(run_cli("list", "--json").stdout)] == ["gardening"]
    assert run_cli("delete", "gardening", "--yes").returncode == 0


def test_show_says_unknown_rather_than_none():
    assert run_cli("ingest", str(GARDENING)).returncode == 0
    shown = run_cli("show", "gardening").stdout
    assert "None" not in shown and "date: unknown" in shown


def test_ctrl_c_on_serve_says_it_stopped(tmp_path):
    """Not the ingest's "nothing half-written is visible": a server says it stopped, and exits 0."""
    import signal

    from conftest import ONRECORD

    server = subprocess.Popen([*ONRECORD, "--archive", str(tmp_path / "archive"), "serve", "--port", "0", "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert json.loads(server.stdout.readline())["url"].startswith("http://127.0.0.1:")
    server.send_signal(signal.SIGINT)
    _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0 and stderr.strip().endswith("stopped the API server"), stderr[-500:]
    assert "half-written" not in stderr and "Traceback" not in stderr


def test_the_version_is_onrecords_own_everywhere():
    import onrecord
    from onrecord.ui.mcp_server import build_server

    assert re.fullmatch(r"\d+\.\d+\.\d+.*", onrecord.__version__)
    assert run_cli("--version").stdout.strip() == f"onrecord {onrecord.__version__}"
    server = build_server(onrecord.Onrecord())
    assert server._mcp_server.create_initialization_options().server_version == onrecord.__version__


def test_nothing_named_search_ui_or_ingest_is_installed(tmp_path):
    """The wheel holds one top-level package, `onrecord`, with the reader's assets."""
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = tmp_path.glob("onrecord-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"onrecord", wheel.name.split("-py3")[0] + ".dist-info"}
    assert {"onrecord/library.py", "onrecord/search/store/archive.py", "onrecord/ui/app/reader/reader.js",
            "onrecord/ui/app/views/library.py", "onrecord/ingest/pipeline.py"} <= set(names)


SURFACES = {"cli": re.compile(r"(cli|cli_support|commands_\w+|progress|browser)$"), "api": re.compile(r"api$"),
            "mcp": re.compile(r"mcp_server$"), "app": re.compile(r"app(\.\w+)*$")}


def _ui_imports() -> dict[str, set[str]]:
    """ui's modules (dotted, below onrecord.ui) -> the ui modules each imports."""
    graph: dict[str, set[str]] = {}
    for path in (ROOT / "ui").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT / "ui").with_suffix("").parts).removesuffix(".__init__")
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] if package else [])
                    target = ".".join(p for p in (base, node.module or "") if p)
                elif (node.module or "").startswith("onrecord.ui"):
                    target = node.module.removeprefix("onrecord.ui").lstrip(".")
                else:
                    continue
                found |= {f"{target}.{a.name}".strip(".") for a in node.names} | {target}
        graph[name] = {t for t in found if t}
    modules = set(graph)
    return {name: {t for t in targets if t in modules and t != name} for name, targets in graph.items()}


def _surface(module: str) -> str | None:
    return next((s for s, pattern in SURFACES.items() if pattern.match(module)), None)


def test_the_surfaces_import_no_circle_and_not_each_other():
    graph = _ui_imports()
    for start in graph:  # depth-first from every module: any path back to it is a circle
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                assert nxt != start, f"import circle: {' -> '.join(path + [nxt])}"
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    # The CLI starts the servers (their public entry points); no server imports the CLI or another server.
    for module, targets in graph.items():
        for target in targets:
            mine, theirs = _surface(module), _surface(target)
            if mine and theirs and mine != theirs:
                assert mine == "cli", f"{module} ({mine}) imports {target} ({theirs})"
    private = [f"{p}: {line.strip()}" for p in (ROOT / "ui").rglob("*.py") for line in p.read_text().splitlines()
               if re.match(r"\s*from \S+ import .*\b_[a-z]", line) and "__future__" not in line]
    assert private == [], "a surface imports another module's private names"
