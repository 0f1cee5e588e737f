"""An interview's title and recording date: found on the way in (feed, tags, caption header, file name, what the
opening says), and changed in place with `onrecord edit`."""

from __future__ import annotations

import json
import shutil
import subprocess
import pytest

from conftest import SAMPLES, run_cli
from onrecord.ingest.captions import parse_srt, parse_vtt
from onrecord.ingest.media import probe
from onrecord.ingest.metadata import clean_title, date_in_name, opening_date, recorded_date

HASHED = "692502244f"  # how the app prefixes an upload (core/uploads.py): 10 hex of its sha256


def _vtt(*cues: tuple[float, str], header: str = "WEBVTT") -> str:
    def stamp(seconds: float) -> str:
        return f"00:{int(seconds) // 60:02d}:{seconds % 60:06.3f}"

    return header + "\n\n" + "".join(f"{stamp(at)} --> {stamp(at + 4)}\n{text}\n\n" for at, text in cues)


WATER = ((0.0, "Welcome to the show about water and rivers."), (5.0, "Rivers carry water to the sea."))


def _listed(archive=None) -> dict[str, dict]:
    where = ("--archive", str(archive)) if archive else ()
    done = run_cli(*where, "list", "--json")
    assert done.returncode == 0, done.stderr
    return {item["source"].rsplit("/", 1)[-1]: item for item in json.loads(done.stdout)}


def _ingest(*paths, args: tuple[str, ...] = ()) -> None:
    done = run_cli("ingest", *map(str, paths), *args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr


def _one_line_error(done: subprocess.CompletedProcess, starts: str) -> None:
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"error: {starts}") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr


# -- finding them: pure functions -----------------------------------------------------------------


@pytest.mark.parametrize("stem, title", [
    (f"{HASHED}-kennedy-1961-inaugural", "kennedy-1961-inaugural"),
    (f"{HASHED}-good ünïcødé name", "good ünïcødé name"),
    ("rockets-interview", "rockets-interview"),  # an ordinary file name stays as it is
    ("chess-podcast", "chess-podcast"),
    ("1234abcd-notes", "1234abcd-notes"),  # eight hex digits are not an upload's prefix
    (f"{HASHED}-", f"{HASHED}-"),  # nothing after the prefix: keep the name rather than have none
    ("   ", "untitled"),
])
def test_a_file_name_becomes_a_title_without_the_upload_hash(stem, title):
    assert clean_title(stem) == title


@pytest.mark.parametrize("name, date", [
    ("interview-2020-07-23.mp3", "2020-07-23"),
    ("ep_20200723.mp3", "2020-07-23"),
    ("town_hall_2020_07_23.vtt", "2020-07-23"),
    (f"{HASHED}-2019.03.04 talk.m4a", "2019-03-04"),
    ("kennedy-1961-inaugural.vtt", None),  # a year alone is no date
    ("2020-13-40-outtakes.mp3", None),  # not a real day
    ("rockets-interview.mp3", None),
    ("2020-07-23_to_2020-07-25.mp3", "2020-07-23"),  # the first of two
])
def test_a_date_in_the_file_name(name, date):
    assert date_in_name(name) == date


@pytest.mark.parametrize("text, date", [
    ("Hello and welcome. This episode was recorded July 23rd, 2020, in Berlin.", "2020-07-23"),
    ("It was recorded on 23 July 2020 at our studio.", "2020-07-23"),
    ("We recorded this on the 23rd of July, 2020.", "2020-07-23"),
    ("Taped 2020-07-23 in front of a live audience.", "2020-07-23"),
    ("On July 23rd, 2020 the river flooded.", None),  # a date alone says nothing about the recording
    ("This was recorded on June 31st, 2020.", None),  # no such day
    ("This was recorded in July 2020.", None),  # no day: not a date the archive can file
])
def test_a_recording_date_said_in_so_many_words(text, date):
    assert recorded_date(text) == date


@pytest.mark.parametrize("header, title", [
    ("WEBVTT - Kennedy's inaugural address", "Kennedy's inaugural address"),
    ("WEBVTT\nTitle: Kennedy's inaugural address", "Kennedy's inaugural address"),
    ("WEBVTT\n\nNOTE Title: Kennedy's inaugural address", "Kennedy's inaugural address"),
    ("WEBVTT\n\nNOTE\nTitle: Kennedy: the inaugural address", "Kennedy: the inaugural address"),
    ("WEBVTT\nKind: captions\nLanguage: en", "fallback"),  # YouTube's header names no title
    ("WEBVTT", "fallback"),
])
def test_a_vtt_header_titles_it(header, title):
    assert parse_vtt(_vtt(*WATER, header=header), "fallback").title == title


