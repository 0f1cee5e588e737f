"""The language of a transcript that does not say (a WebVTT file, an SRT): read off its opening words.

Whisper detects the language of audio itself; captions and transcript files rarely carry one. The language
decides how the interview's words are stemmed for keyword search, and is shown beside the interview.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable

from onrecord.search.models import Segment

SAMPLE_CHARS = 4000  # the opening few minutes of talk are plenty
MIN_WORDS = 8  # fewer words than this are too few to tell a language by


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(segments: Iterable[Segment]) -> str | None:
    """ISO 639-1 code of the segments' language, or None when they are too few words or too mixed to tell."""
    sample, size = [], 0
    for segment in segments:
        sample.append(segment.text)
        size += len(segment.text)
        if size >= SAMPLE_CHARS:
            break
    text = " ".join(sample)
    if len(text.split()) < MIN_WORDS:
        return None
    code, probability = _identifier().classify(text)
    return code if probability >= 0.75 else None
