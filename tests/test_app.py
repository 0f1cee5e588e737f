"""The Streamlit app's library, add, settings and archive-error pages through streamlit.testing.v1.AppTest, on real
archives."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from apptest import texts
from conftest import ROOT, SAMPLES, run_cli


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


def test_library_delete_needs_confirmation(app, tmp_path):
    archive = tmp_path / "small"
    run_cli("--archive", str(archive), "ingest", str(SAMPLES / "transcripts"))
    at = app(archive=archive)
    delete = next(b for b in at.button if b.label == "Delete")
    delete.click().run()
    assert "Delete “" in texts(at)
    assert len([t for t in texts(at).splitlines() if t.startswith("**")]) == 2, "nothing deleted yet"
    next(b for b in at.button if b.label == "Delete" and b.key.startswith("yes-")).click().run()
    assert len([t for t in texts(at).splitlines() if t.startswith("**")]) == 1


def test_add_runs_ingest_in_the_background_and_reports_per_source(app, tmp_path):
    archive = tmp_path / "fresh"
    bad = tmp_path / "bad.vtt"
    bad.write_text("not a caption file")
    at = app("add", archive=archive)
    at.text_input[0].set_value(str(SAMPLES / "transcripts"))
    at.text_area[0].set_value(f"http://127.0.0.1:{_closed_port()}/nothing.mp3")
    at.button[0].click().run()
    deadline = time.time() + 120
    while time.time() < deadline and len(at.success) + len(at.error) < 3:
        time.sleep(1)
        at.run()
    assert len(at.success) == 2 and len(at.error) == 1
    assert "refused" in at.error[0].value.lower()
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


@pytest.mark.parametrize("name, stored", [
    ("../../etc/passwd", "passwd"), ("/abs/path/talk.mp3", "talk.mp3"), ("C:\\Users\\me\\talk.m4a", "talk.m4a"),
    ("..", "upload"), ("rock <script>.mp3", "rock _script_.mp3"), ("интервью.mp3", "интервью.mp3"),
])
def test_uploaded_file_names_are_stored_safely(tmp_path, name, stored):
    from ui.app.uploads import store_upload

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
            f"archive {tmp_path / 'archive'} has schema 1, older than this onrecord's (2); run "
            f"`onrecord --archive {tmp_path / 'archive'} migrate` to upgrade it in place (nothing is deleted)"]
