"""Defects a careful review found (issue 14), each with a test that failed before its fix."""

from __future__ import annotations

import json

from conftest import run_cli


def test_an_export_with_no_segments_fails_in_one_line_and_the_batch_goes_on(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"interview": {"title": "empty"}, "segments": []}))
    good = tmp_path / "good.vtt"
    good.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nThe roof garden feeds sixty families.\n")
    done = run_cli("ingest", str(empty), str(good), "--json")
    rows = {json.loads(line)["source"].rsplit("/", 1)[-1]: json.loads(line) for line in done.stdout.splitlines()}
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert rows["empty.json"]["status"] == "failed" and "no segments" in rows["empty.json"]["error"]
    assert rows["good.vtt"]["status"] == "added"
    assert [i["title"] for i in json.loads(run_cli("list", "--json").stdout)] == ["good"]
