"""Windowed decoding: the same samples as faster-whisper's whole-file decoding, cut at pauses."""

from __future__ import annotations

import numpy as np

from conftest import SAMPLES
from onrecord.ingest.audio import SAMPLE_RATE, windows


def test_windows_hold_exactly_the_decoded_audio():
    from faster_whisper import decode_audio

    path = SAMPLES / "rockets-interview.mp3"
    whole = decode_audio(str(path))
    pieces = list(windows(path, seconds=20))
    assert len(pieces) > 1
    assert np.array_equal(np.concatenate([w.audio for w in pieces]), whole)
    assert [w.start for w in pieces[1:]] == [w.end for w in pieces[:-1]]


def test_windows_end_in_a_pause_not_mid_word():
    path = SAMPLES / "rockets-interview.mp3"
    for window in list(windows(path, seconds=20))[:-1]:
        tail = np.abs(window.audio[-SAMPLE_RATE // 20:]).mean()  # the last 50 ms
        assert tail < 0.01 * np.abs(window.audio).max(), f"cut at {window.end:.2f} s is not quiet"
