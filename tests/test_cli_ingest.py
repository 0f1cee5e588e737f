"""The archive through the real `onrecord` CLI: ingest, list, show, export, delete, reindex."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import wave

import pytest

from conftest import SAMPLES, json_lines, run_cli

COMMANDS = ["ingest", "list", "show", "export", "delete", "reindex", "migrate", "search", "ask", "summarize", "ui",
            "speakers", "diarize", "edit", "serve", "mcp"]
AUDIO = ["city-bikes.mp4", "coffee-interview.ogg", "packaging-talk.m4a", "rockets-interview.mp3", "ocean-podcast.mp3"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_json(command):
    done = run_cli(command, "--help")
    assert done.returncode == 0
    assert "--json" in done.stdout
    assert done.stdout.splitlines()[0].startswith("Usage: ")


def test_every_command_is_tested_for_help():
    from onrecord.ui.cli import main

    assert sorted(main.commands) == sorted(COMMANDS)


def test_readme_quick_start_is_the_two_make_targets_ci_runs():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "\ndemo: install\n" in makefile and "\ntest: install-test\n" in makefile
    runtime = makefile.split("\n$(VENV)/.installed:", 1)[1].split("\n\n", 1)[0]
    assert "[test]" not in runtime and "llama" not in runtime, "the demo installs no test extras (nothing compiled)"


READ_COMMANDS = [["list"], ["show", "x"], ["speakers", "x"], ["diarize", "--all"], ["export", "x"],
                 ["delete", "x", "-y"], ["reindex"], ["migrate"], ["search", "water"], ["ask", "why?"],
                 ["summarize", "x"], ["summarize", "--topic", "x"], ["ui"]]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_a_command_on_a_missing_archive_says_so_and_creates_nothing(isolated_archive, tmp_path, command):
    """A typo in --archive must not leave an empty archive behind (embedded or on a server)."""
    where = isolated_archive if isinstance(isolated_archive, str) else tmp_path / "no" / "such" / "place"
    for _ in range(2):  # the second run proves the first created nothing
        done = run_cli("--archive", str(where), *command, "--json")
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr == f"error: no archive at {where}: nothing has been ingested there (check the path; " \
                              "`onrecord ingest` creates an archive)\n"
    assert not (tmp_path / "no").exists()


def _listed(archive) -> dict[str, dict]:
    done = run_cli("--archive", str(archive), "list", "--json")
    assert done.returncode == 0, done.stderr
    return {item["title"]: item for item in json.loads(done.stdout)}


def test_samples_ingest_into_a_listed_archive(sample_archive, scripts):
    listed = _listed(sample_archive)
    assert set(listed) == {"city-bikes", "coffee-interview", "packaging-talk", "rockets-interview",
                           "ocean-podcast", "gardening", "chess-podcast"}
    for item in listed.values():
        assert set(item) >= {"id", "title", "source", "duration", "language", "speakers", "segments", "chunks",
                             "created"}
        assert re.fullmatch(r"[0-9a-f]{16}", item["id"])
        assert item["segments"] > 0 and 0 < item["chunks"] <= item["segments"]
    assert listed["gardening"]["speakers"] == ["Interviewer", "Dana Ortiz"]
    assert listed["rockets-interview"]["language"] == "en"
    assert 35 < listed["rockets-interview"]["duration"] < 60


@pytest.mark.parametrize("name", AUDIO)
def test_media_is_transcribed_with_word_timings(sample_archive, scripts, name):
    item = _listed(sample_archive)[name.rsplit(".", 1)[0]]
    done = run_cli("--archive", str(sample_archive), "export", item["id"], "--format", "json")
    data = json.loads(done.stdout)
    assert data["interview"]["id"] == item["id"]
    spoken = " ".join(s["text"] for s in data["segments"]).lower()
    script_words = {w for turn in scripts[name] for w in re.findall(r"[a-z]{6,}", turn["text"].lower())}
    heard = {w for w in script_words if w in spoken}
    assert len(heard) >= 0.6 * len(script_words), (spoken, script_words - heard)
    for segment in data["segments"]:
        assert segment["words"], segment
        for word in segment["words"]:
            assert segment["start"] - 0.5 <= word["start"] <= word["end"] <= segment["end"] + 0.5
            assert 0 <= word["probability"] <= 1


def test_reingest_is_skipped_and_writes_nothing(sample_archive):
    before = _listed(sample_archive)
    done = run_cli("--archive", str(sample_archive), "ingest", str(SAMPLES), "--json")
    assert done.returncode == 0, done.stderr
    results = json_lines(done.stdout)
    assert len(results) == 7 and {r["status"] for r in results} == {"skipped"}
    assert all(set(r) == {"source", "interview_id", "status", "error", "duration", "notice"} for r in results)
    assert _listed(sample_archive) == before


def test_show_prints_metadata_and_timestamped_transcript(sample_archive):
    done = run_cli("--archive", str(sample_archive), "show", "gardening")
    assert done.returncode == 0, done.stderr
    assert "speakers: Interviewer, Dana Ortiz" in done.stdout
    assert "[00:00] Interviewer: Welcome back." in done.stdout


@pytest.mark.parametrize("fmt", ["srt", "vtt", "txt", "md"])
def test_text_exports(sample_archive, fmt, tmp_path):
    out = tmp_path / f"gardening.{fmt}"
    done = run_cli("--archive", str(sample_archive), "export", "gardening", "--format", fmt, "-o", str(out),
                   "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"interview_id": _listed(sample_archive)["gardening"]["id"],
                                       "format": fmt, "path": str(out)}
    text = out.read_text()
    assert "rooftop garden" in text
    expected = {"srt": "00:00:00,000 --> ", "vtt": "<v Dana Ortiz>", "txt": "[00:08] Dana Ortiz: ",
                "md": "# gardening"}[fmt]
    assert expected in text


def test_exports_round_trip_into_another_archive(sample_archive, tmp_path):
    """VTT keeps text, times and speakers, and so does JSON; an imported JSON export's id comes from its own
    content, like any transcript file's, not from the id it carries."""
    rockets = _listed(sample_archive)["rockets-interview"]
    for fmt in ("vtt", "json"):
        out = tmp_path / f"rockets.{fmt}"
        run_cli("--archive", str(sample_archive), "export", rockets["id"], "--format", fmt, "-o", str(out))
        done = run_cli("--archive", str(tmp_path / "other"), "ingest", str(out), "--json")
        assert json_lines(done.stdout)[0]["status"] == "added", done.stdout + done.stderr
    imported = json.loads(run_cli("--archive", str(tmp_path / "other"), "list", "--json").stdout)
    exported = hashlib.sha256((tmp_path / "rockets.json").read_bytes()).hexdigest()[:16]
    assert exported in {i["id"] for i in imported} and rockets["id"] not in {i["id"] for i in imported}
    original = json.loads(run_cli("--archive", str(sample_archive), "export", rockets["id"], "--format",
                                  "json").stdout)["segments"]
    for item in imported:
        copy = json.loads(run_cli("--archive", str(tmp_path / "other"), "export", item["id"], "--format",
                                  "json").stdout)["segments"]
        assert [s["text"] for s in copy] == [s["text"] for s in original]
        assert [round(s["start"], 2) for s in copy] == [round(s["start"], 2) for s in original]


