"""A transcript laid out for reading: paragraphs by speaker turn, long monologues broken where the speaker pauses
or a sentence ends, so a 3-hour talk reads as prose rather than 3-second caption lines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from onrecord.search.models import Segment

SENTENCE_END = (".", "?", "!", "…", '."', '?"', '!"')
LONG = 45.0  # seconds: past this, a paragraph ends with the next sentence that ends
LONGEST = 120.0  # seconds: a paragraph never runs longer, sentence or not (caption text often has no stops)
PAUSE = 2.5  # seconds of silence within one speaker's turn that start a new paragraph


@dataclass(frozen=True, slots=True)
class Paragraph:
    speaker: str | None
    segments: tuple[Segment, ...]

    @property
    def start(self) -> float:
        return self.segments[0].start

    @property
    def end(self) -> float:
        return self.segments[-1].end


def paragraphs(segments: Iterable[Segment]) -> Iterator[Paragraph]:
    held: list[Segment] = []
    for segment in segments:
        if held and _breaks(held, segment):
            yield Paragraph(held[0].speaker, tuple(held))
            held = []
        held.append(segment)
    if held:
        yield Paragraph(held[0].speaker, tuple(held))


def _breaks(held: list[Segment], next_segment: Segment) -> bool:
    last, ran = held[-1], held[-1].end - held[0].start
    if next_segment.speaker != held[0].speaker or next_segment.start - last.end >= PAUSE:
        return True
    return ran >= LONGEST or (ran >= LONG and last.text.rstrip().endswith(SENTENCE_END))
