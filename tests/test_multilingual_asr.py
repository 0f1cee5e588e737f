"""Any language: the multilingual Whisper base, joined from its two PyPI packages into the cache, transcribes a
Spanish interview that is stored as Spanish and found by its words; a missing or damaged model is one line."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import APP, ROOT, run_cli

from onrecord.ingest import whisper_models
from onrecord.ingest.whisper_models import SplitModel, split_model_path
from onrecord.search.errors import OnrecordError
from onrecord.search.retrieval.text import words

FIXTURES = ROOT / "tests" / "data"
SPANISH = FIXTURES / "spanish-interview.ogg"


@pytest.fixture(scope="module")
def spanish_script() -> dict:
    return json.loads((FIXTURES / "spanish-interview.json").read_text())


@pytest.mark.models
def test_spanish_speech_with_base_is_stored_as_spanish_and_found_by_its_words(spanish_script):
    done = run_cli("ingest", str(SPANISH), "--whisper-model", "base", "--no-diarize", "--json")
    assert done.returncode == 0, done.stderr[-800:]
    [listed] = json.loads(run_cli("list", "--json").stdout)
    assert listed["language"] == "es"
    assert " es " in run_cli("list").stdout

    shown = json.loads(run_cli("show", listed["id"], "--json").stdout)
    # onrecord's own words (case- and accent-folded): espeak's and Whisper's accents need not agree for one to count
    heard = set(words(" ".join(s["text"] for s in shown["segments"])))
    said = set(words(" ".join(t["text"] for t in spanish_script["turns"])))
    assert len(heard & said) >= 0.6 * len(said), sorted(said - heard)  # Spanish, not an English guess at it

    # "molino" is said once, in the last turn; the hit lands on the words that hold it.
    [turn] = [t for t in spanish_script["turns"] if "molino" in t["text"]]
    hits = json.loads(run_cli("search", "molino", "--mode", "keyword", "--json").stdout)
    assert hits and "molino" in hits[0]["text"].lower(), hits
    assert hits[0]["start"] < turn["end"] + 1.0 and hits[0]["end"] > turn["start"] - 1.0, (hits[0], turn)

    # The app names the language on the library card and in the interview's header.
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    assert any("Spanish" in str(c.value) for c in at.caption), [c.value for c in at.caption]
    at.query_params["id"] = listed["id"]
    at.switch_page("views/interview.py").run()
    assert not at.exception and at.title[0].value == "spanish-interview"
    assert "Spanish" in str(at.caption[0].value), [c.value for c in at.caption]
    st.cache_resource.clear()


def cli_ingest(tmp_path: Path, *args: str):
    """`onrecord ingest` in this process (where the split models are swapped), its cache and archive in tmp_path."""
    from onrecord.ui.cli import main

    return CliRunner(env={"ONRECORD_CACHE_DIR": str(tmp_path / "cache")}).invoke(
        main, ["--archive", str(tmp_path / "new-archive"), "ingest", *args])


def test_base_not_installed_is_one_line_saying_what_to_pip_install(tmp_path, monkeypatch):
    missing = SplitModel("base", ("onrecord-absent-part1", "onrecord-absent-part2"), "1.0", "0" * 64, 6)
    half = SplitModel("base", (whisper_models.SPLIT_MODELS[0].packages[0], "onrecord-absent-part2"), "1.0", "0" * 64, 6)
    monkeypatch.setattr(whisper_models, "SPLIT_MODELS", (missing, half))
    done = cli_ingest(tmp_path, str(SPANISH), "--whisper-model", "base", "--no-diarize")
    assert done.exit_code == 1 and "Traceback" not in done.output
    assert done.stderr.strip().splitlines() == [
        "error: the Whisper model 'base' is not installed: pip install onrecord-absent-part1==1.0 "
        "onrecord-absent-part2==1.0"]
    assert not (tmp_path / "new-archive").exists(), "nothing is written before the model is there"


@pytest.fixture
def fake_split(tmp_path, monkeypatch) -> SplitModel:
    """A split model of a few MB in two importable packages on sys.path, in place of the real ones."""
    pieces = [bytes(range(256)) * 8192, b"second part" * 100_000]
    for n, piece in enumerate(pieces, start=1):
        data = tmp_path / "site" / f"onrecord_fake_part{n}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"model.bin.part{n}").write_bytes(piece)
    (data / "config.json").write_text('{"fake": true}')
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    whole = b"".join(pieces)
    model = SplitModel("base", ("onrecord-fake-part1", "onrecord-fake-part2"), "1.0",
                       hashlib.sha256(whole).hexdigest(), len(whole))
    monkeypatch.setattr(whisper_models, "SPLIT_MODELS", (model,))
    return model


def test_a_split_model_is_joined_once_and_a_corrupt_or_partial_join_is_redone(tmp_path, fake_split):
    cache = tmp_path / "cache"
    folder = split_model_path("base", cache)
    joined = folder / "model.bin"
    assert hashlib.sha256(joined.read_bytes()).hexdigest() == fake_split.sha256
    assert (folder / "config.json").read_text() == '{"fake": true}'
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin"], "no temp files left"

    stamp = joined.stat().st_mtime_ns
    assert split_model_path("base", cache) == folder and joined.stat().st_mtime_ns == stamp, "joined once"

    with joined.open("r+b") as f:  # a flipped byte, then a short file (an interrupted copy by hand)
        f.write(b"X")
    assert hashlib.sha256(split_model_path("base", cache).joinpath("model.bin").read_bytes()).hexdigest() \
        == fake_split.sha256
    joined.write_bytes(joined.read_bytes()[:1000])
    assert joined.stat().st_size == 1000
    left = folder / ".model.bin.died.tmp"  # a join killed midway, long ago
    left.write_bytes(b"half")
    os.utime(left, (0, 0))
    split_model_path("base", cache)
    assert hashlib.sha256(joined.read_bytes()).hexdigest() == fake_split.sha256
    assert not left.exists(), "a dead join's temp file is cleared"


def test_processes_joining_at_once_never_see_half_a_model(tmp_path, fake_split):
    cache, seen, errors = tmp_path / "cache", [], []

    def join():
        try:
            seen.append(hashlib.sha256((split_model_path("base", cache) / "model.bin").read_bytes()).hexdigest())
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=join) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and seen == [fake_split.sha256] * 4


def test_damaged_parts_are_one_line_and_leave_no_model(tmp_path, fake_split):
    part2 = Path(whisper_models._data_folders(fake_split)[1]) / "model.bin.part2"
    part2.write_bytes(part2.read_bytes()[:-10])  # a part cut short: the join cannot match the checksum
    with pytest.raises(OnrecordError, match="damaged"):
        split_model_path("base", tmp_path / "cache")
    assert not list((tmp_path / "cache").rglob("*.bin*")), "no model.bin and no temp file"

    done = cli_ingest(tmp_path, str(SPANISH), "--whisper-model", "base", "--no-diarize")
    assert done.exit_code == 1 and "Traceback" not in done.output
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: the installed parts of the Whisper model 'base' are damaged")
    assert "pip install --force-reinstall onrecord-fake-part1==1.0 onrecord-fake-part2==1.0" in line
