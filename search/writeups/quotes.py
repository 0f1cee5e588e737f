"""Finding quotes verbatim in a transcript and timing them by its words.

A quote matches when its words appear contiguously in the transcript, ignoring case, whitespace and
punctuation. What is shown is always the transcript's own text for the matched span, so nothing shown as a
quote can differ from what was said; its start and end are those of the first and last matched words. A quote
never spans two speakers: a match that runs across a change of speaker is cut to the longest run of one
speaker's words, so its speaker is who said all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Iterable

from ..models import Segment
from ..retrieval.text import words

REPAIR_MIN_WORDS = 5
REPAIR_MIN_SHARE = 0.6  # a repaired quote keeps at least this share of the words the model wrote
# Words that turn a statement around: a repair that loses (or gains) one says the opposite, so it is dropped.
NEGATIONS = {"not", "no", "never", "nothing", "none", "nobody", "neither", "nor", "without", "cannot", "nowhere"}


@dataclass(frozen=True, slots=True)
class Span:
    first: int  # token positions, inclusive
    last: int
    start: float
    end: float
    text: str
    speaker: str | None
    repaired: bool = False


class TranscriptText:
    """An interview's transcript as one sequence of normalized words, each with its time and surface form."""

    def __init__(self, segments: Iterable[Segment]):
        self.tokens: list[str] = []
        self._times: list[tuple[float, float]] = []
        self._surface: list[int] = []  # token -> index into self._words
        self._words: list[str] = []
        self._speaker: list[str | None] = []
        for segment in segments:
            self._add(segment)

    def _add(self, segment: Segment) -> None:
        if segment.words:
            timed = [(w.word.strip(), w.start, w.end) for w in segment.words]
        else:  # captions carry no word timings: spread the cue's time over its words
            plain = segment.text.split()
            step = (segment.end - segment.start) / max(1, len(plain))
            timed = [(w, segment.start + i * step, segment.start + (i + 1) * step) for i, w in enumerate(plain)]
        for surface, start, end in timed:
            self._words.append(surface)
            for token in words(surface):
                self.tokens.append(token)
                self._times.append((start, end))
                self._surface.append(len(self._words) - 1)
                self._speaker.append(segment.speaker)

    def find(self, quote: str, near: float | None = None) -> Span | None:
        """Every occurrence of the quote's words; the one nearest `near` seconds (or the first)."""
        wanted = words(quote)
        if not wanted:
            return None
        n = len(wanted)
        hits = [i for i, t in enumerate(self.tokens) if t == wanted[0] and self.tokens[i:i + n] == wanted]
        if not hits:
            return None
        best = min(hits, key=lambda i: abs(self._times[i][0] - near)) if near is not None else hits[0]
        return self.span(best, best + n - 1)

    def repair(self, quote: str, near: float, window: float = 120.0) -> Span | None:
        """The longest verbatim run shared with a misquote, within `window` seconds of where it was cited."""
        wanted = words(quote)
        region = [i for i, (s, _) in enumerate(self._times) if abs(s - near) <= window]
        if not wanted or not region:
            return None
        lo, hi = region[0], region[-1] + 1
        match = SequenceMatcher(None, self.tokens[lo:hi], wanted, autojunk=False).find_longest_match(
            0, hi - lo, 0, len(wanted))
        if match.size < max(REPAIR_MIN_WORDS, REPAIR_MIN_SHARE * len(wanted)):
            return None
        span = self.span(lo + match.a, lo + match.a + match.size - 1)
        if _negations(wanted) != _negations(self.tokens[span.first: span.last + 1]):
            return None  # "we will not raise the price" is never shown as "raise the price"
        return Span(span.first, span.last, span.start, span.end, span.text, span.speaker, repaired=True)

    def span(self, first: int, last: int) -> Span:
        first, last = self._one_speaker(first, last)
        text = " ".join(self._words[self._surface[first]: self._surface[last] + 1])
        return Span(first, last, self._times[first][0], self._times[last][1], text, self._speaker[first])

    def _one_speaker(self, first: int, last: int) -> tuple[int, int]:
        """The longest run of one speaker's tokens in [first, last] (the earliest of equals): a question
        quoted together with its answer becomes the answer."""
        best = run = (first, first)
        for i in range(first + 1, last + 1):
            run = (run[0], i) if self._speaker[i] == self._speaker[i - 1] else (i, i)
            if run[1] - run[0] > best[1] - best[0]:
                best = run
        return best


def _negations(tokens: list[str]) -> list[str]:
    return sorted(t for t in tokens if t in NEGATIONS or t.endswith("n't"))
