"""The app's view of the core: one `Onrecord` per server process (st.cache_resource), shared by every session, and
what is per session: the LLM a visitor chose on the Settings page (st.session_state)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from onrecord import LLMChoice, Onrecord
from onrecord.search.config import Settings

LLM_KEY = "llm_choice"  # st.session_state: this session's LLMChoice, or absent for the environment's


@st.cache_resource
def core() -> Onrecord:
    return Onrecord()  # settings from ONRECORD_* (set by `onrecord ui` from its flags) and .env


def settings() -> Settings:
    return core().settings


def archive():
    return core().archive(create=True)  # `onrecord ui` refuses a missing archive; Add may fill a new one


def searcher():
    return core().searcher()


def llm_choice() -> LLMChoice | None:
    """The LLM this session chose on the Settings page; other sessions keep theirs (or the environment's)."""
    return st.session_state.get(LLM_KEY)


def choose_llm(choice: LLMChoice | None) -> None:
    """None: back to the environment's settings."""
    if choice is None:
        st.session_state.pop(LLM_KEY, None)
    else:
        st.session_state[LLM_KEY] = choice


def llm_settings() -> Settings:
    """This session's settings: the environment's, with its LLM choice in their place (the key as policy allows)."""
    return core().policy.llm_settings(llm_choice())


def answerer():
    return core().answerer(llm_choice())


def summarizer():
    return core().summarizer(llm_choice())


def jobs():
    return core().jobs()


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
    """Committed interviews, fresh on every run (another process may have added some), each as a visitor may see
    it: a recording this server may not stream has no media, so no player ever opens it."""
    policy = core().policy
    return {key: policy.servable(interview) for key, interview in searcher().interviews().items()}
