"""A chat model that cannot be built or called never breaks a command or a page: every surface (CLI, HTTP API, MCP
server, app) gives the extractive answer and one line saying why. Built with the openai client installed here
(today's release: the lock file pins it), and with clients that fail in ways no release documents."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli

QUESTION = "What grows best on the roof?"
DEAD_SERVER = "http://127.0.0.1:9/v1"  # the discard port: nothing listens, the connection is refused at once
UNPARSEABLE = "http://[not-a-host/v1"  # a server the user typed that no URL parser accepts: fails at construction


def llm_env(base_url: str) -> dict[str, str]:
    return {"ONRECORD_LLM_BASE_URL": base_url, "ONRECORD_LLM_MODEL": "any-model", "ONRECORD_LLM_MAX_RETRIES": "0"}


@pytest.fixture
def transcripts_archive(tmp_path, model_cache, chroma_url):
    """The two sample transcripts: no audio, so quick to ingest."""
    from conftest import SAMPLES, fresh_archive

    archive = str(fresh_archive(tmp_path / "archive", chroma_url))
    done = run_cli("--archive", archive, "ingest", str(SAMPLES / "transcripts"))
    assert done.returncode == 0, done.stderr
    return archive


def test_the_installed_openai_client_is_built_with_its_own_timeout_type():
    """openai 3 runs on httpx2: an httpx.Timeout handed to it broke every call (issue 25). The model is built with
    the installed client's Timeout, and a refused connection is an LLMError, not an AttributeError."""
    import openai

    from onrecord.search.config import Settings
    from onrecord.search.writeups.llm import LLMError, Message, OpenAIChat, chat_model_for

    chat, why = chat_model_for(Settings(llm_base_url=DEAD_SERVER, llm_model="any-model", llm_max_retries=0))
    assert why is None and isinstance(chat, OpenAIChat)
    timeout = chat._client.timeout
    assert isinstance(timeout, openai.Timeout) and (timeout.read, timeout.connect) == (60.0, 5.0)
    with pytest.raises(LLMError, match="cannot connect"):
        chat.complete([Message("user", "hi")])


def test_a_client_that_raises_while_being_built_is_one_reason(monkeypatch):
    import openai

    from onrecord.search.config import Settings
    from onrecord.search.writeups.llm import chat_model_for

    def broken(*args, **kwargs):
        raise RuntimeError("this release wants something else\nand a second line")

    monkeypatch.setattr(openai, "OpenAI", broken)
    chat, why = chat_model_for(Settings(llm_base_url=DEAD_SERVER, llm_model="any-model"))
    assert chat is None
    assert why == "LLM error: cannot use any-model (RuntimeError: this release wants something else)"


def test_a_client_that_fails_while_answering_falls_back_to_quotes(monkeypatch, sample_archive):
    """An exception no openai release documents, raised mid-call, still becomes the extractive answer."""
    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.retrieval.searcher import Searcher
    from onrecord.search.store import open_archive
    from onrecord.search.writeups.answer import Answerer
    from onrecord.search.writeups.llm import chat_model_for

    settings = Settings(archive=sample_archive, llm_base_url=DEAD_SERVER, llm_model="any-model")
    chat, _ = chat_model_for(settings)

    def explode(**kwargs):
        raise RuntimeError("the transport went away")

    monkeypatch.setattr(chat._client.chat.completions, "create", explode)
    archive = open_archive(settings)
    answerer = Answerer(Searcher(archive, embedder_for(settings, archive.embed_model), settings.cache_dir), chat)
    answer = answerer.ask(QUESTION)
    assert answer.mode == "extractive" and answer.quotes
    assert answer.notice == "LLM error: the client failed (RuntimeError: the transport went away)"
    streamed = answerer.stream(QUESTION)
    assert list(streamed.pieces()) == []
    assert streamed.answer.mode == "extractive" and streamed.answer.notice == answer.notice


@pytest.mark.parametrize("base_url, reason", [(DEAD_SERVER, "cannot connect to the server"),
                                              (UNPARSEABLE, "cannot use any-model (ValueError")])
def test_the_cli_answers_extractively_with_one_line_why(transcripts_archive, base_url, reason):
    for command in (["ask", QUESTION], ["ask", QUESTION, "--json"], ["summarize", "gardening"]):
        done = run_cli("--archive", transcripts_archive, *command, env=llm_env(base_url))
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr and reason in done.stdout + done.stderr
    answer = json.loads(run_cli("--archive", transcripts_archive, "ask", QUESTION, "--json",
                                env=llm_env(base_url)).stdout)
    assert answer["mode"] == "extractive" and answer["quotes"][0]["speaker"] == "Dana Ortiz"


def test_the_http_api_answers_extractively(transcripts_archive, monkeypatch):
    from fastapi.testclient import TestClient

    from onrecord import Onrecord
    from onrecord.ui.api import create_app

    for base_url in (DEAD_SERVER, UNPARSEABLE):
        for name, value in llm_env(base_url).items():
            monkeypatch.setenv(name, value)
        with TestClient(create_app(Onrecord(archive=transcripts_archive)), base_url="http://127.0.0.1") as client:
            answer = client.get("/api/ask", params={"q": QUESTION})
            assert answer.status_code == 200, answer.text
            assert answer.json()["mode"] == "extractive" and answer.json()["notice"].startswith("LLM error")
            streamed = client.get("/api/ask/stream", params={"q": QUESTION}).text
            assert "event: answer" in streamed and "LLM error" in streamed


def test_the_mcp_server_answers_extractively(transcripts_archive, monkeypatch, tmp_path):
    from test_mcp import call, talk

    for name, value in llm_env(UNPARSEABLE).items():
        monkeypatch.setenv(name, value)

    async def script(session):
        return await call(session, "ask", question=QUESTION)

    answer = talk(transcripts_archive, tmp_path, script)
    assert answer["mode"] == "extractive" and "cannot use any-model" in answer["notice"]


def test_the_app_survives_any_model_typed_in_settings(app, monkeypatch):
    """Settings and Ask load with a model that cannot be built, from the environment or typed on the page."""
    for name, value in llm_env(UNPARSEABLE).items():
        monkeypatch.setenv(name, value)
    at = app("settings")
    assert "cannot use any-model" in " ".join(m.value for m in at.warning)
    for server in (UNPARSEABLE, DEAD_SERVER, "http://exa mple.com/v1"):
        field = {t.label: t for t in at.text_input}
        field["Model"].set_value("typed-model")
        field["Server (base URL)"].set_value(server)
        next(b for b in at.button if b.label == "Apply to this session").click().run()
        assert not at.exception, at.exception
        at.switch_page("views/ask.py").run()
        assert not at.exception, at.exception
        at.switch_page("views/settings.py").run()
        assert not at.exception, at.exception
