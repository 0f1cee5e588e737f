"""The conversation, not just words and times: hits and quotes are one speaker's words, and a question lands on
its answer. Tested on transcripts whose speakers and cue times are known exactly (voice-tagged WebVTT)."""

from __future__ import annotations

import json

import pytest

from conftest import SAMPLES, run_cli, script_vtt
from onrecord.search.models import Segment
from onrecord.search.writeups.quotes import TranscriptText


def _search(*args):
    done = run_cli("search", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def rockets(tmp_path, isolated_archive, scripts):
    """The rockets interview's script with its two speakers, one cue per sentence, cue n at [4n, 4n + 3.5]."""
    vtt, cues = script_vtt(tmp_path / "rockets.vtt", scripts["rockets-interview.mp3"], voices=True)
    assert run_cli("ingest", str(vtt), str(SAMPLES / "transcripts")).returncode == 0
    return cues


def _at(cues, text: str) -> float:
    return 4.0 * [t for _, t in cues].index(text)


def test_a_question_lands_on_its_answer(rockets):
    top = _search("how do they bring the rocket back", "--limit", "1")[0]
    assert top["speaker"] == "Laura Bennett"
    assert top["start"] == _at(rockets, "The booster flips around and fires its engines.")
    assert top["text"] == "The booster flips around and fires its engines. Then it lands on a ship in the ocean."
    assert top["context_before"] == "How do you bring a booster back?"
    assert top["context_after"] == "What about a giant ship like Starship?"


def test_gardening_question_lands_on_dana(isolated_archive):
    assert run_cli("ingest", str(SAMPLES / "transcripts" / "gardening.vtt")).returncode == 0
    top = _search("what grows best on the roof with the wind and sun", "--limit", "1")[0]
    assert top["speaker"] == "Dana Ortiz" and top["start"] == 23.8
    assert top["text"].startswith("Tomatoes, peppers and herbs love it.")
    assert top["context_before"] == "What grows best up here, with all the wind and sun?"


def test_asking_for_the_interviewer_keeps_the_question(rockets):
    """A search restricted to one speaker stays on that speaker's words."""
    top = _search("how do you bring a booster back", "--speaker", "interviewer", "--limit", "1")[0]
    assert top["speaker"] == "Interviewer" and top["text"] == "How do you bring a booster back?"


def test_a_hit_never_crosses_into_another_speakers_turn(rockets):
    """"reusable" is said by both; each hit's words are one speaker's, whatever the chunking."""
    for hit in _search("reusable rockets ship", "--limit", "10", "--mode", "keyword"):
        speakers = {who for who, text in rockets if text in hit["text"]}
        assert speakers == {hit["speaker"]}, hit


def test_extractive_answer_quotes_the_answerer_only(isolated_archive):
    assert run_cli("ingest", str(SAMPLES / "transcripts" / "gardening.vtt")).returncode == 0
    done = run_cli("ask", "What grows best up here, with all the wind and sun?", "--json")
    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout)["quotes"][0]
    assert first["speaker"] == "Dana Ortiz" and first["text"].startswith("Tomatoes, peppers and herbs")
    assert "wind and sun" not in first["text"]


def _segments(*turns: tuple[str | None, str, float]) -> list[Segment]:
    return [Segment(start, start + 3, text, speaker) for speaker, text, start in turns]


def test_a_quote_across_a_change_of_speaker_is_cut_to_one_speaker():
    transcript = TranscriptText(_segments(
        ("Host", "What grows best up here?", 0.0),
        ("Dana", "Tomatoes, peppers and herbs love it.", 4.0)))
    span = transcript.find("What grows best up here? Tomatoes, peppers and herbs love it.")
    assert (span.text, span.speaker, span.start) == ("Tomatoes, peppers and herbs love it.", "Dana", 4.0)
    same = transcript.find("what grows best")
    assert (same.text, same.speaker) == ("What grows best", "Host")
    unknown = TranscriptText(_segments((None, "So it goes.", 0.0), (None, "And on.", 4.0)))
    assert unknown.find("so it goes and on").text == "So it goes. And on."


