"""Long-lived objects, built once per server process (st.cache_resource), shared by every session."""

from __future__ import annotations

import streamlit as st

from search.config import Settings


@st.cache_resource
def settings() -> Settings:
    return Settings()


@st.cache_resource
def archive():
    from search.store import open_archive

    return open_archive(settings(), create=True)  # `onrecord ui` refuses a missing archive; Add may fill a new one


@st.cache_resource
def searcher():
    from search.retrieval.embedder import embedder_for
    from search.retrieval.searcher import Searcher

    return Searcher(archive(), embedder_for(settings(), archive().embed_model), settings().cache_dir)


@st.cache_resource
def answerer():
    from search.writeups.answer import Answerer
    from search.writeups.llm import chat_model_for

    chat, why_not = chat_model_for(settings())
    return Answerer(searcher(), chat, why_not)


@st.cache_resource
def summarizer():
    from search.writeups.summary import Summarizer

    return Summarizer(answerer(), searcher().embedder, context_tokens=settings().llm_context_tokens,
                      topic_minutes=settings().topic_minutes)


@st.cache_resource
def jobs():
    from ui.app.jobs import JobBoard

    return JobBoard(archive(), settings(), searcher().embedder)


def interviews() -> dict:
    """Committed interviews, fresh on every run (another process may have added some)."""
    return searcher().interviews()
