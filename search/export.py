"""Transcripts out of the archive: SRT, WebVTT, plain text, JSON and Markdown."""

from __future__ import annotations

import json
from typing import Callable, Iterable, Iterator

from .models import Interview, Segment, segment_to_json
from .timefmt import format_timestamp

FORMATS = ("srt", "vtt", "txt", "json", "md")


def export(interview: Interview, segments: Iterable[Segment], fmt: str) -> Iterator[str]:
    """The export as pieces of text, streamed so a 100k-segment transcript is never one string."""
    writers: dict[str, Callable[[Interview, Iterable[Segment]], Iterator[str]]] = {
        "srt": _srt, "vtt": _vtt, "txt": _txt, "json": _json, "md": _markdown}
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
        yield f"{format_timestamp(s.start, always_hours=True)} --> {format_timestamp(s.end, always_hours=True)}\n{text}\n\n"


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


def _markdown(interview: Interview, segments: Iterable[Segment]) -> Iterator[str]:
    yield f"# {interview.title}\n\n"
    facts = [f"Duration: {format_timestamp(interview.duration, millis=False)}", f"Source: {interview.source}"]
    if interview.speakers:
        facts.append("Speakers: " + ", ".join(interview.speakers))
    if interview.date:
        facts.append(f"Date: {interview.date}")
    yield "".join(f"- {f}\n" for f in facts) + "\n## Transcript\n\n"
    speaker: str | None = None
    for s in segments:
        if s.speaker and s.speaker != speaker:
            speaker = s.speaker
            yield f"\n**{speaker}**\n\n"
        yield f"[{format_timestamp(s.start, millis=False)}] {s.text}\n\n"
