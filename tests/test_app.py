"""Every page of the Streamlit app through streamlit.testing.v1.AppTest, on real archives."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, SAMPLES, run_cli

MAIN = str(ROOT / "ui" / "app" / "main.py")


@pytest.fixture
def app(monkeypatch, sample_archive):
    """The app on the sample archive; resources are per process, so each test starts them afresh."""
    import streamlit as st

    monkeypatch.setenv("ONRECORD_ARCHIVE", str(sample_archive))
    st.cache_resource.clear()

    def start(page: str | None = None, archive: Path | None = None) -> AppTest:
        if archive:
            monkeypatch.setenv("ONRECORD_ARCHIVE", str(archive))
            st.cache_resource.clear()
        at = AppTest.from_file(MAIN, default_timeout=120).run()
        if page:
            at.switch_page(f"views/{page}.py").run()
        assert not at.exception, at.exception
        return at

    yield start
    st.cache_resource.clear()


def texts(at) -> str:
    return "\n".join(str(m.value) for m in [*at.markdown, *at.caption, *at.title, *at.info, *at.warning,
                                             *at.error, *at.success])


def media(at) -> list:
    return [e for e in at.get("audio") + at.get("video")]


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


def test_interview_page_plays_from_a_clicked_timestamp(app):
    at = app()
    at.session_state["interview_id"] = _id_of(at, "rockets-interview")
    at.switch_page("views/interview.py").run()
    assert at.title[0].value == "rockets-interview"
    [audio] = media(at)
    assert audio.proto.start_time == 0
    segment = next(b for b in at.button if b.key == "seg-2")
    segment.click().run()
    [audio] = media(at)
    assert audio.proto.start_time == int(float(segment.label[:2]) * 60 + float(segment.label[3:]))
    assert audio.proto.autoplay
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download SRT", "Download VTT", "Download TXT", "Download JSON"], "Markdown comes with topics"
    next(b for b in at.button if b.label == "Write up the topics").click().run()
    asides = ("Intro", "Sponsor", "Outro", "Speakers")
    assert any("·" in e.label and not e.label.startswith(asides) for e in at.expander)
    assert "Download MD" in [b.proto.label for b in at.get("download_button")]


def _id_of(at, title: str) -> str:
    from search.config import Settings
    from search.store import open_archive

    return next(i.id for i in open_archive(Settings()).list() if i.title == title)


def test_search_highlights_and_plays_in_place(app, scripts):
    at = app("search")
    at.text_input(key="search_query").set_value("how does the booster land").run()
    first = next(m.value for m in at.markdown if "<mark>" in str(m.value))
    assert "<mark>booster</mark>" in first
    at.button(key="hit-0").click().run()
    [audio] = media(at)
    answer = scripts["rockets-interview.mp3"][5]  # "The booster flips around…": the hit is the answer
    assert abs(audio.proto.start_time - answer["start"]) <= 1.5 and audio.proto.autoplay


def test_ask_answers_extractively_with_playable_quote_chips(app):
    at = app("ask")
    assert "Extractive mode" in texts(at)
    at.chat_input[0].set_value("what do volunteers do in the garden?").run()
    assert "Extractive answer" in texts(at) and "volunteers" in texts(at)
    chip = at.button(key="ask0-q1")
    chip.click().run()
    assert len(media(at)) == 0, "gardening is a transcript: no recording to play"
    assert "Transcript only" in texts(at)


def test_topics_across_interviews(app):
    at = app("topics")
    at.text_input(key="topic").set_value("coffee prices and climate").run()
    assert "coffee-interview" in texts(at)
    at.button(key="take0-q1").click().run()
    [audio] = media(at)
    assert audio.proto.autoplay


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


def test_transcript_html_is_shown_as_text(app, tmp_path):
    archive = tmp_path / "html"
    vtt = tmp_path / "html.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Eve>&lt;script&gt;alert('x')&lt;/script&gt; "
                   "and <b>bold</b> [a link](javascript:alert(1))\n")
    run_cli("--archive", str(archive), "ingest", str(vtt))
    at = app("search", archive=archive)
    at.text_input(key="search_query").set_value("alert script").run()
    shown = next(m.value for m in at.markdown if "alert" in str(m.value))
    assert "<script" not in shown and "&lt;<mark>script</mark>&gt;" in shown
    assert "\\[a link\\](javascript" in shown, "Markdown link syntax is escaped, so no link is made"


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


def test_interview_page_names_a_speaker(app, tmp_path):
    archive = tmp_path / "archive"
    assert run_cli("--archive", str(archive), "ingest", str(SAMPLES / "transcripts" / "gardening.vtt")).returncode == 0
    at = app("interview", archive=archive)
    assert "Interviewer · 00:36 of talk · “Welcome back." in texts(at)  # six questions, 36.7 s in all

    def rename(who: str, name: str) -> None:
        next(s for s in at.selectbox if s.label == "Speaker").select(who)
        next(t for t in at.text_input if t.label == "Name").input(name)
        next(b for b in at.button if b.label == "Rename").click().run()
        assert not at.exception, at.exception

    rename("Interviewer", "Sam Lee")
    assert "Sam Lee (Interviewer) · 00:36" in texts(at)
    assert "**Sam Lee:** Welcome back." in [str(m.value)[:len("**Sam Lee:** Welcome back.")] for m in at.markdown]
    rename("Sam Lee", "Dana Ortiz")
    assert "'Dana Ortiz' is already a speaker of gardening" in texts(at)
