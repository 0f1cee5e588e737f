"""Defects a careful review found (issue 14), each with a test that failed before its fix."""

from __future__ import annotations

import json

from conftest import SAMPLES, run_cli


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


def test_a_models_write_up_is_shown_as_text_never_as_markup(app, tmp_path):
    from onrecord.search.models import Quote
    from onrecord.search.store import open_archive
    from onrecord.search.config import Settings
    from onrecord.search.writeups.summary import InterviewSummary, Topic
    from onrecord.ui.app import resources

    archive = tmp_path / "archive"
    assert run_cli("--archive", str(archive), "ingest", str(SAMPLES / "transcripts" / "gardening.vtt")).returncode == 0
    at = app("interview", archive=archive)
    [interview] = open_archive(Settings()).list()
    planted = "See [the offer](https://evil.example/x) ![](https://tracker.example/p.png)"
    quote = Quote(interview.id, interview.title, 8.0, 12.0, "Six years ago this roof was bare gravel.", "Dana Ortiz",
                  None)
    summary = InterviewSummary(interview.id, interview.title, "llm", planted,
                               [Topic(f"Roofs {planted}", 0.0, 60.0, planted, [quote])])
    summarizer = resources.summarizer()
    key, stamp = summarizer._key(interview)
    summarizer.archive.keep_summary(key, interview.id, stamp, summary.as_json())  # as a model's run keeps it
    at.run()
    assert not at.exception, at.exception
    shown = [str(m.value) for m in at.markdown if "evil.example" in str(m.value)]
    labels = [e.label for e in at.expander if "evil.example" in e.label]
    assert len(shown) == 2 and len(labels) == 1, (shown, labels)
    for text in shown + labels:
        assert "\\[the offer\\](https" in text and "!\\[\\](https" in text, text


