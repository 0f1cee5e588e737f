"""Long-lived objects, built once per server process (st.cache_resource), shared by every session."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import streamlit as st
from pydantic import SecretStr

from onrecord.search.config import Settings


@st.cache_resource
def settings() -> Settings:
    return Settings()


@st.cache_resource
def archive():
    from onrecord.search.store import open_archive

    return open_archive(settings(), create=True)  # `onrecord ui` refuses a missing archive; Add may fill a new one


@st.cache_resource
def searcher():
    from onrecord.search.retrieval.embedder import embedder_for
    from onrecord.search.retrieval.searcher import Searcher

    return Searcher(archive(), embedder_for(settings(), archive().embed_model), settings().cache_dir)


@dataclass(frozen=True, slots=True)
class LLMChoice:
    """The LLM chosen on the Settings page; it replaces all three LLM settings from the environment."""

    model: str | None
    base_url: str | None
    api_key: SecretStr | None  # in memory only: never written anywhere, never shown


class LLMOverride:
    """The running app's LLM choice, for every session of this process. Each change gets a new version, and the
    answerer and summarizer are cached on that version, so the next page run uses the new model."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: tuple[int, LLMChoice | None] = (0, None)

    @property
    def current(self) -> tuple[int, LLMChoice | None]:
        return self._current

    def set(self, choice: LLMChoice | None) -> None:
        """None: back to the environment's settings."""
        with self._lock:
            self._current = (self._current[0] + 1, choice)


@st.cache_resource
def llm_override() -> LLMOverride:
    return LLMOverride()


def llm_settings() -> Settings:
    """The settings with the LLM chosen on the Settings page, if any, in place of the environment's."""
    return _with_llm(llm_override().current[1])


def _with_llm(choice: LLMChoice | None) -> Settings:
    if choice is None:
        return settings()
    return settings().model_copy(update={"llm_model": choice.model, "llm_base_url": choice.base_url,
                                         "llm_api_key": choice.api_key})


def answerer():
    version, choice = llm_override().current
    return _answerer(version, choice)


def summarizer():
    version, choice = llm_override().current
    return _summarizer(version, _answerer(version, choice))


@st.cache_resource(max_entries=1)
def _answerer(version: int, _choice: LLMChoice | None):
    from onrecord.search.writeups.answer import Answerer
    from onrecord.search.writeups.llm import chat_model_for

    chat, why_not = chat_model_for(_with_llm(_choice))
    return Answerer(searcher(), chat, why_not)


@st.cache_resource(max_entries=1)
def _summarizer(version: int, _answerer):
    from onrecord.search.writeups.summary import Summarizer

    return Summarizer(_answerer, context_tokens=settings().llm_context_tokens,
                      topic_minutes=settings().topic_minutes)


@st.cache_resource
def jobs():
    from onrecord.ui.app.jobs import JobBoard

    return JobBoard(archive(), settings(), searcher().current_embedder, added=searcher().mark_stale)


@dataclass(frozen=True, slots=True)
class Transcript:
    segments: tuple
    paras: list[dict]  # what the reader draws: paragraphs by speaker, with word timings


def transcript(interview_id: str) -> Transcript:
    """An interview's segments and the reader's data, built once per archive revision and shared by every session:
    the interview page reruns on every click, and must not re-read, re-decode and re-shape a 3-hour transcript each
    time. A rename, a new diarization or an edit commits a new revision, and so a fresh read."""
    return _transcript(interview_id, archive().revision())


@st.cache_resource(max_entries=4, show_spinner=False)
def _transcript(interview_id: str, revision: tuple) -> Transcript:
    from onrecord.ui.app.reader import paragraph_data

    store = archive()
    segments = tuple(store.segments(store.get(interview_id)))
    return Transcript(segments, paragraph_data(list(segments)))


def interviews() -> dict:
    """Committed interviews, fresh on every run (another process may have added some)."""
    return searcher().interviews()
