"""Library: every interview, filterable and sortable; open one or delete one (after confirming)."""

from urllib.parse import urlparse

import streamlit as st

from onrecord.search.languages import language_name
from onrecord.search.models import Interview
from onrecord.ui.app import resources
from onrecord.uploads import original_name
from onrecord.ui.app.widgets import clock, escape

# Streamlit has no "danger" button: the confirming one is keyed, and its key is a CSS class. It is the only red
# button on the page (Open is not a primary button: the default theme's primary colour is red too).
DANGER_CSS = """<style>
.st-key-confirm-delete button { background-color: #c62828; border-color: #c62828; color: #fff; font-weight: 600; }
.st-key-confirm-delete button:hover { background-color: #8e0000; border-color: #8e0000; color: #fff; }
</style>"""


def origin(interview: Interview) -> str:
    """Where it came from, without this server's folders: a link's host, or the kind and name of the file."""
    if interview.kind == "url":
        host = urlparse(interview.source).hostname or "a link"
        return host.removeprefix("www.")
    kind = "transcript" if interview.kind == "transcript" else "recording"
    return f"{kind} {original_name(interview.source)}"


def when(interview: Interview) -> str:
    return interview.date or f"added {interview.created[:10]}"


st.title("Library")
interviews = list(resources.interviews().values())
if not interviews:
    st.info("No interviews yet. Upload recordings or transcripts, paste links, or name a folder on the Add page "
            "(or run `onrecord ingest`); each appears here once it is transcribed and indexed.",
            icon=":material/info:")
    st.page_link("views/add.py", label="Add your first interview", icon=":material/add_circle:")
    st.stop()

left, right = st.columns([3, 1])
needle = left.text_input("Filter", placeholder="title, speaker or source").strip().lower()
order = right.selectbox("Sort by", ["Newest", "Oldest", "Title", "Longest"])
if needle:
    interviews = [i for i in interviews
                  if needle in f"{i.title} {' '.join(i.speakers)} {origin(i)}".lower()]
sorters = {"Newest": (lambda i: i.created, True), "Oldest": (lambda i: i.created, False),
           "Title": (lambda i: i.title.lower(), False), "Longest": (lambda i: i.duration, True)}
key, reverse = sorters[order]
interviews.sort(key=key, reverse=reverse)
st.caption(f"{len(interviews)} interview(s)")
if not interviews:
    st.info(f"No interview matches “{escape(needle)}”. Clear the filter to see them all.", icon=":material/info:")


def confirm_delete(interview: Interview) -> None:
    st.html(DANGER_CSS)
    st.warning(f"Delete “{escape(interview.title)}” from the archive? Its transcript, search index, speaker names "
               "and write-ups are removed, and this cannot be undone. The recording file itself is kept.",
               icon=":material/warning:")
    yes, no = st.columns(2)
    if yes.button("Delete", key="confirm-delete", icon=":material/delete_forever:"):
        resources.core().delete(interview.id)
        st.session_state.pop("confirm_delete")
        st.toast(f"Deleted {interview.title}", icon=":material/delete:")
        st.rerun()
    if no.button("Cancel", key="cancel-delete"):
        st.session_state.pop("confirm_delete")
        st.rerun()


for interview in interviews:
    with st.container(border=True):
        info, actions = st.columns([5, 1])
        info.markdown(f"**{escape(interview.title)}**")
        parts = [clock(interview.duration), language_name(interview.language), when(interview),
                 ", ".join(interview.speakers), origin(interview)]
        info.caption(escape(" · ".join(p for p in parts if p)))
        if actions.button("Open", key=f"open-{interview.id}", icon=":material/headphones:"):
            st.session_state["interview_id"] = interview.id
            st.switch_page("views/interview.py")
        if st.session_state.get("confirm_delete") == interview.id:
            confirm_delete(interview)
        elif actions.button("Delete", key=f"del-{interview.id}", icon=":material/delete:"):
            st.session_state["confirm_delete"] = interview.id
            st.rerun()
