"""Ingest jobs of the long-lived surfaces (the app, the HTTP API) run on one worker thread in the server process, so
a long transcription never blocks a page or a request. Progress lives here and surfaces poll it. Sources arrive
through the core's input policy; a URL that is a podcast feed becomes its episodes when the job runs."""

from __future__ import annotations

import functools
import queue
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from onrecord.ingest.diarize import diarizer_for
from onrecord.ingest.fetch import DownloadLimits
from onrecord.ingest.pipeline import Ingestor, IngestResult
from onrecord.ingest.sources import Source
from onrecord.ingest.transcribe import TranscribeOptions, WhisperTranscriber
from onrecord.search.errors import OnrecordError
from onrecord.search.retrieval.embedder import Embedder

from .uploads import discard_upload, original_name


@dataclass
class SourceState:
    source: str
    status: str = "queued"  # queued | running | added | skipped | failed
    done: float = 0.0
    total: float | None = None
    error: str | None = None
    interview_id: str | None = None


@dataclass
class Job:
    id: str
    sources: list[SourceState] = field(default_factory=list)
    uploads: frozenset[Path] = frozenset()  # files the app stored for this job (resolved): removed unless added

    @property
    def state(self) -> str:
        """queued | running | done (every source added, skipped or failed: see each) | failed (all of them)."""
        statuses = {s.status for s in self.sources}
        if statuses and statuses <= {"queued"}:
            return "queued"
        if statuses & {"queued", "running"}:
            return "running"
        return "failed" if statuses == {"failed"} else "done"

    def as_json(self) -> dict:
        """Uploads are named as their owner named them, not by where this server stored them."""
        def shown(source: str) -> str:
            return original_name(source) if Path(source).resolve() in self.uploads else source

        return {"id": self.id, "state": self.state,
                "sources": [{"source": shown(s.source), "status": s.status, "done": s.done, "total": s.total,
                             "error": s.error, "interview_id": s.interview_id} for s in self.sources]}


class _JobProgress:
    def __init__(self, job: Job):
        self.job = job
        self.current: SourceState | None = None

    def started(self, source: str, total: float | None) -> None:
        self.current = next(s for s in self.job.sources if s.source == source and s.status == "running")
        self.current.total = total

    def advanced(self, seconds: float) -> None:
        if self.current:
            self.current.done = seconds


def _failed(why: str, source: Source) -> IngestResult:
    return IngestResult(source.ref, None, "failed", why)


class JobBoard:
    def __init__(self, archive, settings, embedder: Callable[[], Embedder], added: Callable[[], None] = lambda: None,
                 feeds: Callable[[list[Source]], list[Source]] = lambda sources: sources):
        """`embedder`: the archive's current embedder, asked for each job (a reindex elsewhere changes it).
        `added`: called when an interview was added, before its source shows "added" (a searcher's mark_stale:
        whoever sees it added finds it at once). `feeds`: a URL source as the sources it stands for (a podcast
        feed's episodes; anything else as it is)."""
        self.archive = archive
        self.settings = settings
        self.embedder = embedder
        self.added = added
        self.feeds = feeds
        self.uploads_dir = settings.media_dir / "uploads"
        self.jobs: dict[str, Job] = {}
        self._queue: queue.Queue[tuple[Job, list[Source]]] = queue.Queue()
        self._transcriber = WhisperTranscriber(TranscribeOptions.from_settings(settings))
        self._diarizer = diarizer_for(settings)
        threading.Thread(target=self._work, name="onrecord-ingest", daemon=True).start()

    def submit(self, sources: list[Source], uploads: list[Path] = ()) -> Job:
        """`sources`: already checked by the input policy; `uploads`: the files this server stored for the job
        (see uploads.py), removed again unless they are added."""
        job = Job(uuid.uuid4().hex[:8], [SourceState(s.ref) for s in sources], frozenset(p.resolve() for p in uploads))
        self.jobs[job.id] = job
        self._queue.put((job, sources))
        return job

    def _work(self) -> None:
        while True:
            job, sources = self._queue.get()
            try:
                ingest = Ingestor(self.archive, self._transcriber, self.embedder(), progress=_JobProgress(job),
                                  diarizer=self._diarizer, speakers=self.settings.speakers,
                                  limits=DownloadLimits.from_settings(self.settings)).ingest
            except OnrecordError as exc:  # e.g. the archive is indexed with another embedding model
                ingest = functools.partial(_failed, str(exc))
            for state, source in self._expanded(job, sources):
                self._run(job, state, source, ingest)

    def _expanded(self, job: Job, sources: list[Source]):
        """Each source with its state, a feed's episodes in place of the feed as the job reaches it."""
        for source in sources:
            state = next(s for s in job.sources if s.source == source.ref and s.status == "queued")
            found = self.feeds([source]) if source.kind == "url" and not source.error else [source]
            if found != [source]:
                at = job.sources.index(state)
                job.sources[at:at + 1] = [SourceState(s.ref) for s in found]
            for item in found:
                yield next(s for s in job.sources if s.source == item.ref and s.status == "queued"), item

    def _run(self, job: Job, state: SourceState, source: Source, ingest: Callable[[Source], IngestResult]) -> None:
        state.status = "running"
        try:
            result = ingest(source)
        except Exception as exc:  # noqa: BLE001 - a bug must not kill the worker for later jobs
            result = IngestResult(source.ref, None, "failed", f"unexpected error: {exc}")
        if result.status != "added" and source.path is not None and source.path.resolve() in job.uploads:
            self._discard_upload(source.path, result.interview_id, state)  # gone before "failed" shows
        if result.status == "added":
            self.added()
        state.status, state.error, state.interview_id = result.status, result.error, result.interview_id
        if state.total:
            state.done = state.total

    def _discard_upload(self, path: Path, interview_id: str | None, current: SourceState) -> None:
        """A failed or duplicate upload leaves nothing behind, unless the interview already in the archive came from
        that very file (the same bytes uploaded under the same name before) or another source still waits for it."""
        try:
            if interview_id and self.archive.has(interview_id):
                existing = self.archive.get(interview_id)
                if str(path.resolve()) in (existing.media, existing.source) or str(path) == existing.source:
                    return
        except OnrecordError:
            return  # the archive cannot say: keep the file
        waiting = (s for job in self.jobs.values() for s in job.sources
                   if s is not current and s.status in ("queued", "running"))
        if any(Path(s.source).resolve() == path.resolve() for s in waiting):
            return
        discard_upload(self.uploads_dir, path)