def test_an_interview_is_named_by_words_of_its_title(tmp_path):
    for name, words in (("flaky-tests-and-fixes.vtt", "Flaky tests"), ("flaky-networks.vtt", "Flaky networks"),
                        ("rooftop-gardens.vtt", "Rooftop gardens")):
        (tmp_path / name).write_text(f"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n{words} were discussed.\n")
    assert run_cli("ingest", str(tmp_path)).returncode == 0
    shown = run_cli("show", "ROOFTOP", "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["interview"]["title"] == "rooftop-gardens"
    assert json.loads(run_cli("show", "flaky tests", "--json").stdout)["interview"]["title"] == "flaky-tests-and-fixes"
    ambiguous = run_cli("show", "flaky")
    assert ambiguous.returncode == 1 and "Traceback" not in ambiguous.stderr
    assert "'flaky' is ambiguous" in ambiguous.stderr and "flaky-networks" in ambiguous.stderr
    assert "flaky-tests-and-fixes" in ambiguous.stderr
    assert run_cli("show", "knitting").returncode == 1


def test_a_whisper_model_that_cannot_be_loaded_is_one_line_and_exit_1(tmp_path):
    warm = tmp_path / "warm.vtt"  # the embedder's one-time export done, it loads as fast as a user's does
    warm.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nA warm cache.\n")
    assert run_cli("ingest", str(warm)).returncode == 0
    done = run_cli("ingest", str(SAMPLES / "rockets-interview.mp3"), "--whisper-model", str(tmp_path / "no-model"),
                   process=True)
    assert done.returncode == 1, (done.returncode, done.stderr[-500:])
    assert "cannot load Whisper model" in done.stderr and "terminate called" not in done.stderr
    assert "Traceback" not in done.stderr


def test_an_app_job_whose_ingestor_cannot_be_built_fails_and_the_worker_goes_on(tmp_path):
    import time

    from onrecord.ingest.sources import expand
    from onrecord.jobs import JobBoard
    from onrecord.search.config import Settings
    from onrecord.search.store import open_archive

    talks = []
    for n in range(3):
        talks.append(tmp_path / f"talk{n}.vtt")
        talks[-1].write_text(f"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nTalk number {n} is here.\n")
    assert run_cli("ingest", str(talks[0])).returncode == 0  # the archive is indexed with MiniLM

    class OtherEmbedder:  # the app started with another model: every ingest must refuse, job by job
        name = "another-model"

    board = JobBoard(open_archive(Settings()), Settings(), OtherEmbedder)
    jobs = [board.submit(expand([str(talks[1])])), board.submit(expand([str(talks[2])]))]
    deadline = time.time() + 60
    while time.time() < deadline and any(s.status in ("queued", "running") for j in jobs for s in j.sources):
        time.sleep(0.2)
    states = [(s.status, s.error) for j in jobs for s in j.sources]
    assert [status for status, _ in states] == ["failed", "failed"], states
    assert all("the archive is indexed with" in error for _, error in states)


def test_counting_tokens_never_untruncates_a_concurrent_encoding(tmp_path):
    import threading

    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.retrieval.onnx_encoder import OnnxEncoder

    warm = tmp_path / "warm.vtt"  # the first ingest exports the embedder to ONNX, as a user's does
    warm.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nA warm cache.\n")
    assert run_cli("ingest", str(warm)).returncode == 0
    encoder = embedder_for(Settings(), None).model
    assert isinstance(encoder, OnnxEncoder)
    long = " ".join(["the roof garden feeds sixty families every week"] * 200)  # ~1,800 tokens
    done, longest = threading.Event(), []

    def count() -> None:
        while not done.is_set():
            encoder.count_tokens([long] * 8)

    counter = threading.Thread(target=count)
    counter.start()
    try:
        for _ in range(300):  # what encode() does with a search's text, while an ingest counts tokens
            longest.append(max(len(e.ids) for e in encoder._tokenizer.encode_batch([long] * 4)))
    finally:
        done.set()
        counter.join()
    assert max(longest) <= encoder.max_seq_length


def test_a_long_lived_searcher_follows_a_reindex_made_elsewhere(tmp_path):
    import shutil
    import time

    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import _bundled_path, embedder_for
    from onrecord.search.retrieval.searcher import Searcher
    from onrecord.search.store import open_archive
    from onrecord.search.writeups.answer import Answerer
    from onrecord.ingest.sources import expand
    from onrecord.jobs import JobBoard
    from onrecord.search.writeups.summary import Summarizer

    assert run_cli("ingest", str(SAMPLES / "transcripts" / "gardening.vtt")).returncode == 0
    settings = Settings()
    archive = open_archive(settings)
    searcher = Searcher(archive, embedder_for(settings, archive.embed_model), settings.cache_dir)  # as the app's
    assert searcher.search("drip irrigation", mode="semantic")[0].title == "gardening"
    other = str(tmp_path / "minilm-copy")  # the same weights under another name: a "different" model
    shutil.copytree(_bundled_path("all-MiniLM-L6-v2"), other)
    assert run_cli("reindex", "--embed-model", other, process=True).returncode == 0  # another process
    time.sleep(0.6)  # past the searcher's recheck interval
    hits = searcher.search("drip irrigation", mode="semantic")
    assert searcher.embedder.name == other and hits[0].title == "gardening"
    # What outlives a request asks the searcher: the summarizer cuts topics, the app's worker ingests, with it.
    assert run_cli("reindex", "--embed-model", "all-MiniLM-L6-v2", process=True).returncode == 0
    time.sleep(0.6)
    summarizer = Summarizer(Answerer(searcher, None))
    assert summarizer.embedder.name == "all-MiniLM-L6-v2"
    board = JobBoard(archive, settings, searcher.current_embedder)
    job = board.submit(expand([str(SAMPLES / "transcripts" / "chess-podcast.srt")]))
    deadline = time.time() + 120
    while time.time() < deadline and job.sources[0].status in ("queued", "running"):
        time.sleep(0.2)
    assert job.sources[0].status == "added", job.sources[0].error


def test_a_repair_never_turns_a_quote_around():
    from onrecord.search.models import Segment
    from onrecord.search.writeups.quotes import TranscriptText

    said = TranscriptText([Segment(0.0, 6.0, "We will raise the subscription price next year, at all tiers.", "CEO"),
                           Segment(6.0, 9.0, "Nobody likes that, but costs went up.", "CEO")])
    assert said.repair("we will not raise the subscription price next year at all tiers", near=3.0) is None
    assert said.repair("we won't raise the subscription price next year at all tiers", near=3.0) is None
    kept = said.repair("so we will raise the subscription price next year at all tiers", near=3.0)
    assert kept is not None and kept.repaired and kept.text.startswith("We will raise")


def test_where_the_llm_runs_is_known_and_a_remote_one_is_named_on_every_answer(sample_archive):
    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.retrieval.searcher import Searcher
    from onrecord.search.store import open_archive
    from onrecord.search.writeups.answer import Answerer
    from onrecord.search.writeups.llm import chat_model_for

    def chat(**llm):
        return chat_model_for(Settings(archive=sample_archive, **llm))[0]

    only_key = chat(llm_api_key="sk-test")  # OPENAI_API_KEY alone: OpenAI itself
    assert (only_key.name, only_key.host, only_key.remote) == ("gpt-4o-mini", "api.openai.com", True)
    assert chat(llm_model="m", llm_base_url="https://llm.example.com/v1").remote
    for local in ("http://127.0.0.1:8080/v1", "http://localhost:11434/v1", "http://[::1]:8000/v1"):
        assert not chat(llm_model="m", llm_base_url=local).remote, local

    class Remote:  # a remote service cannot run here: this one answers the way a model that quotes well does
        name, host, remote = "big-model", "llm.example.com", True

        def complete(self, messages, *, max_tokens=512):
            return 'They land it on a ship: "The booster flips around and fires its engines." [1]'

    settings = Settings(archive=sample_archive)
    archive = open_archive(settings)
    searcher = Searcher(archive, embedder_for(settings, archive.embed_model), settings.cache_dir)
    answer = Answerer(searcher, Remote(), None).ask("how does the booster come back?")
    assert answer.mode == "llm" and answer.quotes
    assert "written with big-model at llm.example.com" in answer.notice


def test_an_app_beyond_loopback_needs_a_password(sample_archive):
    done = run_cli("--archive", str(sample_archive), "ui", "--host", "0.0.0.0", "--port", "1")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "ONRECORD_APP_PASSWORD" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_with_a_password_every_visitor_signs_in_first(app, monkeypatch):
    from apptest import texts

    monkeypatch.setenv("ONRECORD_APP_PASSWORD", "open sesame")
    at = app()
    assert [t.label for t in at.text_input] == ["Password"] and "rockets-interview" not in texts(at)
    at.text_input[0].input("guess")
    at.button[0].click().run()
    assert "That is not the password." in texts(at) and "rockets-interview" not in texts(at)
    at.text_input[0].input("open sesame")
    at.button[0].click().run()
    assert "rockets-interview" in texts(at), "signed in: the library"


def test_a_shared_app_reads_server_folders_only_under_its_roots(app, monkeypatch, tmp_path):
    from apptest import texts

    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "talk.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nA talk on the roof.\n")
    monkeypatch.setenv("ONRECORD_APP_HOST", "0.0.0.0")
    at = app("add", archive=tmp_path / "archive")
    folder = next(t for t in at.text_input if t.label == "A folder on this server")
    assert folder.disabled, "a shared app with no configured roots reads no server folder"

    monkeypatch.setenv("ONRECORD_SERVER_FOLDERS", str(allowed))
    at = app("add", archive=tmp_path / "archive")
    for outside in ("/", str(allowed / ".." / "allowed-not"), str(tmp_path)):
        next(t for t in at.text_input if t.label == "A folder on this server").input(outside)
        next(b for b in at.button if b.label == "Add to the archive").click().run()
        assert "is outside the folders this server may read" in texts(at), outside
    next(t for t in at.text_input if t.label == "A folder on this server").input(str(allowed))
    next(b for b in at.button if b.label == "Add to the archive").click().run()
    assert "outside the folders" not in texts(at) and at.session_state["jobs"], "inside a root: queued"


