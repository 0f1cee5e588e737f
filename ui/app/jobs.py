"""Ingest jobs run on one worker thread in the server process, outside any script run, so a long
transcription never blocks a page. Progress lives here and pages poll it."""

from __future__ import annotations

import queue
import threading
import uuid
from dataclasses import dataclass, field

from ingest.diarize import diarizer_for
from ingest.pipeline import Ingestor
from ingest.sources import Source, expand
from ingest.transcribe import TranscribeOptions, WhisperTranscriber


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

    @property
    def finished(self) -> bool:
        return all(s.status in ("added", "skipped", "failed") for s in self.sources)


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


class JobBoard:
    def __init__(self, archive, settings, embedder):
        self.archive = archive
        self.settings = settings
        self.embedder = embedder
        self.jobs: dict[str, Job] = {}
        self._queue: queue.Queue[tuple[Job, list[Source]]] = queue.Queue()
        self._transcriber = WhisperTranscriber(TranscribeOptions.from_settings(settings))
        self._diarizer = diarizer_for(settings)
        threading.Thread(target=self._work, name="onrecord-ingest", daemon=True).start()

    def submit(self, inputs: list[str]) -> Job:
        sources = expand(inputs)
        job = Job(uuid.uuid4().hex[:8], [SourceState(s.ref) for s in sources])
        self.jobs[job.id] = job
        self._queue.put((job, sources))
        return job

    def _work(self) -> None:
        while True:
            job, sources = self._queue.get()
            progress = _JobProgress(job)
            ingestor = Ingestor(self.archive, self._transcriber, self.embedder, progress=progress,
                                diarizer=self._diarizer, speakers=self.settings.speakers)
            for state, source in zip(job.sources, sources):
                state.status = "running"
                try:
                    result = ingestor.ingest(source)
                except Exception as exc:  # noqa: BLE001 - a bug must not kill the worker for later jobs
                    state.status, state.error = "failed", f"unexpected error: {exc}"
                    continue
                state.status, state.error, state.interview_id = result.status, result.error, result.interview_id
                if state.total:
                    state.done = state.total
