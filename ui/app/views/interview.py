"""One interview: the reader (one player that stays in view; the transcript as paragraphs by speaker, following
what is said), its speakers (named here), the topic write-up whose quotes move the reader, and exports.
The page's URL is /interview?id=<id>&t=<seconds>: opening it cues that moment, so any moment can be shared."""

import streamlit as st

from onrecord.search.errors import OnrecordError
from onrecord.search.export import FORMATS, export
from onrecord.search.languages import language_name
from onrecord.search.models import Interview, Quote
from onrecord.search.store.speakers import speaker_table
from onrecord.ui.app import resources
from onrecord.ui.app.reader import PLAYER_KEY, reader, request_seek, take_seek
from onrecord.ui.app.widgets import clock, escape, player, player_kind


def seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # a mangled t= opens the interview at its start


def header(interview: Interview) -> None:
    st.title(escape(interview.title))  # a title comes from the source (a feed, a video page): data
    when = f"recorded {interview.date}" if interview.date else f"added {interview.created[:10]}"
    parts = [clock(interview.duration), language_name(interview.language), when, ", ".join(interview.speakers),
             interview.kind]
    st.caption(escape(" · ".join(p for p in parts if p)))


def details(interview: Interview) -> None:
    """Title and recording date, edited in place (as `onrecord edit` does)."""
    with st.expander("Edit details", icon=":material/edit:"), st.form("details", border=False):
        title = st.text_input("Title", value=interview.title)
        date = st.text_input("Recorded on", value=interview.date or "", placeholder="YYYY-MM-DD, or empty")
        if st.form_submit_button("Save"):
            try:
                resources.core().edit(interview.id, title=title, date=date)
            except OnrecordError as exc:
                st.error(escape(str(exc)))
            else:
                st.rerun()


def seek_button(label: str, key: str, interview: Interview, start: float, kind: str | None) -> None:
    """On this page a quote or a topic moves the page's one player (and the transcript) rather than opening
    another; for a transcript it only brings the passage into view."""
    st.button(label if kind else f"Show {clock(start)}", key=key,
              icon=":material/play_arrow:" if kind else ":material/subject:",
              on_click=request_seek, args=(interview.id, start), kwargs={"play": kind is not None})


def chips(quotes: list[Quote], interview: Interview, kind: str | None, prefix: str) -> None:
    for n, q in enumerate(quotes, 1):
        who = f"{q.speaker}: " if q.speaker else ""
        st.markdown(f"[{n}] {escape(who)}“{escape(q.text)}”")
        seek_button(f"{clock(q.start)}–{clock(q.end)}", f"{prefix}-q{n}", interview, q.start, kind)


@st.dialog("Rename a speaker")
def rename_dialog(interview: Interview, speaker: str) -> None:
    """Opened by clicking a name in the transcript: the name changes everywhere, in this interview."""
    name = st.text_input("Name", value=speaker, help="a name, or the speaker's label to undo one")
    if st.button("Rename", type="primary"):
        try:
            resources.core().rename_speaker(interview.id, speaker, name)
        except OnrecordError as exc:
            st.error(escape(str(exc)))
        else:
            st.rerun()


def speakers(interview: Interview, segments) -> None:
    st.subheader("Speakers")
    for row in speaker_table(interview, segments):
        shown = f"{row.name} ({row.label})" if row.name else row.label
        st.caption(escape(f"{shown} · {clock(row.seconds)} of talk · “{row.first_words.rstrip('.,;:!?')}…”"))
    with st.form("rename-speaker", border=False):
        who = st.selectbox("Speaker", interview.speakers)
        name = st.text_input("Name", placeholder="a name, or the speaker's label to undo one")
        if st.form_submit_button("Rename"):
            try:
                resources.core().rename_speaker(interview.id, who, name)
            except OnrecordError as exc:
                st.error(escape(str(exc)))
            else:
                st.rerun()