def test_a_vtt_header_dates_it():
    dated = parse_vtt(_vtt(*WATER, header="WEBVTT\n\nNOTE Recorded: January 20, 1961"), "x")
    said = parse_vtt(_vtt(*WATER, header="WEBVTT\n\nNOTE This address was recorded on 20 January 1961."), "x")
    assert dated.date == said.date == "1961-01-20"
    assert parse_vtt(_vtt(*WATER), "x").date is None


def test_the_samples_keep_their_file_names_as_titles_and_have_no_date(scripts):
    """What the other tests and the benchmarks rely on: no sample carries a title, a date, or says one."""
    for path in sorted((SAMPLES / "transcripts").iterdir()):
        parse = parse_vtt if path.suffix == ".vtt" else parse_srt
        transcript = parse(path.read_text(encoding="utf-8-sig"), clean_title(path.stem))
        assert (transcript.title, transcript.date, date_in_name(path.name)) == (path.stem, None, None)
        assert opening_date(transcript.segments) is None
    for name, script in scripts.items():
        media = SAMPLES / name
        info = probe(media)
        assert (info.title, info.date, date_in_name(name), clean_title(media.stem)) == (None, None, None, media.stem)
        assert recorded_date(" ".join(turn["text"] for turn in script)) is None


# -- finding them: through a real ingest ----------------------------------------------------------


def test_transcripts_are_titled_and_dated_by_what_they_say(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / f"{HASHED}-kennedy-1961-inaugural.vtt").write_text(_vtt(*WATER))
    (folder / f"{HASHED}-address.vtt").write_text(_vtt(*WATER[:1], header="WEBVTT - Kennedy's inaugural address"))
    (folder / "rivers_2019-03-04.srt").write_text("1\n00:00:00,000 --> 00:00:04,000\nRivers carry water.\n")
    (folder / "episode.vtt").write_text(_vtt((0.0, "Welcome back."), (6.0, "This episode was recorded July 23rd, "
                                                                                 "2020, at the lake.")))
    (folder / "late.vtt").write_text(_vtt((0.0, "Welcome back."), (150.0, "It was recorded July 23rd, 2020.")))
    _ingest(folder)
    listed = _listed()
    found = {name: (item["title"], item["date"]) for name, item in listed.items()}
    assert found == {
        f"{HASHED}-kennedy-1961-inaugural.vtt": ("kennedy-1961-inaugural", None),
        f"{HASHED}-address.vtt": ("Kennedy's inaugural address", None),
        "rivers_2019-03-04.srt": ("rivers_2019-03-04", "2019-03-04"),
        "episode.vtt": ("episode", "2020-07-23"),
        "late.vtt": ("late", None),  # said after the opening: not taken as the recording date
    }


def test_an_explicit_title_wins(tmp_path):
    path = tmp_path / f"{HASHED}-address.vtt"
    path.write_text(_vtt(*WATER, header="WEBVTT - Kennedy's inaugural address"))
    _ingest(path, args=("--title", "JFK, 1961"))
    assert _listed()[path.name]["title"] == "JFK, 1961"


@pytest.mark.models
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg to write tags")
def test_media_are_titled_and_dated_by_their_tags_else_their_name(tmp_path):
    tagged = tmp_path / "packaging-talk.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(SAMPLES / "packaging-talk.m4a"), "-c", "copy",
                    "-metadata", "title=Packaging, a talk", "-metadata", "date=2018-11-02", str(tagged)], check=True)
    uploaded = tmp_path / f"{HASHED}-city-bikes_20210504.mp4"
    shutil.copy(SAMPLES / "city-bikes.mp4", uploaded)
    _ingest(tagged, uploaded, args=("--no-diarize",))
    listed = _listed()
    assert (listed[tagged.name]["title"], listed[tagged.name]["date"]) == ("Packaging, a talk", "2018-11-02")
    assert (listed[uploaded.name]["title"], listed[uploaded.name]["date"]) == ("city-bikes_20210504", "2021-05-04")


# -- changing them: onrecord edit ------------------------------------------------------------------


@pytest.fixture
def two_talks(tmp_path) -> dict[str, dict]:
    """Two transcripts about water, one dated 2019-03-04 by its name, one undated (so filed under today)."""
    (tmp_path / "rivers_2019-03-04.vtt").write_text(_vtt(*WATER))
    (tmp_path / "lakes.vtt").write_text(_vtt((0.0, "Lakes hold fresh water."), (5.0, "Water in lakes is still.")))
    _ingest(tmp_path / "rivers_2019-03-04.vtt", tmp_path / "lakes.vtt")
    return _listed()


