"""Search: hybrid search with filters; each hit shows who said what, with the matched words highlighted, plays
from that moment in place (where there is a recording) and opens the reader there. /search?q=<query> runs a
search, and the URL follows the query, so a search can be shared."""

import datetime as dt

import streamlit as st

from onrecord.search.errors import OnrecordError
from onrecord.search.retrieval.query import Filters
from onrecord.ui.app import resources
from onrecord.ui.app.widgets import clock, escape, highlighted, inline_player, play_button, transcript_link

st.title("Search")
interviews = resources.interviews()
if not interviews:
    st.info("Nothing to search yet: the archive is empty. Add your first interview, then search what was said.")
    st.page_link("views/add.py", label="Add your first interview", icon=":material/add:")
    st.stop()

linked = st.query_params.get("q", "")
if linked != st.session_state.get("search_linked"):  # a new /search?q=… link wins over what was typed before
    st.session_state["search_linked"] = linked
    st.session_state["search_query"] = linked
query = st.text_input("What was said?", key="search_query", placeholder='reusable rockets, or "an exact phrase"')
with st.expander("Filters"):
    chosen = st.multiselect("Interviews", list(interviews), format_func=lambda i: interviews[i].title)
    speakers = sorted({s for i in interviews.values() for s in i.speakers})
    speaker = st.selectbox("Speaker", ["anyone"] + speakers)
    since = st.date_input("Since", value=None, min_value=dt.date(1900, 1, 1))
    mode = st.radio("Mode", ["hybrid", "semantic", "keyword"], horizontal=True,
                    help='Keyword mode honours "exact phrases".')
    limit = st.slider("Hits", 5, 50, 10)

if query.strip() != linked:
    st.session_state["search_linked"] = query.strip()
    if query.strip():
        st.query_params["q"] = query.strip()
    else:
        st.query_params.pop("q", None)
if not query.strip():
    st.caption(f"Search what was said in {len(interviews)} interview(s): a subject in your own words, a name, "
               'or "an exact phrase".')
    st.stop()

filters = Filters(interviews=tuple(chosen), speaker=None if speaker == "anyone" else speaker,
                  since=since.isoformat() if since else None)
try:
    hits = resources.searcher().search(query, limit=limit, mode=mode, filters=filters)
except OnrecordError as exc:
    st.error(escape(str(exc)))  # it may quote the query
    st.stop()
if not hits:
    st.info("Nothing matched. Try other words, the semantic mode, or fewer filters.")
else:
    st.caption(f"{len(hits)} hit(s)")
scope = f"search:{mode}:{query.strip()}"  # a press plays only for this search; a new search starts silent
for n, hit in enumerate(hits):
    interview = interviews[hit.interview_id]
    with st.container(border=True, key=f"hit-{n}"):
        who = f" · {hit.speaker}" if hit.speaker else ""
        st.markdown(f"**{escape(hit.title)}** · {clock(hit.start)}–{clock(hit.end)}{escape(who)}")
        if hit.weak:
            st.caption(":material/help: Weak match: close in meaning only, and not very close.")
        before, after = (f"<span style='opacity:.6'>{escape(c)}</span>" if c else ""
                         for c in (hit.context_before, hit.context_after))
        st.markdown(f"{before} {highlighted(hit.text, hit.matched_terms)} {after}", unsafe_allow_html=True)
        with st.container(horizontal=True, vertical_alignment="center"):
            play_button(scope, f"play-{n}", interview, hit.start, label="Play")
            transcript_link(hit.interview_id, hit.start)
        inline_player(scope, interview, hit.start)