def test_a_url_larger_than_the_download_limit_is_refused_in_one_line(tmp_path):
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SAMPLES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/ocean-podcast.mp3"  # 0.66 MB
        done = run_cli("ingest", url, "--json",
                       env={"ONRECORD_MAX_DOWNLOAD_MB": "0.25", "ONRECORD_ALLOW_PRIVATE_URLS": "true"}, process=True)
    finally:
        server.shutdown()
    [row] = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 1 and row["status"] == "failed", row
    assert "0.25 MB download limit" in row["error"] and "Traceback" not in done.stderr


def test_an_exact_phrase_is_required_in_every_mode(sample_archive):
    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.retrieval.searcher import Searcher
    from onrecord.search.store import open_archive

    settings = Settings(archive=sample_archive)
    archive = open_archive(settings)
    searcher = Searcher(archive, embedder_for(settings, archive.embed_model), settings.cache_dir)
    for mode in ("hybrid", "semantic", "keyword"):
        hits = searcher.search('"drip irrigation" water', mode=mode)
        assert hits and all("drip irrigation" in h.text.lower() for h in hits), (mode, [h.text for h in hits])


FARM = [  # (speaker, text) per 6-s cue: the host introduces the guest; one answer is about pests
    ("Host", "Welcome to the show. My guest today is Maria Lopez, who runs an organic farm near the coast."),
    ("Maria Lopez", "Thanks for having me. I started with a small garden behind my parents' house."),
    ("Host", "And now you sell to restaurants?"),
    ("Maria Lopez", "Twelve restaurants and a market stall every Sunday, from eight acres."),
    ("Host", "What about insects?"),
    ("Maria Lopez", "We fight pests with ladybugs and netting instead of sprays, and aphids hate marigolds."),
]