def _titles(*args: str) -> set[str]:
    done = run_cli("search", "water", "--json", *args)
    assert done.returncode == 0, done.stderr
    return {hit["title"] for hit in json.loads(done.stdout)}


def test_edit_changes_the_title_and_date_that_list_search_and_filters_see(two_talks):
    rivers, lakes = two_talks["rivers_2019-03-04.vtt"], two_talks["lakes.vtt"]
    assert _titles("--since", "2020", "--mode", "semantic") == {"lakes"}
    done = run_cli("edit", lakes["id"], "--title", "  Lakes,   with Dana  ", "--date", "2015-06-01", "--json")
    assert done.returncode == 0, done.stderr
    edited = json.loads(done.stdout)
    assert (edited["id"], edited["title"], edited["date"]) == (lakes["id"], "Lakes, with Dana", "2015-06-01")
    assert edited["created"] == lakes["created"] and edited["chunks"] == lakes["chunks"]  # not re-ingested
    listed = _listed()
    assert (listed["lakes.vtt"]["title"], listed["lakes.vtt"]["date"]) == ("Lakes, with Dana", "2015-06-01")
    assert listed["rivers_2019-03-04.vtt"] == rivers
    assert _titles() == {"Lakes, with Dana", "rivers_2019-03-04"}
    assert _titles("--since", "2016", "--mode", "semantic") == {"rivers_2019-03-04"}
    assert _titles("--until", "2015-12-31", "--mode", "semantic") == {"Lakes, with Dana"}
    assert _titles("--interview", "Lakes, with Dana") == {"Lakes, with Dana"}  # found by its new title


def test_edit_finds_an_interview_by_title_and_clears_a_date(two_talks):
    done = run_cli("edit", "rivers_2019-03-04", "--date", "")
    assert done.returncode == 0, done.stderr
    rivers = two_talks["rivers_2019-03-04.vtt"]
    assert done.stdout == f"edited {rivers['id']}  rivers_2019-03-04  (no date)\n"
    assert _listed()["rivers_2019-03-04.vtt"]["date"] is None
    assert _titles("--since", "2020", "--mode", "semantic") == {"rivers_2019-03-04", "lakes"}  # filed as ingested


def test_a_new_date_reaches_the_keyword_index_already_built(two_talks):
    assert _titles("--since", "2020") == {"lakes"}  # builds and caches the keyword index
    assert run_cli("edit", "lakes", "--date", "2015-06-01").returncode == 0
    assert _titles("--since", "2016") == {"rivers_2019-03-04"}


def test_edit_retitles_a_stored_write_up(two_talks):
    lakes = two_talks["lakes.vtt"]
    assert run_cli("summarize", lakes["id"], "--json").returncode == 0  # stored for reuse
    assert run_cli("edit", lakes["id"], "--title", "Still water").returncode == 0
    done = run_cli("summarize", lakes["id"], "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["title"] == "Still water"
    assert {q["title"] for t in summary["topics"] for q in t["quotes"]} <= {"Still water"}


@pytest.mark.parametrize("args, error", [
    (("--date", "2015-02-30"), "bad date '2015-02-30': use YYYY-MM-DD"),
    (("--date", "23/07/2020"), "bad date '23/07/2020': use YYYY-MM-DD"),
    (("--title", "   "), "the new title is empty"),
    ((), "nothing to change"),
])
def test_edit_refuses_bad_values_in_one_line_and_changes_nothing(two_talks, args, error):
    lakes = two_talks["lakes.vtt"]
    _one_line_error(run_cli("edit", lakes["id"], *args), error)
    assert _listed()["lakes.vtt"] == lakes


def test_edit_of_an_unknown_interview_or_archive_fails_in_one_line(two_talks, tmp_path):
    _one_line_error(run_cli("edit", "no-such-talk", "--title", "x"), "no interview matches 'no-such-talk'")
    missing = tmp_path / "no" / "archive"
    done = run_cli("--archive", str(missing), "edit", "x", "--title", "y", "--json")
    _one_line_error(done, f"no archive at {missing}")
    assert not missing.exists()


def test_edit_has_help():
    done = run_cli("edit", "--help")
    assert done.returncode == 0 and done.stdout.startswith("Usage: ")
    assert all(flag in done.stdout for flag in ("--title", "--date", "--json"))


def test_hits_and_a_file_name_never_show_the_upload_hash(tmp_path):
    path = tmp_path / f"{HASHED}-water-talk.vtt"
    path.write_text(_vtt(*WATER))
    _ingest(path)
    assert _titles() == {"water-talk"}
    assert not any(HASHED in item["title"] for item in _listed().values())

