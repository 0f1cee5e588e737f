"""Search over real archives: the sample interviews (real Whisper + MiniLM) and small transcript archives."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import SAMPLES as SAMPLES_DIR
from conftest import json_lines, run_cli, script_vtt
from onrecord.search.config import Settings
from onrecord.search.retrieval.embedder import embedder_for
from onrecord.search.links import deep_link
from onrecord.search.retrieval.searcher import Searcher
from onrecord.search.store import open_archive

HIT_KEYS = {"interview_id", "title", "start", "end", "text", "context_before", "context_after", "speaker", "score",
            "link", "matched_terms", "weak"}


def _search(archive, *args):
    done = run_cli("--archive", str(archive), "search", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_hybrid_search_lands_on_the_words(tmp_path, isolated_archive, scripts):
    """Narrowing is about text, so it is tested on a transcript whose cues and times are known exactly (what
    Whisper hears in the audio sample differs between CPUs): the cue that matches the query best, widened
    only over neighbours that share a query word, at most three cues, inside a chunk that holds them all."""
    vtt, cues = script_vtt(tmp_path / "rockets.vtt", scripts["rockets-interview.mp3"], voices=False)
    sentences = [text for _, text in cues]
    assert run_cli("ingest", str(vtt), str(SAMPLES_DIR / "transcripts")).returncode == 0
    [chunk] = [i["chunks"] for i in json.loads(run_cli("list", "--json").stdout) if i["title"] == "rockets"]
    assert chunk == 1, "the whole short interview is one chunk, so the hit really is narrowed inside it"
    top = _search(isolated_archive, "the booster flips around")[0]
    assert set(top) == HIT_KEYS and top["title"] == "rockets"
    best = sentences.index("The booster flips around and fires its engines.")
    # Its neighbours: "How do you bring a booster back?" (booster) before, "Then it lands ..." (no match) after.
    assert sentences[best - 1] == "How do you bring a booster back?"
    assert (top["start"], top["end"]) == ((best - 1) * 4.0, (best + 1) * 4.0 - 0.5)
    assert top["text"] == f"{sentences[best - 1]} {sentences[best]}"
    assert top["context_before"] == sentences[best - 2] and top["context_after"] == sentences[best + 1]
    assert {"booster", "flips", "around"} <= set(top["matched_terms"])
    assert top["link"] is None, "captions alone have no media to link to"


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
def test_each_mode_finds_the_right_interview(sample_archive, mode):
    hits = _search(sample_archive, "coffee harvest in the mountains", "--mode", mode, "--limit", "3")
    assert hits and hits[0]["title"] == "coffee-interview"


def test_keyword_mode_honours_exact_phrases(sample_archive):
    found = _search(sample_archive, '"drip irrigation"', "--mode", "keyword")
    assert [h["title"] for h in found] == ["gardening"]
    assert found[0]["speaker"] == "Dana Ortiz" and "drip irrigation" in found[0]["matched_terms"]
    assert _search(sample_archive, '"irrigation drip"', "--mode", "keyword") == []


def test_filters_interview_speaker_and_dates(sample_archive):
    only = _search(sample_archive, "water", "--interview", "gardening", "--limit", "20")
    assert only and {h["title"] for h in only} == {"gardening"}
    dana = _search(sample_archive, "water", "--speaker", "dana ortiz", "--limit", "20")
    assert dana and {h["speaker"] for h in dana} == {"Dana Ortiz"}
    assert _search(sample_archive, "water", "--since", "2999") == []
    assert _search(sample_archive, "water", "--until", "2000-01-31") == []
    assert _search(sample_archive, "water", "--since", "2000", "--until", "2999-12")


@pytest.mark.parametrize("args, message", [
    ([""], "empty query"),
    (["x" * 10_000], "query too long"),
    (["?!... ,,;"], "no words"),
    (["water", "--interview", "no-such-id"], "no interview matches 'no-such-id'"),
    (["water", "--speaker", "Nobody"], "no speaker named 'Nobody'"),
    (["water", "--since", "last week"], "bad date"),
])
def test_bad_queries_get_one_line_errors(sample_archive, args, message):
    done = run_cli("--archive", str(sample_archive), "search", *args)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and message in done.stderr and done.stderr.count("\n") == 1


def test_queries_from_stdin_give_one_array_per_line_in_order(sample_archive):
    done = run_cli("--archive", str(sample_archive), "search", "-", "--json", "--limit", "1",
                   input="electric bikes in winter\n\nlock files and pip\n")
    arrays = json_lines(done.stdout)
    assert len(arrays) == 3 and arrays[1] == []
    assert arrays[0][0]["title"] == "city-bikes" and arrays[2][0]["title"] == "packaging-talk"


def _vtt(path, lines):
    cues = "".join(f"00:00:{2 * n:02d}.000 --> 00:00:{2 * n + 1:02d}.500\n{text}\n\n" for n, text in enumerate(lines))
    path.write_text("WEBVTT\n\n" + cues)
    return path


def test_another_process_ingest_is_searchable_without_restart(tmp_path, isolated_archive):
    settings = Settings()
    archive = open_archive(settings, create=True)  # as the app opens it: it may add the first interview itself
    searcher = Searcher(archive, embedder_for(settings, "all-MiniLM-L6-v2"), settings.cache_dir)
    assert searcher.search("sailing boats") == []  # opened on an empty archive
    first = _vtt(tmp_path / "one.vtt", ["We talked about sourdough bread and starters.", "Flour matters."])
    assert run_cli("ingest", str(first), process=True).returncode == 0
    assert searcher.search("sailing boats", mode="keyword") == []
    second = _vtt(tmp_path / "two.vtt", ["Sailing boats need a good keel.", "The wind was strong."])
    assert run_cli("ingest", str(second), process=True).returncode == 0  # another process writes to the same archive
    for mode in ("keyword", "semantic", "hybrid"):
        assert searcher.search("sailing boats", mode=mode)[0].title == "two"
    assert run_cli("delete", "two", "--yes", process=True).returncode == 0
    assert all(h.title == "one" for h in searcher.search("sailing boats", mode="hybrid"))


def test_misheard_names_are_found_by_sound(tmp_path, isolated_archive):
    vtt = _vtt(tmp_path / "race.vtt", ["Then gross john overtook on the final lap.", "Kubernetes runs the cluster.",
                                       "Nothing else happened in the race today."])
    assert run_cli("ingest", str(vtt)).returncode == 0
    [hit] = _search(isolated_archive, "Grosjean", "--mode", "keyword")
    assert hit["text"].startswith("Then gross john") and "gross john" in hit["matched_terms"]
    [hit] = _search(isolated_archive, "kubernetis", "--mode", "keyword")
    assert "Kubernetes" in hit["text"]


@pytest.mark.parametrize("media, link", [
    ("https://www.youtube.com/watch?v=abc123&list=x", "https://www.youtube.com/watch?v=abc123&t=83s"),
    ("https://youtu.be/abc123", "https://youtu.be/abc123?t=83"),
    ("http://127.0.0.1:8000/talk.mp3", "http://127.0.0.1:8000/talk.mp3#t=83"),
    ("/data/my talk.mp3", "file:///data/my%20talk.mp3#t=83"),
    (None, None),
])
def test_deep_links(media, link):
    assert deep_link(media, 83.9) == link


def test_light_onnx_encoder_gives_sentence_transformers_vectors(tmp_path):
    """Search skips torch by running the exported graph itself; it must embed exactly like the library."""
    import numpy as np

    from onrecord.search.retrieval.embedder import SentenceTransformerEmbedder

    texts = ["reusable rockets", "The booster flips around and lands on a ship. " * 40, "pip"]
    exporting = SentenceTransformerEmbedder(cache_dir=tmp_path)
    exporting.load()  # first use: exports through the library
    light = SentenceTransformerEmbedder(cache_dir=tmp_path)
    reference = SentenceTransformerEmbedder(backend="torch")
    assert type(light.model).__name__ == "OnnxEncoder"
    assert light.max_tokens == reference.max_tokens == exporting.max_tokens == 254
    assert light.count_tokens(texts) == reference.count_tokens(texts)
    for vectors in (exporting.embed(texts), light.embed(texts)):
        assert np.abs(np.array(vectors) - np.array(reference.embed(texts))).max() < 1e-5


def test_reindex_re_embeds_from_the_stored_transcript(tmp_path, isolated_archive):
    """Switch the embedding model without re-transcribing: a new chunks collection, then one switch."""
    from onrecord.search.retrieval.embedder import _bundled_path

    assert run_cli("ingest", str(SAMPLES_DIR / "transcripts")).returncode == 0
    before = {i["id"]: i["chunks"] for i in json.loads(run_cli("list", "--json").stdout)}
    other_name = str(tmp_path / "minilm-copy")  # the same weights under another name: a "different" model
    import shutil

    shutil.copytree(_bundled_path("all-MiniLM-L6-v2"), other_name)
    done = run_cli("reindex", "--embed-model", other_name, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"embed_model": other_name, "interviews": 2, "chunks": sum(before.values())}
    archive = open_archive(Settings())
    assert archive.embed_model == other_name
    names = [c.name for c in archive.client.list_collections()]
    assert len([n for n in names if n.startswith("onrecord-chunks-")]) == 1, "the old collection is dropped"
    hits = json.loads(run_cli("search", "drip irrigation", "--json").stdout)
    assert hits[0]["title"] == "gardening"
    mismatch = run_cli("ingest", str(SAMPLES_DIR / "rockets-interview.mp3"), "--embed-model", "all-MiniLM-L6-v2")
    assert mismatch.returncode == 1 and "onrecord reindex --embed-model" in mismatch.stderr


def test_one_searcher_serves_many_threads(sample_archive):
    """The app shares one Searcher between sessions, each on its own thread."""
    from concurrent.futures import ThreadPoolExecutor

    settings = Settings(archive=sample_archive)
    archive = open_archive(settings)
    searcher = Searcher(archive, embedder_for(settings, archive.embed_model), settings.cache_dir)
    queries = ["booster landing", "coffee prices", "lock files", "electric bikes", "rooftop compost",
               "chess openings"] * 8
    alone = {q: [(h.interview_id, h.start) for h in searcher.search(q)] for q in set(queries)}
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda q: (q, [(h.interview_id, h.start) for h in searcher.search(q)]), queries))
    assert all(result == alone[q] for q, result in together)


def test_a_keyword_index_cached_by_an_older_onrecord_is_rebuilt(tmp_path, isolated_archive):
    """An upgrade must not meet a cache laid out the old way with a traceback: an unreadable segment is built
    again, and a manifest of another format is ignored."""
    import hashlib

    vtt = _vtt(tmp_path / "one.vtt", ["We talked about sourdough bread and starters.", "Flour matters."])
    assert run_cli("ingest", str(vtt)).returncode == 0
    assert _search(isolated_archive, "sourdough", "--mode", "keyword")
    key = hashlib.sha256(open_archive(Settings()).location.encode()).hexdigest()[:16]  # as Searcher keys it
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "onrecord" / "keyword" / key  # the CLI's cache
    (segment,) = [p for p in cache.glob("*/seg-*")]
    (segment / "rows.npy").write_bytes(b"not an array")
    assert _search(isolated_archive, "sourdough", "--mode", "keyword")[0]["title"] == "one"
    manifest = next(cache.glob("*/manifest.json"))
    manifest.write_text('{"format": 4, "segments": [{"name": "bm25", "versions": {}}]}')
    assert _search(isolated_archive, "sourdough", "--mode", "keyword")[0]["title"] == "one"
