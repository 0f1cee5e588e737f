"""The Streamlit app's reading pages (interview, search, ask, topics) through streamlit.testing.v1.AppTest."""

from __future__ import annotations

import json

from apptest import id_of, media, texts
from conftest import SAMPLES, run_cli


def reader(at) -> dict:
    """What the page hands the reader component: paragraphs, the cued moment, a pending seek."""
    [component] = [e for e in at.get("bidi_component") if e.proto.component_name == "onrecord_reader"]
    return json.loads(component.proto.json)


def seconds(label: str) -> int:
    return int(label[:2]) * 60 + int(label[3:5])


def test_a_deep_link_opens_the_reader_cued_at_that_moment(app):
    at = app()
    at.query_params.update(id=id_of(at, "rockets-interview"), t="20")
    at.switch_page("views/interview.py").run()
    assert at.title[0].value == "rockets-interview"
    [audio] = media(at)
    assert audio.proto.start_time == 20 and not audio.proto.autoplay, "cued there; it plays when the user presses"
    data = reader(at)
    assert data["cue"] == 20 and data["seek"] is None and data["player"] == "reader-player"
    words = " ".join(s[2] for p in data["paras"] for s in p["s"]).lower()
    assert "reusable rockets" in words and "booster" in words
    assert all(p["who"] for p in data["paras"]), "every paragraph names its speaker"
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download SRT", "Download VTT", "Download TXT", "Download JSON"], "Markdown comes with topics"


def test_a_topic_quote_moves_the_one_player_and_switching_interviews_starts_silent(app):
    at = app()
    ocean, rockets = id_of(at, "ocean-podcast"), id_of(at, "rockets-interview")
    at.query_params["id"] = ocean
    at.switch_page("views/interview.py").run()
    next(b for b in at.button if b.label == "Write up the topics").click().run()
    assert "Download MD" in [b.proto.label for b in at.get("download_button")]
    chip = next(b for b in at.button if b.key and "-q1" in b.key)
    chip.click().run()
    [audio] = media(at)  # still one player: the quote moves it, it does not open another
    assert not audio.proto.autoplay
    seek = reader(at)["seek"]
    assert seek["play"] and int(seek["t"]) == seconds(chip.label)
    at.run()
    assert reader(at)["seek"] is None, "a seek is asked for once"
    next(s for s in at.selectbox if s.label == "Interview").select(rockets).run()
    [audio] = media(at)
    assert reader(at)["seek"] is None and reader(at)["cue"] is None and audio.proto.start_time == 0
    assert not audio.proto.autoplay and at.query_params["id"] == rockets and "t" not in at.query_params


def test_a_transcript_has_a_reader_and_no_player(app):
    at = app()
    at.query_params.update(id=id_of(at, "gardening"), t="30")
    at.switch_page("views/interview.py").run()
    assert media(at) == [] and "Transcript only" in texts(at)
    data = reader(at)
    assert data["player"] is None and data["cue"] == 30
    assert [p["who"] for p in data["paras"]][:2] == ["Interviewer", "Dana Ortiz"]


def test_title_and_date_are_edited_in_the_app(app, tmp_path):
    archive = tmp_path / "archive"
    assert run_cli("--archive", str(archive), "ingest", str(SAMPLES / "transcripts" / "gardening.vtt")).returncode == 0
    at = app("interview", archive=archive)
    assert "added " in at.caption[0].value

    def save(title: str, date: str) -> None:
        next(t for t in at.text_input if t.label == "Title").input(title)
        next(t for t in at.text_input if t.label == "Recorded on").input(date)
        next(b for b in at.button if b.label == "Save").click().run()
        assert not at.exception, at.exception

    save("Rooftop gardens", "2020-07-23")
    assert at.title[0].value == "Rooftop gardens" and "recorded 2020-07-23" in at.caption[0].value
    listed = json.loads(run_cli("--archive", str(archive), "list", "--json").stdout)
    assert [(i["title"], i["date"]) for i in listed] == [("Rooftop gardens", "2020-07-23")]
    save("Rooftop gardens", "2020-02-30")
    assert "bad date '2020-02-30'" in texts(at) and "recorded 2020-07-23" in at.caption[0].value


def test_a_weak_match_says_so_and_nothing_close_says_nothing_matched(app):
    at = app()
    at.query_params["q"] = "why do they land the rocket"
    at.switch_page("views/search.py").run()
    next(r for r in at.radio if r.label == "Mode").set_value("semantic").run()
    assert "Weak match" in texts(at), "found by meaning only, and not very close"
    at.text_input(key="search_query").set_value("Which wine goes with grilled octopus?").run()
    assert "Nothing matched" in texts(at) and "Weak match" not in texts(at)


