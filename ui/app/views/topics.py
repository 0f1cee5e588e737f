"""Topics: what each interview says about one subject, with playable quotes."""

import streamlit as st

from onrecord.search.errors import OnrecordError
from onrecord.search.retrieval.query import Filters
from onrecord.ui.app import resources
from onrecord.ui.app.widgets import escape, quote_chips

st.title("Topics")
interviews = resources.interviews()
if not interviews:
    st.info("Nothing to compare yet: the archive is empty. Add your first interview, then see what each "
            "interview says about a subject.")
    st.page_link("views/add.py", label="Add your first interview", icon=":material/add:")
    st.stop()
topic = st.text_input("Topic", key="topic", placeholder="self-driving, pricing, hiring…")
chosen = st.multiselect("Only these interviews", list(interviews), format_func=lambda i: interviews[i].title)
if topic.strip():
    try:
        with st.spinner("Reading what each interview says…"):
            result = resources.summarizer().across(topic, Filters(interviews=tuple(chosen)))
    except OnrecordError as exc:
        st.error(escape(str(exc)))  # it may quote the model server's reply
        st.stop()
    if result.mode != "llm":
        st.caption("Extractive: each interview's own best passages" +
                   (f" — {escape(result.notice)}" if result.notice else ""))
    if not result.interviews:
        st.info("No interview discusses this.")
    for n, take in enumerate(result.interviews):
        with st.container(border=True):
            st.markdown(f"**{escape(take.title)}**")
            st.markdown(escape(take.summary))
            quote_chips(take.quotes, interviews, scope=f"take{n}:{topic.strip()}")
