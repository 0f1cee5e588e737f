"""Pieces several pages share: the player, playable quotes, highlighted hit text."""

from __future__ import annotations

import html
import mimetypes
import re
from pathlib import Path

import streamlit as st

from search.models import Interview, Quote
from search.timefmt import format_timestamp

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi", ".mpg", ".mpeg"}


def clock(seconds: float) -> str:
    return format_timestamp(seconds, millis=False)


def player(interview: Interview, start: float = 0.0, end: float | None = None, *, autoplay: bool = False) -> None:
    """Audio or video from `start` (to `end` where given): the local file, or the source URL / its embed."""
    media = interview.media
    if not media:
        st.info("Transcript only: there is no recording to play for this interview.")
        return
    is_url = media.startswith(("http://", "https://"))
    if not is_url and not Path(media).is_file():
        st.warning(f"The recording is not at {media} any more.")
        return
    start_time, end_time = int(start), (int(end) + 1 if end is not None else None)
    suffix = Path(media.split("?")[0]).suffix.lower()
    if "youtube.com" in media or "youtu.be" in media or suffix in VIDEO_SUFFIXES:
        st.video(media, start_time=start_time, end_time=end_time, autoplay=autoplay)
    else:
        fmt = mimetypes.guess_type(media)[0] or "audio/mpeg"
        st.audio(media, format=fmt, start_time=start_time, end_time=end_time, autoplay=autoplay)


def play_button(label: str, key: str, interview_id: str, start: float, end: float | None = None) -> None:
    """Clicking sets what plays next. A callback runs before the rerun, so a player drawn above the button
    already starts at the new moment."""
    st.button(label, key=key, on_click=_set_play,
              args=({"interview_id": interview_id, "start": start, "end": end, "key": key},))


def _set_play(play: dict) -> None:
    st.session_state["play"] = play


def playing(key: str) -> dict | None:
    play = st.session_state.get("play")
    return play if play and play.get("key") == key else None


def quote_chips(quotes: list[Quote], interviews: dict[str, Interview], prefix: str) -> None:
    """Cited quotes as chips; a chip plays exactly the quoted span, in place."""
    for n, q in enumerate(quotes, 1):
        key = f"{prefix}-q{n}"
        who = f"{q.speaker}, " if q.speaker else ""
        st.markdown(f"[{n}] “{escape(q.text)}” — {escape(who + q.title)}")
        play_button(f"▶ {clock(q.start)}–{clock(q.end)}", key, q.interview_id, q.start, q.end)
        if (play := playing(key)) and q.interview_id in interviews:
            player(interviews[q.interview_id], play["start"], play["end"], autoplay=True)


def escape(text: str) -> str:
    """Transcript and LLM text are data: escaped for HTML, and for Markdown's own syntax."""
    return re.sub(r"([\\`*_\[\]#|~$])", r"\\\1", html.escape(text, quote=False))


def highlighted(text: str, terms: tuple[str, ...]) -> str:
    """Markdown-with-HTML for a hit: the text escaped (HTML and Markdown), the matched words in <mark>."""
    safe = escape(text)
    if not terms:
        return safe
    alternatives = [r"\W+".join(re.escape(w) for w in t.split()) for t in sorted(terms, key=len, reverse=True)]
    pattern = r"\b(?:" + "|".join(alternatives) + r")\b"  # one pass: overlapping terms never nest marks
    return re.sub(pattern, lambda m: f"<mark>{m.group(0)}</mark>", safe, flags=re.IGNORECASE)
