"""Audio in bounded windows, so a 3-hour recording never sits in memory whole.

faster-whisper's own loader decodes a file into one float32 array (about 690 MB for 3 hours, 2.7 GB peak in
all). Here PyAV decodes and resamples as a stream, and Whisper gets WINDOW_SECONDS at a time. A window ends at
the quietest tenth of a second in its last SEAM_SECONDS, so a cut falls between words rather than through one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .media import MediaError

SAMPLE_RATE = 16_000  # what Whisper takes
WINDOW_SECONDS = 300.0  # 10 min windows peaked 140 MB higher (VAD and features), for no speed gain
SEAM_SECONDS = 30.0
_FRAME = SAMPLE_RATE // 10
_GROUP = 500_000  # samples resampled at once: per-frame resampling is slow


@dataclass(frozen=True, slots=True)
class Window:
    start: float  # seconds from the start of the file
    audio: np.ndarray  # float32 mono at SAMPLE_RATE, in [-1, 1]

    @property
    def end(self) -> float:
        return self.start + len(self.audio) / SAMPLE_RATE


def windows(path: Path, seconds: float = WINDOW_SECONDS) -> Iterator[Window]:
    """Windows of about `seconds`; the last may be up to half as long again, so a recording no longer than
    1.5 windows is transcribed in one piece, exactly as faster-whisper alone would."""
    size = int(seconds * SAMPLE_RATE)
    pending: list[np.ndarray] = []
    held = start = 0
    for block in pcm_blocks(path):
        pending.append(block)
        held += len(block)
        while held >= size + size // 2:
            audio = np.concatenate(pending)
            cut = quiet_cut(audio[:size])
            yield Window(start / SAMPLE_RATE, _float(audio[:cut]))
            start += cut
            pending, held = [audio[cut:]], len(audio) - cut
    if held:
        yield Window(start / SAMPLE_RATE, _float(np.concatenate(pending)))


def pcm_blocks(path: Path) -> Iterator[np.ndarray]:
    """The first audio track as 16 kHz mono int16 blocks. Undecodable frames are skipped, as faster-whisper
    does; a file that ends early simply yields less (the caller compares lengths)."""
    import av
    from av.audio.fifo import AudioFifo
    from av.audio.resampler import AudioResampler

    resampler = AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            fifo = AudioFifo()
            for frame in _valid(container.decode(audio=0)):
                frame.pts = None  # grouped frames need no timestamps; gaps in them are not our concern
                fifo.write(frame)
                if fifo.samples >= _GROUP:
                    yield from _resampled(resampler, fifo.read())
            if fifo.samples:
                yield from _resampled(resampler, fifo.read())
            yield from _resampled(resampler, None)  # flush
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot decode the audio ({exc.strerror or exc})") from exc


def _resampled(resampler, frame) -> Iterator[np.ndarray]:
    for out in resampler.resample(frame):
        yield out.to_ndarray().reshape(-1)


def _valid(frames: Iterable) -> Iterator:
    import av

    iterator = iter(frames)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue


def quiet_cut(audio: np.ndarray) -> int:
    """Where to end a window: the middle of the quietest 0.1 s frame within its last SEAM_SECONDS (or its last
    quarter, for short windows), so every window keeps at least three quarters of its length."""
    seam = min(len(audio) // 4, int(SEAM_SECONDS * SAMPLE_RATE)) // _FRAME * _FRAME
    if seam < _FRAME:
        return len(audio)
    tail = audio[len(audio) - seam:].astype(np.float32).reshape(-1, _FRAME)
    quietest = int(np.argmin(np.abs(tail).mean(axis=1)))
    return len(audio) - seam + quietest * _FRAME + _FRAME // 2


def _float(pcm: np.ndarray) -> np.ndarray:
    return pcm.astype(np.float32) / 32768.0
