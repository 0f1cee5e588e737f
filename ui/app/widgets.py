"""Pieces several pages share: the player, play buttons keyed by what they play, links into the reader,
playable quotes, highlighted hit text."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, replace
from pathlib import Path

import streamlit as st

from onrecord.search.models import Interview, Quote
from onrecord.search.render import markdown_text
from onrecord.search.timefmt import format_timestamp
from onrecord.ui.app import media as served

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi", ".mpg", ".mpeg"}


def clock(seconds: float) -> str:
    return format_timestamp(seconds, millis=False)


def player_kind(interview: Interview) -> str | None:
    """"element": an <audio>/<video> the page can drive (a local file, a direct media URL); "embed": a player
    the page can only cue by redrawing it (YouTube); None: nothing to play (a transcript, a moved file)."""
    media = interview.media
    if not media:
        return None
    if "youtube.com" in media or "youtu.be" in media:
        return "embed"
    if media.startswith(("http://", "https://")) or Path(media).is_file():
        return "element"
    return None


def player(interview: Interview, start: float = 0.0, end: float | None = None, *, autoplay: bool = False) -> None:
    """Audio or video from `start` (to `end` where given): the local file, or the source URL / its embed."""
    media = interview.media
    if player_kind(interview) is None:
        if media and not media.startswith(("http://", "https://")):
            st.warning(f"The recording is not at {media} any more.")
        return
    start_time, end_time = int(start), (int(end) + 1 if end is not None else None)
    suffix = Path(media.split("?")[0]).suffix.lower()
    source = media_source(media)
    if player_kind(interview) == "embed" or suffix in VIDEO_SUFFIXES:
        st.video(source, start_time=start_time, end_time=end_time, autoplay=autoplay)
    else:
        fmt = mimetypes.guess_type(media)[0] or "audio/mpeg"
        st.audio(source, format=fmt, start_time=start_time, end_time=end_time, autoplay=autoplay)


def media_source(media: str) -> str:
    """What the player loads: a URL as it is; a local file by a URL of the app's own server, which the browser
    reads a range at a time (ui/app/media.py). Only where that server is not running (main.py run on its own,
    AppTest) does the file go to st.audio/st.video, which read it whole."""
    if media.startswith(("http://", "https://")) or not served.mounted():
        return media
    origin = served.origin_of(st.context.url)
    return served.url(media, origin) if origin else media


@dataclass(frozen=True, slots=True)
class Play:
    """What the user pressed play for: an interview's span, in one scope (a search's query, one answer).
    `fresh` only in the run right after the press: the one run that may start audio."""

    scope: str
    interview_id: str
    start: float
    end: float | None
    fresh: bool = True


def play_button(scope: str, key: str, interview: Interview, start: float, end: float | None = None,
                label: str | None = None) -> None:
    """▶ for a moment of an interview that has something to play; nothing at all for a transcript."""
    if player_kind(interview) is not None:
        st.button(label or clock(start), key=key, icon=":material/play_arrow:", on_click=_set_play,
                  args=(Play(scope, interview.id, start, end),))


def _set_play(play: Play) -> None:
    st.session_state["play"] = play


def playing(scope: str, interview_id: str, start: float) -> Play | None:
    """The press for exactly this item in this scope, if any; its freshness is used up by asking."""
    play = st.session_state.get("play")
    if play is None or (play.scope, play.interview_id, play.start) != (scope, interview_id, start):
        return None
    if play.fresh:
        st.session_state["play"] = replace(play, fresh=False)
    return play


def inline_player(scope: str, interview: Interview, start: float) -> None:
    """The player under an item, once its ▶ was pressed; it starts by itself only in the run of that press."""
    if play := playing(scope, interview.id, start):
        player(interview, play.start, play.end, autoplay=play.fresh)


def transcript_link(interview_id: str, start: float) -> None:
    """Open the reader on this moment: /interview?id=…&t=…, a link that can be copied and shared."""
    st.page_link("views/interview.py", label="Open in transcript", icon=":material/subject:",
                 query_params={"id": interview_id, "t": str(int(start))}, help=f"{clock(start)} in the reader")


def quote_chips(quotes: list[Quote], interviews: dict[str, Interview], scope: str) -> None:
    """Cited quotes: each plays exactly the quoted span in place (where there is a recording) and opens the
    reader on its moment."""
    for n, q in enumerate(quotes, 1):
        interview = interviews.get(q.interview_id)
        who = f"{q.speaker}, " if q.speaker else ""
        st.markdown(f"[{n}] “{escape(q.text)}” — {escape(who + q.title)} · {clock(q.start)}")
        if interview is None:
            continue
        with st.container(horizontal=True, vertical_alignment="center"):
            play_button(scope, f"{scope}-q{n}", interview, q.start, q.end, f"{clock(q.start)}–{clock(q.end)}")
            transcript_link(q.interview_id, q.start)
        inline_player(scope, interview, q.start)


def escape(text: str) -> str:
    """Transcript and LLM text are data: escaped for HTML and for Markdown's own syntax, and bare URLs broken so
    that Streamlit's remark-gfm does not link them (search/render.py). Line breaks stay: an answer keeps its
    paragraphs."""
    return markdown_text(text)


def highlighted(text: str, terms: tuple[str, ...]) -> str:
    """Markdown-with-HTML for a hit: the text escaped (HTML and Markdown), the matched words in <mark>."""
    safe = escape(text)
    if not terms:
        return safe
    alternatives = [r"\W+".join(re.escape(w) for w in t.split()) for t in sorted(terms, key=len, reverse=True)]
    # one pass: overlapping terms never nest marks; never inside an entity ("lt" in "&lt;")
    pattern = r"(?<!&)\b(?:" + "|".join(alternatives) + r")\b"
    return re.sub(pattern, lambda m: f"<mark>{m.group(0)}</mark>", safe, flags=re.IGNORECASE)
