"""Typed value objects that cross module lines. Times are float seconds everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Word:
    start: float
    end: float
    word: str
    probability: float | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """One transcript segment (an ASR segment or a caption cue)."""

    start: float
    end: float
    text: str
    speaker: str | None = None
    words: tuple[Word, ...] = ()


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrieval window: consecutive segments that fit the embedder (short turns grouped, see chunking.py)."""

    index: int
    start: float
    end: float
    text: str
    speaker: str | None  # when one speaker says all of it
    first_segment: int
    last_segment: int
    speakers: tuple[str, ...] = ()  # everyone who speaks in it, in order


@dataclass(frozen=True, slots=True)
class Interview:
    """An interview's metadata as stored in (and listed from) the archive."""

    id: str
    title: str
    source: str
    kind: str  # "media" | "url" | "transcript"
    media: str | None  # what a player opens: a local path or the original URL
    duration: float
    language: str | None
    speakers: tuple[str, ...]
    segments: int
    chunks: int
    created: str  # ISO-8601 UTC, when it was ingested
    date: str | None = None  # YYYY-MM-DD, when it was published/recorded if known
    show: str | None = None  # the podcast (feed title) an episode came from
    # label -> the name a user gave it. Segments and chunks carry the name itself (what everyone shows and
    # filters by); the label ("Speaker 2", or a caption's voice tag) is kept here, to list, filter and undo by.
    names: dict[str, str] = field(default_factory=dict)
    # label -> similarity, for names given because the voice matched one named in another interview.
    recognised: dict[str, float] = field(default_factory=dict)

    def label_of(self, speaker: str) -> str:
        return next((label for label, name in self.names.items() if name == speaker), speaker)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "kind": self.kind,
            "media": self.media,
            "duration": self.duration,
            "language": self.language,
            "speakers": list(self.speakers),
            "segments": self.segments,
            "chunks": self.chunks,
            "created": self.created,
            "date": self.date,
            "show": self.show,
            "names": dict(self.names),
            "recognised": dict(self.recognised),
        }


@dataclass(slots=True)
class Transcript:
    """What a source yields before it is stored: metadata known so far plus its segments."""

    title: str
    language: str | None = None
    duration: float = 0.0
    date: str | None = None
    media: str | None = None
    show: str | None = None
    segments: list[Segment] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # speakers named on the way in (voices recognised)
    recognised: dict[str, float] = field(default_factory=dict)
    voices: dict[str, tuple[float, ...]] = field(default_factory=dict)  # label -> voice embedding


def segment_to_json(segment: Segment) -> dict:
    return {
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "speaker": segment.speaker,
        "words": [
            {"start": w.start, "end": w.end, "word": w.word, "probability": w.probability}
            for w in segment.words
        ],
    }


def segment_from_json(data: dict) -> Segment:
    return Segment(
        start=float(data["start"]),
        end=float(data["end"]),
        text=str(data["text"]),
        speaker=data.get("speaker") or None,
        words=tuple(
            Word(float(w["start"]), float(w["end"]), str(w["word"]), w.get("probability"))
            for w in data.get("words") or ()
        ),
    )


@dataclass(frozen=True, slots=True)
class SpeakerInfo:
    """One speaker of an interview, as `onrecord speakers` lists it."""

    label: str
    name: str | None  # None until someone names the label
    seconds: float  # talk time
    segments: int
    first_words: str
    recognised: float | None = None  # the voice similarity, when the name came from a voice heard before

    def as_json(self) -> dict:
        return {"label": self.label, "name": self.name, "seconds": self.seconds, "segments": self.segments,
                "first_words": self.first_words, "recognised": self.recognised}


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result, narrowed to the segment(s) inside its chunk that best match the query."""

    interview_id: str
    title: str
    start: float
    end: float
    text: str
    context_before: str
    context_after: str
    speaker: str | None
    score: float
    link: str | None
    matched_terms: tuple[str, ...]
    weak: bool = False  # found by meaning alone and not close to the query: shown as a weak match, after the rest

    def as_json(self) -> dict:
        return {"interview_id": self.interview_id, "title": self.title, "start": self.start, "end": self.end,
                "text": self.text, "context_before": self.context_before, "context_after": self.context_after,
                "speaker": self.speaker, "score": self.score, "link": self.link,
                "matched_terms": list(self.matched_terms), "weak": self.weak}


@dataclass(frozen=True, slots=True)
class Quote:
    """Words verified to appear, in this order, in the interview's stored transcript, timed by its words."""

    interview_id: str
    title: str
    start: float
    end: float
    text: str
    speaker: str | None
    link: str | None

    def as_json(self) -> dict:
        return {"interview_id": self.interview_id, "title": self.title, "start": self.start, "end": self.end,
                "text": self.text, "speaker": self.speaker, "link": self.link}
