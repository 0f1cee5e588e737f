"""Write-ups by topic: sections where the conversation turns, the intro, sponsor read and outro set aside, titles
that name the subject, summaries in the interviewees' whole sentences, quotes that are views (never questions
or ads), and subjects nobody discussed said so. Asserted on what the ocean-podcast sample is known to contain
(samples/scripts.json: its turns, their exact times and benchmarks/data/topic_annotations_samples.jsonl)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ROOT, run_cli
from onrecord.search.writeups.asides import find_asides
from onrecord.search.config import Settings
from onrecord.search.models import Quote
from onrecord.search.writeups.sentences import Sentence, split_sentences
from onrecord.search.store import open_archive
from onrecord.search.models import Segment
from onrecord.search.retrieval.text import words
from onrecord.search.writeups.topics import Unit, split_topics
from test_answers import assert_verbatim

SUBJECTS = {"Coral reef bleaching": {"coral", "reef", "reefs", "bleaching", "bleached"},
            "Plastic in the ocean": {"plastic", "plastics", "ocean"},
            "Robots in the deep sea": {"robot", "robots", "deep", "sea", "diver"},
            "Sharks": {"shark", "sharks"}}


@pytest.fixture(scope="module")
def ocean(sample_archive, scripts):
    done = run_cli("--archive", str(sample_archive), "summarize", "ocean-podcast", "--json")
    assert done.returncode == 0, done.stderr
    annotated = next(json.loads(line) for line in
                     (ROOT / "benchmarks/data/topic_annotations_samples.jsonl").read_text().splitlines()
                     if json.loads(line)["episode"] == "ocean-podcast.mp3")
    return json.loads(done.stdout), scripts["ocean-podcast.mp3"], annotated["sections"]


def test_sections_follow_the_conversation(ocean):
    summary, turns, annotated = ocean
    kinds = [t["kind"] for t in summary["topics"]]
    assert kinds[0] == "intro" and kinds[-1] == "outro" and kinds.count("sponsor") == 1, kinds
    assert 3 <= kinds.count("topic") <= 5, kinds
    starts = [t["start"] for t in summary["topics"]]
    for section in annotated:  # every annotated section starts where one is written up (within a turn's slack)
        at = turns[section["turn"]]["start"]
        assert min(abs(s - at) for s in starts) <= 3.0, (section, starts)
    sponsor = next(t for t in summary["topics"] if t["kind"] == "sponsor")
    read = turns[next(s["turn"] for s in annotated if s["kind"] == "sponsor")]
    assert sponsor["start"] <= read["start"] + 3 and sponsor["end"] >= read["end"] - 3
    assert sponsor["summary"] == "" and sponsor["quotes"] == []


def test_titles_name_the_subjects(ocean):
    summary, _, _ = ocean
    titles = [t["title"] for t in summary["topics"] if t["kind"] == "topic"]
    for subject, vocabulary in SUBJECTS.items():
        assert any(set(words(title)) & vocabulary for title in titles), (subject, titles)
    for title in titles:
        assert 1 <= len(title.split()) <= 8 and title[0].isupper(), title
    assert summary["overview"].endswith(".") and " talks about " in summary["overview"], summary["overview"]


def test_summaries_and_quotes_are_the_guests_whole_sentences(ocean, sample_archive):
    summary, turns, annotated = ocean
    questions = [t for t in turns if t["speaker"] == "Sam Reed"]  # the host: his words are never a view
    sponsor = turns[next(s["turn"] for s in annotated if s["kind"] == "sponsor")]
    archive = open_archive(Settings(archive=sample_archive))
    for topic in (t for t in summary["topics"] if t["kind"] == "topic"):
        assert topic["summary"].rstrip()[-1] in ".!", topic["summary"]
        assert topic["summary"][0].isupper(), topic["summary"]
        assert 1 <= len(topic["quotes"]) <= 3
        for q in topic["quotes"]:
            assert_verbatim(archive, Quote(**q))
            assert "?" not in q["text"] and len(q["text"].split()) <= 40
            middle = (q["start"] + q["end"]) / 2
            assert not any(t["start"] <= middle <= t["end"] for t in questions + [sponsor]), q


def test_a_subject_nobody_discussed_is_said_so(sample_archive):
    done = run_cli("--archive", str(sample_archive), "summarize", "--topic", "quantum chromodynamics lattice gauge")
    assert done.returncode == 0 and "No interview discusses this." in done.stdout, done.stdout
    found = json.loads(run_cli("--archive", str(sample_archive), "summarize", "--topic", "sharks in the sea",
                               "--json").stdout)
    assert found["interviews"] and found["interviews"][0]["title"] == "ocean-podcast"


def test_markdown_sets_asides_apart(sample_archive, tmp_path):
    out = tmp_path / "ocean.md"
    assert run_cli("--archive", str(sample_archive), "export", "ocean-podcast", "--format", "md", "-o",
                   str(out)).returncode == 0
    text = out.read_text()
    assert "\n*Sponsor (" in text and "\n*Intro (" in text and "\n## " in text and "\n> “" in text
    assert "Tidewater" not in text.split("## Transcript")[0], "the ad is never written up or quoted"


# -- the parts on their own, on text whose answer is known ----------------------------------------------------


def _sentences(lines: list[tuple[str | None, str]], seconds: float = 6.0) -> list[Sentence]:
    return split_sentences([Segment(n * seconds, (n + 1) * seconds, text, speaker)
                            for n, (speaker, text) in enumerate(lines)])


def test_sentences_are_whole_across_cues_and_keep_their_speaker():
    said = _sentences([("Host", "So tell me how the"), ("Host", "boat works? It is new."),
                       ("Guest", "It floats. Mostly it"), ("Guest", "stays dry.")])
    assert [(s.speaker, s.text) for s in said] == [("Host", "So tell me how the boat works?"),
                                                   ("Host", "It is new."), ("Guest", "It floats."),
                                                   ("Guest", "Mostly it stays dry.")]
    assert said[0].start == 0 and said[0].is_question and said[-1].end == 24.0
    assert said[2].turn == said[3].turn != said[1].turn


def test_sponsor_reads_intro_and_outro_are_found_by_what_they_say():
    talk = [(None, f"We measured the river flow at site {n} and the sediment kept rising.") for n in range(30)]
    lines = [(None, "Welcome to River Talk, I'm your host Jo."), (None, "My guest today is a hydrologist.")] + \
        talk[:12] + [(None, "This episode is brought to you by Acme Maps."),
                     (None, "Acme maps show every trail."), (None, "Visit acme maps dot com and use code RIVER."),
                     (None, "Thanks to Acme for supporting the show.")] + talk[12:] + \
        [(None, "That's all for this episode, thanks for listening.")]
    said = _sentences(lines)
    asides = [(a.kind, a.first, a.last) for a in find_asides(said)]
    assert asides == [("intro", 0, 1), ("sponsor", 14, 17), ("outro", len(said) - 1, len(said) - 1)], asides


def test_topics_follow_the_content_not_the_clock():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(3, 16))
    sizes = [7, 12, 5]
    vectors = np.vstack([c + 0.3 * rng.normal(size=(n, 16)) for c, n in zip(centres, sizes)])
    units = [Unit(i, i, i * 10.0, i * 10.0 + 10, True, False) for i in range(len(vectors))]
    assert split_topics(units, vectors) == [(0, 6), (7, 18), (19, 23)]
    same = centres[0] + 0.3 * rng.normal(size=(24, 16))
    assert split_topics(units, same) == [(0, 23)], "one subject stays one topic however long"
    closed = [Unit(u.first, u.last, u.start, u.end, u.first != 7, False) for u in units]
    assert all(a != 7 for a, _ in split_topics(closed, vectors)), "a topic starts only where one may"
