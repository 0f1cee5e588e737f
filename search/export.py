"""Transcripts out of the archive: SRT, WebVTT, plain text, JSON and Markdown."""

from __future__ import annotations

import json
from typing import Callable, Iterable, Iterator
from urllib.parse import quote

from .models import Interview, Segment, segment_to_json
from .render import markdown_line as _md
from .render import markdown_paragraph as _para
from .timefmt import format_timestamp

FORMATS = ("srt", "vtt", "txt", "json", "md")


def export(interview: Interview, segments: Iterable[Segment], fmt: str, summary=None) -> Iterator[str]:
    """The export as pieces of text, streamed so a 100k-segment transcript is never one string.
    Markdown is the write-up: the topic summary (an InterviewSummary) as an article, then the transcript."""
    if fmt == "md":
        return _markdown(interview, segments, summary)
    writers: dict[str, Callable[[Interview, Iterable[Segment]], Iterator[str]]] = {
        "srt": _srt, "vtt": _vtt, "txt": _txt, "json": _json}
    return writers[fmt](interview, segments)


def _srt(interview: Interview, segments: Iterable[Segment]) -> Iterator[str]:
    for n, s in enumerate(segments, 1):
        stamp = f"{format_timestamp(s.start, always_hours=True, decimal=',')} --> " \
                f"{format_timestamp(s.end, always_hours=True, decimal=',')}"
        text = f"{s.speaker}: {s.text}" if s.speaker else s.text
        yield f"{n}\n{stamp}\n{text}\n\n"


def _vtt(interview: Interview, segments: Iterable[Segment]) -> Iterator[str]:
    yield "WEBVTT\n\n"
    for s in segments:
        text = _vtt_escape(s.text)
        if s.speaker:
            text = f"<v {_vtt_escape(s.speaker)}>{text}"
        start, end = format_timestamp(s.start, always_hours=True), format_timestamp(s.end, always_hours=True)
        yield f"{start} --> {end}\n{text}\n\n"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _txt(interview: Interview, segments: Iterable[Segment]) -> Iterator[str]:
    for s in segments:
        who = f"{s.speaker}: " if s.speaker else ""
        yield f"[{format_timestamp(s.start, millis=False)}] {who}{s.text}\n"


def _json(interview: Interview, segments: Iterable[Segment]) -> Iterator[str]:
    head = json.dumps(interview.as_json(), ensure_ascii=False)
    yield f'{{"interview": {head}, "segments": ['
    for n, s in enumerate(segments):
        yield ("," if n else "") + "\n" + json.dumps(segment_to_json(s), ensure_ascii=False)
    yield "\n]}\n"


def _markdown(interview: Interview, segments: Iterable[Segment], summary) -> Iterator[str]:
    yield f"# {_md(interview.title)}\n\n"
    facts = [f"Duration: {format_timestamp(interview.duration, millis=False)}", f"Source: {_md(interview.source)}"]
    if interview.speakers:
        facts.append("Speakers: " + _md(", ".join(interview.speakers)))
    if interview.date:
        facts.append(f"Date: {_md(interview.date)}")
    yield "".join(f"- {f}\n" for f in facts) + "\n"
    if summary is not None:
        yield from _write_up(summary)
    yield "## Transcript\n\n"
    speaker: str | None = None
    for s in segments:
        if s.speaker and s.speaker != speaker:
            speaker = s.speaker
            yield f"\n**{_md(speaker)}**\n\n"
        yield f"[{format_timestamp(s.start, millis=False)}] {_md(s.text)}\n\n"


def _write_up(summary) -> Iterator[str]:
    label = "" if summary.mode == "llm" else " *(extractive: the interview's own words)*"
    yield f"{_para(summary.overview)}{label}\n\n"
    for topic in summary.topics:
        span = f"{format_timestamp(topic.start, millis=False)}–{format_timestamp(topic.end, millis=False)}"
        if topic.aside:
            yield f"*{_md(topic.title)} ({span})*\n\n"
            continue
        yield f"## {_md(topic.title)} ({span})\n\n{_para(topic.summary)}\n\n"
        for q in topic.quotes:
            when, href = format_timestamp(q.start, millis=False), _href(q.link)
            where = f"[{when}]({href})" if href else when
            who = f"{_md(q.speaker)}, " if q.speaker else ""  # a transcript without speakers names nobody
            yield f"> “{_md(q.text)}” — {who}{where}\n\n"


def _href(link: str | None) -> str | None:
    """A quote's deep link as a link destination: only to a recording (http(s), a local file), and percent-encoded
    so that a `)`, `<` or space in the media URL cannot end the link and start markup of its own."""
    if not link or not link.startswith(("http://", "https://", "file:")):
        return None
    return quote(link, safe="/:?#&=%+,;@!$'*.-_~")
