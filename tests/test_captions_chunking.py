"""Transcript parsing and chunking, on hand-made inputs whose right answer is known."""

from __future__ import annotations

import pytest

from onrecord.ingest.captions import CaptionError, parse_srt, parse_vtt
from onrecord.search.retrieval.chunking import chunk_segments
from onrecord.search.models import Segment
from onrecord.search.timefmt import format_timestamp, parse_timestamp


def test_vtt_voice_tags_entities_and_styling():
    text = ("\ufeffWEBVTT - a header\n\nNOTE a comment\n\ncue-1\n00:00:01.500 --> 00:00:04.000 align:start\n"
            "<v.loud Ann Lee>Fish &amp; <i>chips</i></v>\n\n01:02:03.250 --> 01:02:05.000\n<c.x>No voice</c>\n"
            "second line\n")
    segments = parse_vtt(text, "t").segments
    assert segments == [Segment(1.5, 4.0, "Fish & chips", "Ann Lee"),
                        Segment(3723.25, 3725.0, "No voice second line", None)]


def test_srt_and_its_comma_timestamps():
    text = "1\n00:00:01,000 --> 00:00:02,500\nHello <b>there</b>\n\n2\n00:00:03,000 --> 00:00:04,000\nAgain\n"
    assert [(s.start, s.end, s.text) for s in parse_srt(text, "t").segments] == [
        (1.0, 2.5, "Hello there"), (3.0, 4.0, "Again")]


@pytest.mark.parametrize("text, message", [
    ("WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nhi\n", "line 3: bad cue timing"),
    ("WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nhi\n", "line 3: cue ends before it starts"),
    ("WEBVTT\n\njust text\n", "no cues found"),
])
def test_malformed_vtt_names_the_line(text, message):
    with pytest.raises(CaptionError, match=message):
        parse_vtt(text, "t")


def test_timestamps_format_and_parse_back():
    assert format_timestamp(3723.25, always_hours=True, decimal=",") == "01:02:03,250"
    assert format_timestamp(65.4, millis=False) == "01:05"
    assert parse_timestamp("01:02:03,250") == 3723.25
    with pytest.raises(ValueError):
        parse_timestamp("00:61:00.000")


def _count_words(texts):
    return [len(t.split()) for t in texts]


def test_chunks_fill_to_the_limit_and_break_on_speaker_change():
    segments = [Segment(float(i), i + 1.0, f"w{i} x y", "A" if i < 5 else "B") for i in range(8)]
    chunks = list(chunk_segments(iter(segments), _count_words, max_tokens=7, min_tokens=0))
    assert [(c.first_segment, c.last_segment, c.speaker) for c in chunks] == [
        (0, 1, "A"), (2, 3, "A"), (4, 4, "A"), (5, 6, "B"), (7, 7, "B")]
    assert (chunks[0].start, chunks[0].end, chunks[0].text) == (0.0, 2.0, "w0 x y w1 x y")


def test_short_turns_are_grouped_and_long_turns_keep_their_own_chunks():
    """A meeting: long turns of A and C, with one-word turns of B between them."""
    said = [("A", 30), ("B", 1), ("A", 30), ("B", 1), ("B", 1), ("C", 60), ("B", 1), ("A", 5)]
    segments = [Segment(float(i), i + 1.0, " ".join(["w"] * n), who) for i, (who, n) in enumerate(said)]
    chunks = list(chunk_segments(segments, _count_words, max_tokens=100, min_tokens=40))
    assert [(c.first_segment, c.last_segment, c.speaker, c.speakers) for c in chunks] == [
        (0, 2, None, ("A", "B")),  # 30 words of A are too few to end a chunk: B's "w" and A's next turn join
        (3, 5, None, ("B", "C")),  # 61 words end it at the change to B; B's two words are too few, so C joins
        (6, 7, None, ("B", "A")),  # 62 words end that one; the rest is what is left
    ]
    alone = list(chunk_segments(segments, _count_words, max_tokens=100, min_tokens=0))
    assert len(alone) == 7 and all(len(c.speakers) == 1 for c in alone), "without grouping: one chunk a turn"


def test_an_oversized_segment_is_a_chunk_of_its_own():
    segments = [Segment(0, 1, "a"), Segment(1, 2, "b " * 50), Segment(2, 3, "c")]
    chunks = list(chunk_segments(segments, _count_words, max_tokens=10))
    assert [(c.first_segment, c.last_segment) for c in chunks] == [(0, 0), (1, 1), (2, 2)]