def _silence(path, seconds=3):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 16000 * seconds)


def test_bad_inputs_fail_one_line_each_and_the_batch_carries_on(tmp_path, isolated_archive):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.mp3").write_bytes(b"")
    (bad / "notes.mp3").write_text("this is a text file, not audio\n" * 50)
    data = (SAMPLES / "rockets-interview.mp3").read_bytes()
    (bad / "truncated.mp3").write_bytes(data[: len(data) // 3])
    _silence(bad / "silence.wav")
    (bad / "broken.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:0x:02.000\nhello\n")
    (bad / "broken.srt").write_text("1\n00:00:01,000 -> 00:00:02,000\nhello\n")
    (bad / "not-vtt.vtt").write_text("hello there\n")
    (bad / "latin1.srt").write_bytes("1\n00:00:01,000 --> 00:00:02,000\ncaf\xe9\n".encode("latin-1"))
    os.mkfifo(bad / "pipe.mp3")  # opening it would block forever; it must be refused up front
    (bad / "dangling.mp3").symlink_to(bad / "gone.mp3")
    good = tmp_path / "good ünïcødé name.vtt"
    shutil.copy(SAMPLES / "transcripts" / "gardening.vtt", good)
    sources = [str(p) for p in sorted(bad.iterdir())] + [str(tmp_path / "missing.wav"), str(good)]
    done = run_cli("ingest", *sources, "--json")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    results = {r["source"]: r for r in json_lines(done.stdout)}
    assert len(results) == len(sources)
    assert results[str(good)]["status"] == "added"
    reasons = {
        "empty.mp3": "empty", "notes.mp3": "not a media file", "truncated.mp3": "truncated",
        "silence.wav": "no speech", "broken.vtt": "line 3", "broken.srt": "no cues", "not-vtt.vtt": "WEBVTT",
        "latin1.srt": "UTF-8", "pipe.mp3": "not a regular file", "dangling.mp3": "no such file",
        "missing.wav": "no such file",
    }
    for source, result in results.items():
        if source == str(good):
            continue
        name = source.rsplit("/", 1)[-1]
        assert result["status"] == "failed", result
        assert reasons[name] in result["error"], result
        assert "\n" not in result["error"]
    assert [i["title"] for i in json.loads(run_cli("list", "--json").stdout)] == [good.stem]
    human = run_cli("ingest", str(bad / "notes.mp3"))
    assert human.returncode == 1 and "Traceback" not in human.stderr
    assert human.stderr.strip().splitlines()[-1].startswith(f"error: {bad / 'notes.mp3'}: ")


def test_title_delete_and_unknown_ids(tmp_path):
    vtt = SAMPLES / "transcripts" / "gardening.vtt"
    added = json_lines(run_cli("ingest", str(vtt), "--title", "Roof farming", "--json").stdout)[0]
    assert json.loads(run_cli("list", "--json").stdout)[0]["title"] == "Roof farming"
    two = run_cli("ingest", str(vtt), str(SAMPLES / "transcripts" / "chess-podcast.srt"), "--title", "x")
    assert two.returncode == 1 and "--title needs exactly one source" in two.stderr
    for command in (["show", "nope"], ["export", "nope"], ["delete", "nope"]):
        done = run_cli(*command)
        assert done.returncode == 1 and done.stderr.startswith("error: no interview matches 'nope'")
    gone = run_cli("delete", added["interview_id"][:6], "--yes", "--json")
    assert json.loads(gone.stdout) == {"deleted": added["interview_id"], "title": "Roof farming"}
    assert json.loads(run_cli("list", "--json").stdout) == []
    again = json_lines(run_cli("ingest", str(vtt), "--json").stdout)[0]
    assert again["status"] == "added" and again["interview_id"] == added["interview_id"]


def test_the_int8_minilm_is_a_model_of_its_own(tmp_path):
    """`all-MiniLM-L6-v2-int8` (the bundled MiniLM quantized to int8 on first use) indexes an archive of its own:
    queries are embedded with it, and the full-precision model cannot add to that archive."""
    archive = str(tmp_path / "int8")
    done = run_cli("--archive", archive, "ingest", str(SAMPLES / "transcripts" / "gardening.vtt"),
                   "--embed-model", "all-MiniLM-L6-v2-int8", "--json")
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, "quantizing says nothing a user could act on"
    hits = json.loads(run_cli("--archive", archive, "search", "raised beds on a roof", "--mode", "semantic",
                              "--json").stdout)
    assert hits and all(h["title"] == "gardening" for h in hits)
    mixed = run_cli("--archive", archive, "ingest", str(SAMPLES / "transcripts" / "chess-podcast.srt"),
                    "--embed-model", "all-MiniLM-L6-v2")
    assert mixed.returncode == 1 and "indexed with 'all-MiniLM-L6-v2-int8'" in mixed.stderr