def _speakers(*args):
    done = run_cli("speakers", "gardening", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_speakers_are_listed_named_and_the_name_is_used_everywhere(isolated_archive, tmp_path):
    assert run_cli("ingest", str(SAMPLES / "transcripts" / "gardening.vtt")).returncode == 0
    rows = _speakers()
    assert [(r["label"], r["name"]) for r in rows] == [("Interviewer", None), ("Dana Ortiz", None)]
    host = rows[0]
    assert host["first_words"] == "Welcome back. Today I am on a rooftop garden with Dana Ortiz,"  # 12 words
    assert host["segments"] == 6 and host["seconds"] == pytest.approx(sum(
        end - start for start, end in [(0, 7.4), (17.5, 23.2), (35.3, 41.0), (54.6, 60.2), (73.1, 79.8),
                                       (94.3, 99.9)]), abs=0.2)
    renamed = _speakers("--rename", "interviewer", "Sam Lee")
    assert [(r["label"], r["name"]) for r in renamed] == [("Interviewer", "Sam Lee"), ("Dana Ortiz", None)]
    assert json.loads(run_cli("list", "--json").stdout)[0]["speakers"] == ["Sam Lee", "Dana Ortiz"]
    for who in ("sam lee", "INTERVIEWER"):  # the filter takes the name or the label
        hits = _search("roof", "--speaker", who, "--limit", "20")
        assert hits and {h["speaker"] for h in hits} == {"Sam Lee"}
    vtt = run_cli("export", "gardening", "--format", "vtt").stdout
    assert "<v Sam Lee>Welcome back." in vtt and "<v Interviewer>" not in vtt
    assert "[00:00] Sam Lee: Welcome back." in run_cli("export", "gardening", "--format", "txt").stdout
    assert [r["name"] for r in _speakers("--rename", "Sam Lee", "Interviewer")] == [None, None], "undone"
    assert "<v Interviewer>Welcome back." in run_cli("export", "gardening", "--format", "vtt").stdout


@pytest.mark.parametrize("args, message", [
    (["--rename", "Nobody", "X"], "no speaker 'Nobody' in gardening (its speakers: Interviewer, Dana Ortiz)"),
    (["--rename", "Interviewer", "dana ortiz"], "'dana ortiz' is already a speaker of gardening"),
    (["--rename", "Interviewer", "  "], "the new name is empty"),
])
def test_bad_renames_are_one_line_and_change_nothing(isolated_archive, args, message):
    assert run_cli("ingest", str(SAMPLES / "transcripts" / "gardening.vtt")).returncode == 0
    done = run_cli("speakers", "gardening", *args)
    assert done.returncode == 1 and done.stderr.startswith(f"error: {message}")
    assert [r["name"] for r in _speakers()] == [None, None]


def test_a_question_that_names_a_speaker_gets_that_speakers_words(isolated_archive):
    assert run_cli("ingest", str(SAMPLES / "transcripts" / "gardening.vtt")).returncode == 0
    assert {h["speaker"] for h in _search("what did they say about the roof")} == {"Dana Ortiz"}  # the answers
    assert {h["speaker"] for h in _search("what did the interviewer say about the roof")} == {"Interviewer"}
    assert {h["speaker"] for h in _search("what did Dana say about the roof")} == {"Dana Ortiz"}
    _speakers("--rename", "Interviewer", "CFO (Sam Lee)")  # a role and a name, as a newsroom might label them
    for question in ("what did the CFO say about the roof", "what did sam lee say about the roof"):
        assert {h["speaker"] for h in _search(question)} == {"CFO (Sam Lee)"}
    # Only the host says "chore"; when the named speaker said nothing that fits, everyone's words are searched
    # (and the host's question lands on Dana's answer).
    [fallback] = _search("what did Dana say about a chore", "--mode", "keyword", "--limit", "1")
    assert "daily chore" in fallback["context_before"] and fallback["speaker"] == "Dana Ortiz"


def test_markdown_write_up_attributes_quotes_to_speakers_and_invents_none(isolated_archive):
    assert run_cli("ingest", str(SAMPLES / "transcripts")).returncode == 0
    garden = run_cli("export", "gardening", "--format", "md").stdout
    attributed = [line for line in garden.splitlines() if line.startswith("> “")]
    assert attributed and all(" — Dana Ortiz, " in q or " — Interviewer, " in q for q in attributed)
    chess = run_cli("export", "chess-podcast", "--format", "md").stdout
    assert "> “" in chess and "unknown speaker" not in chess
