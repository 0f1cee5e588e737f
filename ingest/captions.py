"""Transcript files imported without ASR: WebVTT (with <v Speaker> voice tags), SRT, onrecord JSON, and the
Podcasting 2.0 JSON transcript format (`{"segments": [{"speaker", "startTime", "endTime", "body"}]}`)."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from onrecord.search.models import Segment, Transcript, Word
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


_NOT_OURS = "not an onrecord JSON export or a Podcasting 2.0 JSON transcript"


class _Checked(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)  # json.loads reads NaN and Infinity


class WordIn(_Checked):
    start: float
    end: float
    word: str
    probability: float | None = None


class SegmentIn(_Checked):
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[WordIn] = []

    @model_validator(mode="after")
    def _in_order(self) -> SegmentIn:
        if self.end < self.start:
            raise ValueError("ends before it starts")
        return self

    def segment(self) -> Segment:
        return Segment(self.start, self.end, self.text, self.speaker or None,
                       tuple(Word(w.start, w.end, w.word, w.probability) for w in self.words))


class InterviewIn(_Checked):
    """What an import takes from an export's `interview` (Interview.as_json); the rest (its id, source, counts)
    is the exporting archive's and is recomputed here."""

    title: str | None = None
    language: str | None = None
    date: str | None = None
    show: str | None = None
    media: str | None = None


class ExportIn(_Checked):
    """onrecord's JSON export (search/export.py), as an import checks it."""

    interview: InterviewIn | None = None
    segments: list[SegmentIn]


def parse_json(text: str, title: str) -> Transcript:
    """onrecord's own export, checked field by field, or a Podcasting 2.0 JSON transcript (told apart by its
    segments' `startTime`). An export's id is not taken from it (sources.content_id hashes the file, as for any
    transcript), and its media only as a web link."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CaptionError(f"{_NOT_OURS} (not JSON: {exc})") from exc
    if _is_podcast_json(data):
        return _podcast_transcript(data, title)
    if not isinstance(data, dict) or not {"interview", "segments"} & data.keys():
        raise CaptionError(_NOT_OURS)
    export = _validated(data)
    if not export.segments:
        raise CaptionError("an onrecord JSON export with no segments: nothing to add")
    info = export.interview or InterviewIn()
    return Transcript(title=info.title or title, language=info.language or None, date=info.date or None,
                      media=web_link(info.media), show=info.show or None,
                      segments=[s.segment() for s in export.segments])


def _validated(data: dict) -> ExportIn:
    try:
        return ExportIn.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CaptionError(f"{where or 'the file'}: {first['msg'].removeprefix('Value error, ')}{more}") from None


def web_link(media: str | None) -> str | None:
    """`media` when it is an http(s) URL (a link to the episode); None for anything else. An imported file's
    path or `media:` reference would name a file on this server, which the app would then serve."""
    try:
        parts = urlsplit((media or "").strip())
        linked = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # a malformed IPv6 literal or port
        return None
    return media.strip() if linked else None


def _is_podcast_json(data) -> bool:
    segments = data.get("segments") if isinstance(data, dict) else None
    return isinstance(segments, list) and bool(segments) and "interview" not in data \
        and isinstance(segments[0], dict) and "startTime" in segments[0]


def _podcast_transcript(data: dict, title: str) -> Transcript:
    try:
        return Transcript(title=title, segments=_podcast_segments(data["segments"]))
    except CaptionError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # a piece without startTime, say
        raise CaptionError(f"{_NOT_OURS} ({exc.__class__.__name__}: {exc})") from exc


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