def _farm(tmp_path):
    vtt = tmp_path / "organic-farm.vtt"
    vtt.write_text("WEBVTT\n\n" + "".join(f"00:00:{6 * n:02d}.000 --> 00:00:{6 * n + 5:02d}.500\n<v {who}>{text}\n\n"
                                          for n, (who, text) in enumerate(FARM)))
    assert run_cli("ingest", str(vtt), str(SAMPLES / "transcripts")).returncode == 0


def _top(*args: str) -> dict:
    return json.loads(run_cli("search", *args, "--json").stdout)[0]


def test_question_scaffolding_is_not_what_a_question_is_about(tmp_path):
    """'what does the guest say about pests' is about pests: not the host's 'My guest today is…'."""
    _farm(tmp_path)
    top = _top("what does the guest say about pests")
    assert top["title"] == "organic-farm" and top["start"] == 30.0, top
    answer = json.loads(run_cli("ask", "what does the guest say about pests", "--json").stdout)
    assert answer["quotes"][0]["text"].startswith("We fight pests"), answer["quotes"][0]


def test_a_hit_lands_on_the_rarer_of_the_question_words(tmp_path):
    """'garden' is said in other interviews too (the gardening sample), 'aphids' only here: the hit is the
    aphids, not the garden behind the house, though each cue holds one of the two words."""
    _farm(tmp_path)
    top = _top("garden aphids")
    assert top["title"] == "organic-farm" and top["start"] == 30.0, top


def test_a_search_for_what_nobody_said_finds_nothing(sample_archive):
    """Found by meaning alone, a passage must be close to the query, and is marked weak when not very close
    (levels calibrated by benchmarks/bench_relevance.py): nobody in the samples talks about Charlie Marsh or
    octopus."""
    for query, mode in (("Charlie Marsh", "hybrid"), ("Which wine goes with grilled octopus?", "semantic")):
        done = run_cli("--archive", str(sample_archive), "search", query, "--mode", mode, "--json")
        assert done.returncode == 0 and json.loads(done.stdout) == [], (query, done.stdout[:300])
    done = run_cli("--archive", str(sample_archive), "search", "why do they land the rocket", "--mode", "semantic",
                   "--json")
    top = json.loads(done.stdout)[0]
    assert top["title"] == "rockets-interview", "what was said is still found by meaning"
    assert top["weak"], "a whole short interview is one chunk, about more than rockets: close, not very close"
    done = run_cli("--archive", str(sample_archive), "search", "land the rocket", "--json")
    assert not json.loads(done.stdout)[0]["weak"], "a hit that shares the query's words is never weak"