def test_search_links_plays_once_and_a_new_search_starts_silent(app, scripts):
    at = app()
    at.query_params["q"] = "how does the booster land"
    at.switch_page("views/search.py").run()
    first = next(m.value for m in at.markdown if "<mark>" in str(m.value))
    assert "<mark>booster</mark>" in first, "/search?q=… runs the search"
    links = at.get("page_link")
    rockets = id_of(at, "rockets-interview")
    assert any(f"id={rockets}" in str(link.proto) for link in links), "each hit opens the reader on its moment"
    at.button(key="play-0").click().run()
    [audio] = media(at)
    answer = scripts["rockets-interview.mp3"][5]  # "The booster flips around…": the hit is the answer
    assert abs(audio.proto.start_time - answer["start"]) <= 1.5 and audio.proto.autoplay
    at.run()
    assert [a.proto.autoplay for a in media(at)] == [False], "it started once, in the run of the press"
    at.text_input(key="search_query").set_value("why does reuse matter").run()
    assert media(at) == [] and at.query_params["q"] == "why does reuse matter"


def test_paragraphs_follow_turns_pauses_and_sentences():
    from onrecord.search.models import Segment
    from onrecord.search.paragraphs import paragraphs

    said = [Segment(0, 3, "Hi.", "A"), Segment(3, 6, "Hello there.", "B"), Segment(6, 9, "And so", "B"),
            Segment(12, 14, "on.", "B")] + [Segment(14 + 5 * k, 19 + 5 * k, f"Part {k}.", "B") for k in range(12)]
    shown = [(p.speaker, p.start, p.end) for p in paragraphs(said)]
    assert shown[:2] == [("A", 0, 3), ("B", 3, 9)], "a new speaker, then a 3-s pause, start paragraphs"
    assert shown[2][0] == "B" and shown[2][1] == 12 and 45 <= shown[2][2] - 12 <= 50, "long ones end at a sentence"
    assert sum(len(p.segments) for p in paragraphs(said)) == len(said)


def test_ask_answers_extractively_with_playable_quote_chips(app):
    at = app("ask")
    assert "Extractive mode" in texts(at)
    at.chat_input[0].set_value("what do volunteers do in the garden?").run()
    assert "Extractive answer" in texts(at) and "volunteers" in texts(at)
    assert "ask0-q1" not in [b.key for b in at.button], "gardening is a transcript: nothing to play"
    assert any("t=" in str(link.proto) for link in at.get("page_link")), "the quote opens the reader there"


def test_topics_across_interviews(app):
    at = app("topics")
    at.text_input(key="topic").set_value("coffee prices and climate").run()
    assert "coffee-interview" in texts(at)
    at.button(key="take0:coffee prices and climate-q1").click().run()
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
    assert reader(at)["paras"][0]["who"] == "Sam Lee"
    rename("Sam Lee", "Dana Ortiz")
    assert "'Dana Ortiz' is already a speaker of gardening" in texts(at)


def test_an_empty_archive_says_what_to_do_next_on_every_reading_page(app, tmp_path):
    for page in ("interview", "search", "ask", "topics"):
        at = app(page, archive=tmp_path / "empty")
        assert "the archive is empty" in texts(at).lower() or "No interviews yet" in texts(at), page
        assert [link.proto.label for link in at.get("page_link")] == ["Add your first interview"], page


def test_a_rerun_reuses_the_transcript_and_writes_no_export_until_asked(app, monkeypatch):
    """The interview page reruns on every click: the transcript is read once per archive revision, and the five
    export formats are written only when their download is clicked."""
    from onrecord.search import export as export_module
    from onrecord.search.store.archive import Archive

    reads, written = [], []
    real_segments, real_export = Archive.segments, export_module.export
    monkeypatch.setattr(Archive, "segments", lambda self, i: reads.append(i.id) or real_segments(self, i))
    monkeypatch.setattr(export_module, "export", lambda *a, **k: written.append(a[2]) or real_export(*a, **k))
    at = app()
    rockets = id_of(at, "rockets-interview")
    at.query_params["id"] = rockets
    at.switch_page("views/interview.py").run()
    assert reads.count(rockets) == 1
    for _ in range(3):
        at.run()
    assert reads.count(rockets) == 1 and not at.exception
    assert {"Download SRT", "Download VTT", "Download TXT"} <= {b.proto.label for b in at.get("download_button")}
    assert written == [], "no export is written while the page is only drawn"
