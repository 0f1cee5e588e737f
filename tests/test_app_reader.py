"""The Streamlit app's reading pages (interview, search, ask, topics) through streamlit.testing.v1.AppTest."""

from __future__ import annotations

from apptest import id_of, media, texts
from conftest import SAMPLES, run_cli


def test_interview_page_plays_from_a_clicked_timestamp(app):
    at = app()
    at.session_state["interview_id"] = id_of(at, "rockets-interview")
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
