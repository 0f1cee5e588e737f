"""Library: every interview, filterable and sortable; open one or delete one (after confirming)."""

import streamlit as st

from ui.app import resources
from ui.app.widgets import clock, escape

st.title("Library")
interviews = list(resources.interviews().values())
if not interviews:
    st.info("The archive is empty. Add interviews on the **Add** page, or with `onrecord ingest`.")
    st.page_link("views/add.py", label="Add interviews", icon="➕")
    st.stop()

left, right = st.columns([3, 1])
needle = left.text_input("Filter", placeholder="title, speaker or source").strip().lower()
order = right.selectbox("Sort by", ["Newest", "Oldest", "Title", "Longest"])
if needle:
    interviews = [i for i in interviews
                  if needle in f"{i.title} {' '.join(i.speakers)} {i.source}".lower()]
sorters = {"Newest": (lambda i: i.created, True), "Oldest": (lambda i: i.created, False),
           "Title": (lambda i: i.title.lower(), False), "Longest": (lambda i: i.duration, True)}
key, reverse = sorters[order]
interviews.sort(key=key, reverse=reverse)
st.caption(f"{len(interviews)} interview(s)")

for interview in interviews:
    with st.container(border=True):
        info, actions = st.columns([5, 1])
        info.markdown(f"**{escape(interview.title)}**")
        who = ", ".join(interview.speakers) or "speakers unknown"
        info.caption(escape(f"{clock(interview.duration)} · {interview.date or interview.created[:10]} · {who} · "
                            f"{interview.source}"))
        if actions.button("Open", key=f"open-{interview.id}", type="primary"):
            st.session_state["interview_id"] = interview.id
            st.switch_page("views/interview.py")
        if st.session_state.get("confirm_delete") == interview.id:
            st.warning(f"Delete “{escape(interview.title)}” from the archive? The recording file itself is kept.")
            yes, no = st.columns(2)
            if yes.button("Delete", key=f"yes-{interview.id}"):
                resources.archive().delete(interview.id)
                resources.searcher().mark_stale()
                st.session_state.pop("confirm_delete")
                st.toast(f"Deleted {interview.title}")
                st.rerun()
            if no.button("Cancel", key=f"no-{interview.id}"):
                st.session_state.pop("confirm_delete")
                st.rerun()
        elif actions.button("Delete", key=f"del-{interview.id}"):
            st.session_state["confirm_delete"] = interview.id
            st.rerun()
