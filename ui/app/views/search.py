"""Search: hybrid search with filters; each hit shows who said what, with the matched words highlighted,
and plays from that moment in place."""

import datetime as dt

import streamlit as st

from search.errors import OnrecordError
from search.retrieval.query import Filters
from ui.app import resources
from ui.app.widgets import clock, escape, highlighted, play_button, player, playing

st.title("Search")
interviews = resources.interviews()
query = st.text_input("What was said?", key="search_query", placeholder='reusable rockets, or "an exact phrase"')
with st.expander("Filters"):
    chosen = st.multiselect("Interviews", list(interviews), format_func=lambda i: interviews[i].title)
    speakers = sorted({s for i in interviews.values() for s in i.speakers})
    speaker = st.selectbox("Speaker", ["anyone"] + speakers)
    since = st.date_input("Since", value=None, min_value=dt.date(1900, 1, 1))
    mode = st.radio("Mode", ["hybrid", "semantic", "keyword"], horizontal=True,
                    help='Keyword mode honours "exact phrases".')
    limit = st.slider("Hits", 5, 50, 10)

if query.strip():
    filters = Filters(interviews=tuple(chosen), speaker=None if speaker == "anyone" else speaker,
                      since=since.isoformat() if since else None)
    try:
        hits = resources.searcher().search(query, limit=limit, mode=mode, filters=filters)
    except OnrecordError as exc:
        st.error(str(exc))
        st.stop()
    st.caption(f"{len(hits)} hit(s)")
    for n, hit in enumerate(hits):
        with st.container(border=True):
            head, button = st.columns([6, 1])
            who = f" · {hit.speaker}" if hit.speaker else ""
            head.markdown(f"**{escape(hit.title)}** · {clock(hit.start)}–{clock(hit.end)}{escape(who)}")
            with button:
                play_button("▶ Play", f"hit-{n}", hit.interview_id, hit.start)
            before, after = (f"<span style='opacity:.6'>{escape(c)}</span>" if c else ""
                             for c in (hit.context_before, hit.context_after))
            st.markdown(f"{before} {highlighted(hit.text, hit.matched_terms)} {after}", unsafe_allow_html=True)
            if playing(f"hit-{n}"):
                player(interviews[hit.interview_id], hit.start, autoplay=True)
