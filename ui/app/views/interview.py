"""One interview: the player and the transcript beside it (click a time to play from there), its speakers
(named here), the topic write-up with playable quotes, and exports."""

import streamlit as st

from search.errors import OnrecordError
from search.export import FORMATS, export
from search.store.speakers import rename, speaker_table
from ui.app import resources
from ui.app.widgets import clock, escape, play_button, player, quote_chips

PAGE_SEGMENTS = 50

interviews = resources.interviews()
chosen = st.query_params.get("id") or st.session_state.get("interview_id")
if not interviews:
    st.info("The archive is empty.")
    st.stop()
ids = list(interviews)
chosen = chosen if chosen in interviews else ids[0]
chosen = st.selectbox("Interview", ids, index=ids.index(chosen), format_func=lambda i: interviews[i].title)
st.session_state["interview_id"] = chosen
interview = interviews[chosen]
archive = resources.archive()

st.title(interview.title)
who = ", ".join(interview.speakers) or "speakers unknown"
st.caption(escape(f"{clock(interview.duration)} · {interview.date or interview.created[:10]} · {who} · "
                  f"{interview.source}"))

left, right = st.columns([3, 2], gap="large")
with left:
    play = st.session_state.get("play")
    here = play if play and play.get("interview_id") == chosen and play.get("key", "").startswith("seg-") else None
    player(interview, here["start"] if here else 0.0, autoplay=bool(here))
    segments = list(archive.segments(interview))
    pages = max(1, -(-len(segments) // PAGE_SEGMENTS))
    page = st.number_input(f"Transcript page (of {pages})", 1, pages, 1) if pages > 1 else 1
    for n, s in enumerate(segments[(page - 1) * PAGE_SEGMENTS: page * PAGE_SEGMENTS], (page - 1) * PAGE_SEGMENTS):
        stamp, text = st.columns([1, 6])
        with stamp:
            play_button(clock(s.start), f"seg-{n}", chosen, s.start)
        text.markdown((f"**{escape(s.speaker)}:** " if s.speaker else "") + escape(s.text))

with right:
    if interview.speakers:
        st.subheader("Speakers")
        for row in speaker_table(interview, segments):
            shown = f"{row.name} ({row.label})" if row.name else row.label
            st.caption(escape(f"{shown} · {clock(row.seconds)} of talk · “{row.first_words.rstrip('.,;:!?')}…”"))
        with st.form("rename-speaker", border=False):
            who = st.selectbox("Speaker", interview.speakers)
            name = st.text_input("Name", placeholder="a name, or the speaker's label to undo one")
            if st.form_submit_button("Rename"):
                try:
                    rename(archive, interview, who, name)
                except OnrecordError as exc:
                    st.error(escape(str(exc)))
                else:
                    resources.searcher().mark_stale()
                    st.rerun()
    st.subheader("Topics")
    summarizer = resources.summarizer()
    summary = summarizer.stored(interview)
    if summary is None and st.button("Write up the topics", type="primary"):
        with st.spinner("Finding the topics and their quotes…"):
            summarizer.summarize(chosen)
        st.rerun()  # drawn afresh from the stored write-up, without the button
    if summary is not None:
        if summary.mode != "llm":
            st.caption("Extractive: titled by key phrases, summarised in the interviewees' own sentences.")
        if summary.notice:
            st.caption(escape(summary.notice))
        st.write(summary.overview)
        first = next((t for t, topic in enumerate(summary.topics) if not topic.aside), None)
        for t, topic in enumerate(summary.topics):
            if topic.aside:  # intro, sponsor read, outro: a collapsed line, never written up or quoted
                with st.expander(f"{topic.title} · {clock(topic.start)}–{clock(topic.end)}", expanded=False):
                    st.caption(f"Set aside: not part of the conversation ({topic.kind}).")
                continue
            with st.expander(f"{topic.title} · {clock(topic.start)}–{clock(topic.end)}", expanded=t == first):
                st.write(topic.summary)
                quote_chips(topic.quotes, interviews, prefix=f"topic{t}")
    st.subheader("Export")
    for fmt in FORMATS:
        if fmt == "md" and summary is None:
            st.caption("The Markdown write-up is available once the topics are written up.")
            continue
        data = "".join(export(interview, segments, fmt, summary if fmt == "md" else None))
        st.download_button(f"Download {fmt.upper()}", data, file_name=f"{interview.title}.{fmt}",
                           mime="text/plain", key=f"export-{fmt}")
