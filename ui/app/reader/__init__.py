"""The reader: one interview's transcript as paragraphs by speaker, beside the page's one player.

A Streamlit component (st.components.v2: inline HTML/CSS/JS, no build step) draws the transcript and drives the
player drawn above it in the container keyed `reader-player`: the words being spoken are highlighted and followed,
a click on any sentence plays from there, and find-in-transcript marks matches and jumps between them. Everything
the browser does happens in reader.js; this module only shapes the data and asks for seeks.

Seeks from elsewhere on the page (a topic's quote chip) are requests keyed by interview, consumed once: no audio
starts unless the user pressed play for that item on that page.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from onrecord.search.models import Interview, Segment
from onrecord.search.paragraphs import paragraphs

HERE = Path(__file__).parent
PLAYER_KEY = "reader-player"
_component = st.components.v2.component(
    "onrecord_reader",
    html='<div class="or-reader"></div>',
    css=(HERE / "reader.css").read_text(),
    js=(HERE / "reader.js").read_text(),
    isolate_styles=False,  # the reader reads the player's element, drawn by Streamlit outside any shadow root
)
_nonce = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Seek:
    """A request to move the reader of `interview_id` to `seconds`, and to play from there when `play`."""

    interview_id: str
    seconds: float
    play: bool
    nonce: int


def request_seek(interview_id: str, seconds: float, *, play: bool) -> None:
    """For a button's on_click: the reader drawn in the rerun that follows moves there (and plays)."""
    st.session_state["reader_seek"] = Seek(interview_id, seconds, play, next(_nonce))


def take_seek(interview_id: str) -> Seek | None:
    """The pending request for this interview, once; a request for another interview is dropped, never replayed."""
    seek = st.session_state.pop("reader_seek", None)
    return seek if seek is not None and seek.interview_id == interview_id else None


@dataclass(frozen=True, slots=True)
class Clicked:
    """What the reader hands back to the page: a moment to play (an embed), or a speaker to rename."""

    seconds: float | None = None
    speaker: str | None = None


def reader(interview: Interview, paras: list[dict], *, cue: float | None, seek: Seek | None,
           player: str | None) -> Clicked:
    """Draw the reader. `cue`: the moment a deep link names (its paragraph highlighted and in view).
    `player`: "element" when the player above is an <audio>/<video> the reader drives itself, "embed" when it
    cannot (YouTube): then a click comes back as `Clicked.seconds`, for the page to redraw its player there;
    None for a transcript without a recording. A click on a speaker's name comes back as `Clicked.speaker`.
    `paras`: the transcript as `paragraph_data` shapes it, built once per revision (resources.transcript)."""
    data = {
        "id": interview.id,
        "paras": paras,
        "cue": cue,
        "seek": {"t": seek.seconds, "play": seek.play, "n": seek.nonce} if seek else None,
        "player": PLAYER_KEY if player == "element" else None,
        "remote": player == "embed",
    }
    result = _component(key=f"reader-{interview.id}", data=data, on_clicked_change=lambda: None,
                        on_speaker_change=lambda: None, height="content")
    return Clicked(getattr(result, "clicked", None), getattr(result, "speaker", None))


def paragraph_data(segments: list[Segment]) -> list[dict]:
    """The transcript as the browser draws it: paragraphs by speaker, each sentence with its word timings."""
    return [_paragraph(p) for p in paragraphs(segments)]


def _paragraph(paragraph) -> dict:
    return {
        "who": paragraph.speaker or "",
        "s": [[round(s.start, 2), round(s.end, 2), s.text.strip(),
               [[round(w.start, 2), w.word] for w in s.words]] for s in paragraph.segments],
    }
