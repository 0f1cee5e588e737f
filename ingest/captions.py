"""Transcript files imported without ASR: WebVTT (with <v Speaker> voice tags), SRT, onrecord JSON, and the
Podcasting 2.0 JSON transcript format (`{"segments": [{"speaker", "startTime", "endTime", "body"}]}`)."""

from __future__ import annotations

import html
import json
import re

from onrecord.search.models import Segment, Transcript, Word, segment_from_json
from onrecord.search.timefmt import parse_timestamp

from .metadata import header_details

_TIMING = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]*>")


class CaptionError(ValueError):
    """A transcript file that cannot be parsed; the message names the line."""


def parse_vtt(text: str, title: str) -> Transcript:
    """`title` is the fallback: the file's own title wins (`WEBVTT - Title`, or a `Title:` header or NOTE line),
    and a `Date:` line or a sentence saying when it was recorded, before the first cue, dates it."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or not lines[0].startswith("WEBVTT"):
        raise CaptionError("not a WebVTT file (first line is not 'WEBVTT')")
    header = next((i for i, line in enumerate(lines) if _TIMING.match(line)), len(lines))
    named, date = header_details(lines[1:header])
    inline = lines[0][6:].strip(" \t-–—:") if lines[0][6:7] in (" ", "\t") else ""  # "WEBVTT - Title"
    return Transcript(title=inline or named or title, date=date, segments=_parse_cues(lines))


def parse_srt(text: str, title: str) -> Transcript:
    return Transcript(title=title, segments=_parse_cues(text.lstrip("\ufeff").splitlines()))


def parse_json(text: str, title: str) -> Transcript:
    """onrecord's own export (its interview id is read by `sources.content_id`), or a Podcasting 2.0 JSON
    transcript (told apart by its segments' `startTime`)."""
    try:
        data = json.loads(text)
        if _is_podcast_json(data):
            return Transcript(title=title, segments=_podcast_segments(data["segments"]))
        info = data.get("interview") or {}
        segments = [segment_from_json(s) for s in data["segments"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CaptionError(f"not an onrecord JSON export or a Podcasting 2.0 JSON transcript "
                           f"({exc.__class__.__name__}: {exc})") from exc
    if not segments:
        raise CaptionError("an onrecord JSON export with no segments: nothing to add")
    transcript = Transcript(title=info.get("title") or title, language=info.get("language"),
                            date=info.get("date"), media=info.get("media"), show=info.get("show"),
                            segments=segments)
    return transcript


def _is_podcast_json(data) -> bool:
    segments = data.get("segments") if isinstance(data, dict) else None
    return "interview" not in data and bool(segments) and isinstance(segments[0], dict) \
        and "startTime" in segments[0]


_SENTENCE_END = (".", "?", "!", "…")
PIECE_GAP = 2.0  # seconds of silence that end a segment built from word-level pieces
PIECE_SPAN = 30.0  # longest segment built from pieces


def _podcast_segments(pieces: list[dict]) -> list[Segment]:
    """Podcasting 2.0 transcripts are often one word (or a few) per segment: consecutive pieces of one speaker
    are joined into sentences, keeping each one-word piece's timing as a word timing."""
    segments: list[Segment] = []
    run: list[tuple[float, float, str]] = []
    speaker: str | None = None

    def flush() -> None:
        if run:
            words = tuple(Word(a, b, t) for a, b, t in run) if all(" " not in t for _, _, t in run) else ()
            segments.append(Segment(run[0][0], run[-1][1], " ".join(t for _, _, t in run), speaker, words))
            run.clear()

    for piece in pieces:
        start, end = float(piece["startTime"]), float(piece["endTime"])
        text = " ".join(html.unescape(_TAG.sub("", str(piece.get("body") or ""))).split())
        if end < start:
            raise CaptionError(f"segment at {start:g} s ends before it starts")
        if not text:
            continue
        who = str(piece.get("speaker") or "").strip() or None
        if run and (who != speaker or start - run[-1][1] > PIECE_GAP or end - run[0][0] > PIECE_SPAN):
            flush()
        speaker = who
        run.append((start, end, text))
        if text.endswith(_SENTENCE_END):
            flush()
    flush()
    if not segments:
        raise CaptionError("a JSON transcript with no text")
    return segments


def _parse_cues(lines: list[str]) -> list[Segment]:
    segments: list[Segment] = []
    i = 0
    while i < len(lines):
        match = _TIMING.match(lines[i])
        if not match:
            if "-->" in lines[i]:
                raise CaptionError(f"line {i + 1}: bad cue timing {lines[i].strip()!r}")
            i += 1  # header, cue id, NOTE/STYLE blocks, SRT counters
            continue
        try:
            start, end = parse_timestamp(match.group(1)), parse_timestamp(match.group(2))
        except ValueError:
            raise CaptionError(f"line {i + 1}: bad cue timing {lines[i].strip()!r}") from None
        if end < start:
            raise CaptionError(f"line {i + 1}: cue ends before it starts")
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip():
            body.append(lines[i])
            i += 1
        segment = _cue_segment(start, end, body)
        if segment:
            segments.append(segment)
    if not segments:
        raise CaptionError("no cues found")
    return segments


def _cue_segment(start: float, end: float, body: list[str]) -> Segment | None:
    raw = " ".join(line.strip() for line in body)
    voice = _VOICE.search(raw)
    text = html.unescape(_TAG.sub("", raw))
    text = " ".join(text.split())
    if not text:
        return None
    return Segment(start=start, end=end, text=text, speaker=voice.group(1).strip() if voice else None)
