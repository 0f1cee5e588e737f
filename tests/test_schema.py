"""Schema evolution: an archive written by the previous release (schema 1, tests/data/archive-schema1.tar.gz:
gardening.vtt and rockets-interview.mp3 ingested by commit d7eb102, with the mp3 in the media folder
/tmp/onrecord-v1-fixture/media) is refused with the exact command to run, then migrated in place."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES, json_lines, run_cli

FIXTURE = ROOT / "tests" / "data" / "archive-schema1.tar.gz"
OLD_MEDIA_DIR = "/tmp/onrecord-v1-fixture/media"  # where the fixture's mp3 was when it was ingested


def _old_archive(tmp_path: Path) -> Path:
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(tmp_path, filter="data")
    return tmp_path / "archive"


def test_an_older_archive_is_refused_with_the_command_that_upgrades_it(tmp_path):
    archive = _old_archive(tmp_path)
    for command in (["list"], ["search", "water"], ["ingest", str(SAMPLES / "transcripts" / "chess-podcast.srt")]):
        done = run_cli("--archive", str(archive), *command)
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.strip() == (f"error: archive {archive} has schema 1, older than this onrecord's (3); "
                                       f"run `onrecord --archive {archive} migrate` to upgrade it in place "
                                       f"(nothing is deleted)")


def test_migrate_keeps_everything_and_makes_media_portable(tmp_path):
    archive = _old_archive(tmp_path)
    done = run_cli("--archive", str(archive), "migrate", "--json", env={"ONRECORD_MEDIA_DIR": OLD_MEDIA_DIR})
    assert json.loads(done.stdout) == {"archive": str(archive), "from_schema": 1, "to_schema": 3,
                                       "records_changed": 3}
    again = run_cli("--archive", str(archive), "migrate", "--json")
    assert json.loads(again.stdout)["records_changed"] == 0
    # Another machine mounts the media folder elsewhere: it finds the recording under its own path.
    media = tmp_path / "shared media"
    media.mkdir()
    shutil.copy(SAMPLES / "rockets-interview.mp3", media)
    env = {"ONRECORD_MEDIA_DIR": str(media)}
    listed = {i["title"]: i for i in json.loads(run_cli("--archive", str(archive), "list", "--json", env=env).stdout)}
    assert set(listed) == {"gardening", "rockets-interview"}
    assert listed["rockets-interview"]["media"] == str(media / "rockets-interview.mp3")
    assert (listed["gardening"]["segments"], listed["rockets-interview"]["segments"]) == (12, 11)
    hit = json.loads(run_cli("--archive", str(archive), "search", "booster", "--json", env=env).stdout)[0]
    assert hit["title"] == "rockets-interview" and hit["link"].startswith((media / "x").parent.as_uri())
    srt = run_cli("--archive", str(archive), "export", "gardening", "--format", "srt", env=env).stdout
    assert srt.count(" --> ") == 12
    added = json_lines(run_cli("--archive", str(archive), "ingest", str(SAMPLES / "transcripts"), "--json").stdout)
    assert [r["status"] for r in added] == ["added", "skipped"]


@pytest.mark.models
def test_media_in_the_media_folder_is_stored_relative_to_it(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    for folder in (first, second):
        folder.mkdir()
        shutil.copy(SAMPLES / "rockets-interview.mp3", folder)
    run_cli("ingest", str(first / "rockets-interview.mp3"), env={"ONRECORD_MEDIA_DIR": str(first)})
    seen = json.loads(run_cli("list", "--json", env={"ONRECORD_MEDIA_DIR": str(second)}).stdout)
    assert seen[0]["media"] == str(second / "rockets-interview.mp3")
