"""Add: upload files, paste URLs, or name a folder on the server. Ingest runs on a background worker;
this page shows each source's progress and, in plain words, what went wrong. An upload that fails or is
already in the archive is removed again; one that is added stays (the player needs it)."""

from pathlib import Path

import streamlit as st

from onrecord.ui.app import resources
from onrecord.ui.app.uploads import original_name, store_upload
from onrecord.ui.app.widgets import clock, escape

st.title("Add interviews")
settings = resources.settings()
board = resources.jobs()
roots = settings.folder_roots()  # None: anywhere (only this machine reaches the app); []: no folders at all


def readable(folder: str) -> str | None:
    """Why this app may not read `folder`, or None: a shared app reads only under ONRECORD_SERVER_FOLDERS."""
    if roots is None:
        return None
    where = Path(folder).expanduser().resolve()  # symlinks and ".." resolved before the check
    if any(where.is_relative_to(root) for root in roots):
        return None
    return f"{folder} is outside the folders this app may read ({', '.join(map(str, roots)) or 'none are set'})"

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
    uploads = [store_upload(settings.media_dir / "uploads", f.name, f.getvalue()) for f in files or []]
    inputs = [str(p) for p in uploads]
    inputs += [u.strip() for u in urls.splitlines() if u.strip()]
    refused = readable(folder.strip()) if folder.strip() else None
    inputs += [folder.strip()] if folder.strip() and not refused else []
    if refused:
        st.error(escape(refused), icon=":material/block:")
    if inputs:
        st.session_state.setdefault("jobs", []).append(board.submit(inputs, uploads).id)
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