def write_up(interview: Interview, kind: str | None):
    st.subheader("Topics")
    summarizer = resources.summarizer()
    summary = summarizer.stored(interview)
    if summary is None:
        if st.button("Write up the topics", type="primary"):
            with st.spinner("Finding the topics and their quotes…"):
                summarizer.summarize(interview.id)
            st.rerun()  # drawn afresh from the stored write-up, without the button
        return None
    if summary.mode != "llm":
        st.caption("Extractive: titled by key phrases, summarised in the interviewees' own sentences.")
    if summary.notice:
        st.caption(escape(summary.notice))
    st.markdown(escape(summary.overview))  # a model wrote it: data, never markup (no links, no images)
    first = next((t for t, topic in enumerate(summary.topics) if not topic.aside), None)
    for t, topic in enumerate(summary.topics):
        with st.expander(f"{escape(topic.title)} · {clock(topic.start)}–{clock(topic.end)}", expanded=t == first):
            if topic.aside:  # intro, sponsor read, outro: never written up or quoted
                st.caption(f"Set aside: not part of the conversation ({topic.kind}).")
                continue
            st.markdown(escape(topic.summary))
            seek_button(f"From {clock(topic.start)}", f"topic{t}", interview, topic.start, kind)
            chips(topic.quotes, interview, kind, prefix=f"topic{t}")
    return summary


def downloads(interview: Interview, segments, summary) -> None:
    st.subheader("Export")
    for fmt in FORMATS:
        if fmt == "md" and summary is None:
            st.caption("The Markdown write-up is available once the topics are written up.")
            continue
        def data(fmt=fmt) -> str:  # written on the click, not on every run: a 3-hour SRT is not free
            return "".join(export(interview, segments, fmt, summary if fmt == "md" else None))

        st.download_button(f"Download {fmt.upper()}", data, file_name=f"{interview.title}.{fmt}",
                           mime="text/plain", key=f"export-{fmt}", icon=":material/download:")


interviews = resources.interviews()
if not interviews:
    st.info("No interviews yet. Add your first one, and it opens here to read and play.")
    st.page_link("views/add.py", label="Add your first interview", icon=":material/add:")
    st.stop()
ids = list(interviews)
linked = st.query_params.get("id")
chosen = next(i for i in (linked, st.session_state.get("interview_id"), ids[0]) if i in interviews)
chosen = st.selectbox("Interview", ids, index=ids.index(chosen), format_func=lambda i: interviews[i].title)
cue = seconds(st.query_params.get("t")) if chosen == linked else None
if chosen != linked:  # the URL follows what is open, so the view can be copied and shared
    st.query_params.pop("t", None)
    st.query_params["id"] = chosen
st.session_state["interview_id"] = chosen
interview = interviews[chosen]
kind = player_kind(interview)
header(interview)
transcript = resources.transcript(interview.id)  # read once per archive revision, not on every run
segments = transcript.segments

left, right = st.columns([3, 2], gap="large")
with left:
    seek = take_seek(chosen)
    embed_seek = seek if kind == "embed" else None  # an embed is cued by drawing it afresh at that moment
    with st.container(key=PLAYER_KEY):
        if kind:
            player(interview, embed_seek.seconds if embed_seek else cue or 0.0,
                   autoplay=bool(embed_seek and embed_seek.play))
        elif interview.media:
            player(interview)  # says where the recording was expected
        else:
            st.caption("Transcript only: there is no recording to play. Times still link to their passage.")
    clicked = reader(interview, transcript.paras, cue=cue,
                     seek=None if embed_seek else seek, player=kind)
    if clicked.seconds is not None and kind == "embed":
        request_seek(chosen, clicked.seconds, play=True)
        st.rerun()
    if clicked.speaker in interview.speakers:
        rename_dialog(interview, clicked.speaker)

with right:
    details(interview)
    if interview.speakers:
        speakers(interview, segments)
    summary = write_up(interview, kind)
    downloads(interview, segments, summary)
