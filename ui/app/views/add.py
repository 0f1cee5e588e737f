"""Add: upload files, paste URLs (a podcast feed adds its episodes), or name a folder on the server. What is
given goes through the core's input policy (a URL line is never read as a server path; folders only under
ONRECORD_SERVER_FOLDERS when the app is shared), then runs on the core's background worker; this page shows each
source's progress and, in plain words, what went wrong. An upload that fails or is already in the archive is removed
again; one that is added stays (the player needs it)."""

import streamlit as st

from onrecord.ui.app import resources
from onrecord.ui.app.widgets import clock, escape
from onrecord.uploads import original_name

st.title("Add interviews")
core = resources.core()
board = resources.jobs()
roots = core.settings.folder_roots()  # None: anywhere (only this machine reaches the app); []: no folders at all

with st.form("add", clear_on_submit=True):
    files = st.file_uploader("Audio, video or transcript files (.vtt, .srt, onrecord .json)",
                             accept_multiple_files=True)
    urls = st.text_area("URLs, one per line", placeholder="https://www.youtube.com/watch?v=…")
    folder = st.text_input("A folder on this server", placeholder=str(roots[0]) if roots else "/data/interviews",
                           disabled=roots == [],
                           help="Off for a shared app until ONRECORD_SERVER_FOLDERS names the folders it may read."
                           if roots == [] else None)
    submitted = st.form_submit_button("Add to the archive", type="primary", icon=":material/add_circle:")

if submitted:
    uploads = [core.store_upload(f.name, f.getvalue()) for f in files or []]
    lines = [u.strip() for u in urls.splitlines() if u.strip()]
    refused = core.policy.folder_refused(folder.strip()) if folder.strip() else None
    folders = [folder.strip()] if folder.strip() and not refused else []
    if refused:
        st.error(escape(refused), icon=":material/block:")
    if uploads or lines or folders:
        job = core.submit(urls=lines, folders=folders, uploads=uploads)
        st.session_state.setdefault("jobs", []).append(job.id)
    elif not refused:
        st.warning("Nothing to add: choose files, paste URLs or name a folder.", icon=":material/warning:")


@st.fragment(run_every=1.0)
def progress() -> None:
    mine = [board.jobs[j] for j in st.session_state.get("jobs", []) if j in board.jobs]
    if not mine:
        st.caption("Each source you add shows its progress here, and you can keep using the other pages meanwhile: "
                   "recordings are transcribed on this server, which takes a while; transcripts take seconds.")
    for job in reversed(mine):
        for s in job.sources:
            label = escape(original_name(s.source))
            if s.status == "failed":
                st.error(f"{label}: {escape(s.error or 'failed')}", icon=":material/error:")
            elif s.status in ("added", "skipped"):
                st.success(f"{label}: {'added' if s.status == 'added' else 'already in the archive'}",
                           icon=":material/check_circle:")
            elif s.status == "running" and s.total:
                st.progress(min(1.0, s.done / s.total), text=f"{label}: {clock(s.done)} / {clock(s.total)}")
            else:
                st.progress(0.0, text=f"{label}: {s.status}…")
    if any(s.status == "added" for job in mine for s in job.sources):
        st.page_link("views/library.py", label="See them in the Library", icon=":material/video_library:")


progress()
