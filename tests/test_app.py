"""The Streamlit app's library, add, settings and archive-error pages through streamlit.testing.v1.AppTest, on real
archives."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from apptest import texts
from conftest import ROOT, SAMPLES, run_cli

PAGES = {"Library": None, "Interview": "interview", "Search": "search", "Ask": "ask", "Topics": "topics",
         "Add": "add", "Settings": "settings"}


def everything(at) -> str:
    """Every element of a run as its protobuf text, widget values included: all that a browser would receive."""
    found, stack = [], [at._tree]
    while stack:
        node = stack.pop()
        found.append(str(getattr(node, "proto", "")))
        stack.extend(getattr(node, "children", {}).values())
    return "\n".join(found) + "\n".join(str(t.value) for t in at.text_input)


def files_containing(needle: bytes, *folders: Path) -> list[Path]:
    return [f for folder in folders for f in Path(folder).rglob("*") if f.is_file() and needle in f.read_bytes()]


def wait_for(at, done, seconds: float = 120):
    """Rerun `at` until `done(at)` or the deadline; the page polls a background worker."""
    deadline = time.time() + seconds
    while not done(at) and time.time() < deadline:
        time.sleep(1)
        at.run()
    return at


def test_library_lists_filters_sorts_and_opens(app):
    at = app()
    shown = texts(at)
    for title in ("rockets-interview", "coffee-interview", "gardening", "chess-podcast", "city-bikes"):
        assert title in shown
    at.text_input[0].set_value("dana").run()
    assert "gardening" in texts(at) and "rockets-interview" not in texts(at)
    at.text_input[0].set_value("").run()
    at.selectbox[0].set_value("Title").run()
    titles = [m.value for m in at.markdown if str(m.value).startswith("**")]
    assert titles == sorted(titles)
    open_button = next(b for b in at.button if b.label == "Open")
    open_button.click().run()
    assert not at.exception and "Topics" in [s.value for s in at.subheader]


def test_library_cards_and_delete_needs_a_red_confirmation(app, tmp_path):
    archive = tmp_path / "small"
    run_cli("--archive", str(archive), "ingest", str(SAMPLES / "transcripts"))
    at = app(archive=archive)
    cards = [c.value for c in at.caption if " · " in str(c.value)]
    today = datetime.now(timezone.utc).date().isoformat()
    assert len(cards) == 2 and all(f"added {today}" in c for c in cards), cards
    assert any("transcript gardening.vtt" in c for c in cards), cards
    assert str(SAMPLES) not in texts(at) and "unknown" not in texts(at)
    delete = next(b for b in at.button if b.label == "Delete")
    delete.click().run()
    assert "Delete “" in texts(at) and "cannot be undone" in texts(at)
    assert ".st-key-confirm-delete button" in everything(at) and "#c62828" in everything(at), "the red button"
    assert len([t for t in texts(at).splitlines() if t.startswith("**")]) == 2, "nothing deleted yet"
    next(b for b in at.button if b.key == "confirm-delete").click().run()
    assert len([t for t in texts(at).splitlines() if t.startswith("**")]) == 1


def test_an_empty_library_says_how_to_add_the_first_interview(app, tmp_path):
    at = app(archive=tmp_path / "empty")
    links = [e.proto for e in at.get("page_link")]
    assert [link.label for link in links] == ["Add your first interview"]
    assert links[0].icon.startswith(":material/") and "Add page" in texts(at)


def test_navigation_and_buttons_use_material_icons_not_emoji(app):
    at = app()
    pages = list(at._registered_pages.values())  # AppTest has no public view of st.navigation's pages
    assert {p["page_name"]: p.get("url_pathname") or None for p in pages} == PAGES
    assert all(p["icon"].startswith(":material/") for p in pages), [p["icon"] for p in pages]
    assert 'page_icon=":material/' in (ROOT / "ui" / "app" / "main.py").read_text()
    for page in ("library", "add", "settings"):
        at.switch_page(f"views/{page}.py").run()
        icons = [b.proto.icon for b in at.button if b.proto.icon]
        assert icons and all(i.startswith(":material/") for i in icons), (page, icons)

def test_add_runs_ingest_in_the_background_and_reports_per_source(app, tmp_path):
    archive = tmp_path / "fresh"
    bad = tmp_path / "bad.vtt"
    bad.write_text("not a caption file")
    at = app("add", archive=archive)
    at.text_input[0].set_value(str(SAMPLES / "transcripts"))
    at.text_area[0].set_value(f"http://127.0.0.1:{_closed_port()}/nothing.mp3")
    at.button[0].click().run()
    wait_for(at, lambda at: len(at.success) + len(at.error) >= 3)
    assert len(at.success) == 2 and len(at.error) == 1
    assert "refused: 127.0.0.1 is a loopback address" in at.error[0].value.replace("\\", "")
    at.switch_page("views/library.py").run()
    assert "gardening" in texts(at) and "chess-podcast" in texts(at)


def _closed_port() -> int:
    from llm_servers import free_port

    return free_port()


def test_settings_show_models_and_never_the_key(app, monkeypatch):
    monkeypatch.setenv("ONRECORD_LLM_API_KEY", "sk-very-secret-value")
    monkeypatch.setenv("ONRECORD_LLM_MODEL", "gpt-test")
    at = app("settings", archive=Path(__import__("os").environ["ONRECORD_ARCHIVE"]))
    table = str(at.table[0].value)
    assert "tiny.en" in table and "all-MiniLM-L6-v2" in table and "gpt-test" in table
    assert "sk-very-secret-value" not in table and "set" in table
    assert "sk-very-secret-value" not in everything(at)


def test_settings_change_the_llm_for_this_session_only_and_keep_the_key_in_memory(app, tmp_path, monkeypatch,
                                                                                   sample_archive):
    from llm_servers import scripted_server

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("ONRECORD_LLM_MODEL", "ONRECORD_LLM_BASE_URL", "ONRECORD_LLM_API_KEY", "OPENAI_API_KEY",
                 "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    secret = "sk-set-in-the-app-" + "7" * 12
    at = app("settings")
    assert "No LLM" in texts(at)
    with scripted_server("ok", "OK") as (url, prompts):
        field = {t.label: t for t in at.text_input}
        field["Model"].set_value("scripted-model")
        field["Server (base URL)"].set_value(url)
        field["API key"].set_value(secret)
        next(b for b in at.button if b.label == "Apply to this session").click().run()
        assert not at.exception and "Applied" in texts(at) and "**scripted-model**" in texts(at)
        table = str(at.table[0].value)
        assert "scripted-model" in table and url in table and "this page" in table
        next(b for b in at.button if b.label == "Check the LLM").click().run()
        assert "scripted-model answered: OK" in texts(at) and len(prompts) == 1
        assert prompts.authorization == [f"Bearer {secret}"], "the key typed here goes to the server typed here"
        assert secret not in everything(at), "the key is never shown back"
        at.switch_page("views/ask.py").run()
        assert not at.exception
    other = app("settings")  # another visitor of the same app keeps the environment's LLM
    assert "No LLM" in texts(other) and "scripted-model" not in str(other.table[0].value)
    at.switch_page("views/settings.py").run()
    next(b for b in at.button if b.label == "Back to the environment's settings").click().run()
    assert "No LLM" in texts(at)
    folders = [tmp_path] + ([Path(sample_archive)] if Path(str(sample_archive)).exists() else [])
    assert files_containing(secret.encode(), *folders) == [], "the key is never written to disk"


def test_the_operators_key_goes_only_to_the_operators_server(app, monkeypatch):
    """A visitor who points Settings at a server of their own gets no key with it: the environment's key would
    otherwise reach any host they name (and then every question asked there)."""
    from llm_servers import scripted_server

    operator_key = "sk-operator-" + "3" * 20
    with scripted_server("ok", "OK") as (operators, to_operator), scripted_server("ok", "OK") as (theirs, to_them):
        monkeypatch.setenv("ONRECORD_LLM_BASE_URL", operators)
        monkeypatch.setenv("ONRECORD_LLM_MODEL", "operator-model")
        monkeypatch.setenv("ONRECORD_LLM_API_KEY", operator_key)
        at = app("settings")
        next(b for b in at.button if b.label == "Check the LLM").click().run()
        assert to_operator.authorization == [f"Bearer {operator_key}"]
        field = {t.label: t for t in at.text_input}
        field["Server (base URL)"].set_value(theirs)
        next(b for b in at.button if b.label == "Apply to this session").click().run()
        next(b for b in at.button if b.label == "Check the LLM").click().run()
        assert "answered: OK" in texts(at) and len(to_them) == 1
        assert operator_key not in str(to_them.authorization), to_them.authorization
        assert "set" not in str(at.table[0].value).split("LLM API key")[-1][:20]


def test_failed_and_duplicate_uploads_leave_nothing_behind(app, tmp_path, monkeypatch):
    monkeypatch.setenv("ONRECORD_MEDIA_DIR", str(tmp_path / "media"))
    uploads = tmp_path / "media" / "uploads"
    captions = (SAMPLES / "transcripts" / "gardening.vtt").read_bytes()
    at = app("add", archive=tmp_path / "fresh")

    def add(*files: tuple[str, bytes]):
        count = len(at.success) + len(at.error)
        at.file_uploader[0].set_value([(name, data, "text/vtt") for name, data in files])
        next(b for b in at.button if b.label == "Add to the archive").click().run()
        return wait_for(at, lambda at: len(at.success) + len(at.error) >= count + len(files))

    add(("gardening.vtt", captions), ("broken.vtt", b"not a caption file"))
    assert [e.value for e in at.error if "broken.vtt" in e.value], "named without the storage prefix"
    assert [p.name for p in uploads.iterdir()] == [next(uploads.glob("*-gardening.vtt")).name], "added: kept"
    add(("gardening.vtt", captions), ("copy of gardening.vtt", captions))
    assert sum("already in the archive" in s.value for s in at.success) == 2
    assert [p.name for p in uploads.iterdir()] == [next(uploads.glob("*-gardening.vtt")).name], \
        "a duplicate goes, the file the archive's interview came from stays"
    assert not list(tmp_path.glob("gardening*")), "a user's own files are never touched"


def test_only_stored_uploads_are_ever_discarded(tmp_path):
    from onrecord.uploads import discard_upload, original_name, store_upload

    stored = store_upload(tmp_path / "uploads", "talk.mp3", b"data")
    mine = tmp_path / "talk.mp3"
    mine.write_bytes(b"data")
    named = tmp_path / "uploads" / "notes.txt"
    named.write_text("a user's file")
    assert not discard_upload(tmp_path / "uploads", mine) and not discard_upload(tmp_path / "uploads", named)
    assert mine.exists() and named.exists()
    assert discard_upload(tmp_path / "uploads", stored) and not stored.exists()
    assert original_name(str(stored)) == "talk.mp3" and original_name(str(mine)) == "talk.mp3"


@pytest.mark.parametrize("name, stored", [
    ("../../etc/passwd", "passwd"), ("/abs/path/talk.mp3", "talk.mp3"), ("C:\\Users\\me\\talk.m4a", "talk.m4a"),
    ("..", "upload"), ("rock <script>.mp3", "rock _script_.mp3"), ("интервью.mp3", "интервью.mp3"),
])
def test_uploaded_file_names_are_stored_safely(tmp_path, name, stored):
    from onrecord.uploads import store_upload

    path = store_upload(tmp_path / "uploads", name, b"data")
    assert path.parent == tmp_path / "uploads" and path.name.endswith("-" + stored)
    assert path.read_bytes() == b"data"


def test_an_archive_that_cannot_be_opened_is_one_sentence_on_every_page(app, tmp_path):
    import tarfile

    with tarfile.open(ROOT / "tests" / "data" / "archive-schema1.tar.gz") as tar:
        tar.extractall(tmp_path, filter="data")
    for page in (None, "search"):
        at = app(page, archive=tmp_path / "archive")
        assert [e.value for e in at.error] == [
            f"archive {tmp_path / 'archive'} has schema 1, older than this onrecord's (3); run "
            f"`onrecord --archive {tmp_path / 'archive'} migrate` to upgrade it in place (nothing is deleted)"]
