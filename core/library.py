"""`Onrecord`: the one object every surface (the CLI, the app, the HTTP API, the MCP server) and a Python user
share. It is built from settings, owns the long-lived parts (the archive, the searcher, answerers, the summarizer,
the ingest worker) and the input policy, and returns the typed values of `onrecord.search.models`.

A surface parses what its user gave, calls one method here and renders the result; it never builds a part itself.
Parts are built on first use and kept, so a long-lived surface (the app, the API, the MCP server) pays for a model
load once, and a short one (a CLI command) only for what it uses."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, TypeVar

from onrecord.search.config import Settings
from onrecord.search.retrieval.query import Filters

from .policy import InputPolicy, LLMChoice

if TYPE_CHECKING:
    from onrecord.ingest.feeds import Feed
    from onrecord.ingest.pipeline import IngestResult, Progress
    from onrecord.ingest.sources import Source
    from onrecord.search.models import Answer, Hit, Interview, Segment
    from onrecord.search.store.archive import Archive
    from onrecord.search.writeups.answer import Answerer, StreamedAnswer
    from onrecord.search.writeups.summary import InterviewSummary, Summarizer, TopicAcross

    from .jobs import Job, JobBoard

T = TypeVar("T")
CHOSEN_LLMS_KEPT = 16
log = logging.getLogger("onrecord")


@dataclass(frozen=True, slots=True)
class Expanded:
    """What a list of inputs stands for: sources to ingest, and the podcast feeds that were expanded into some."""

    sources: list[Source]
    feeds: list[Feed]


class Onrecord:
    """The archive and everything done with it. `Onrecord(archive="~/interviews")`, or `Onrecord(settings)`;
    settings not given come from ONRECORD_* environment variables (or .env), then the defaults."""

    def __init__(self, settings: Settings | None = None, /, **fields):
        self.settings = settings if settings is not None else Settings(**fields)
        self.policy = InputPolicy(self.settings)
        self._parts: dict[object, object] = {}
        self._chosen: OrderedDict[object, object] = OrderedDict()  # parts built for sessions' own LLM choices
        self._lock = threading.RLock()  # re-entrant: building the answerer builds the searcher

    def _once(self, key: object, build: Callable[[], T]) -> T:
        with self._lock:
            if key not in self._parts:
                self._parts[key] = build()
            return self._parts[key]  # type: ignore[return-value]

    def _for_llm(self, kind: str, llm: LLMChoice | None, build: Callable[[], T]) -> T:
        """A part for the configured LLM (kept), or for a session's own choice: the most recent few are kept, so
        visitors trying models one after another never grow the server's memory."""
        if llm is None:
            return self._once(kind, build)
        with self._lock:
            key = (kind, llm)
            part = self._chosen.pop(key) if key in self._chosen else build()
            self._chosen[key] = part
            while len(self._chosen) > CHOSEN_LLMS_KEPT:
                self._chosen.popitem(last=False)
            return part  # type: ignore[return-value]

    # -- the long-lived parts -------------------------------------------------------------------------------

    def archive(self, *, create: bool = False) -> Archive:
        """Only an ingest creates a missing archive: a read on a mistyped path raises NoArchive."""
        from onrecord.search.store import open_archive

        return self._once("archive", lambda: open_archive(self.settings, create=create))

    def searcher(self):
        from onrecord.search.retrieval.embedder import embedder_for
        from onrecord.search.retrieval.searcher import Searcher

        def build():
            archive = self.archive()
            return Searcher(archive, embedder_for(self.settings, archive.embed_model), self.settings.cache_dir)

        return self._once("searcher", build)

    def answerer(self, llm: LLMChoice | None = None) -> Answerer:
        """The answerer with the configured LLM, or with one session's own choice (kept per choice)."""
        from onrecord.search.writeups.answer import Answerer
        from onrecord.search.writeups.llm import chat_model_for

        def build():
            chat, why_not = chat_model_for(self.policy.llm_settings(llm))
            return Answerer(self.searcher(), chat, why_not)

        return self._for_llm("answerer", llm, build)

    def summarizer(self, llm: LLMChoice | None = None) -> Summarizer:
        from onrecord.search.writeups.summary import Summarizer

        return self._for_llm("summarizer", llm, lambda: Summarizer(
            self.answerer(llm), context_tokens=self.settings.llm_context_tokens,
            topic_minutes=self.settings.topic_minutes))

    def jobs(self) -> JobBoard:
        """The background ingest worker of a long-lived surface: one thread, one job at a time."""
        from .jobs import JobBoard

        def build():
            archive, searcher = self.archive(create=True), self.searcher()
            return JobBoard(archive, self.settings, searcher.current_embedder, added=searcher.mark_stale,
                            feeds=lambda sources: self.expand_sources(sources).sources)

        return self._once("jobs", build)

    # -- reading --------------------------------------------------------------------------------------------

    def interviews(self) -> list[Interview]:
        return self.archive().list()

    def interview(self, ref: str) -> Interview:
        """By id, unique id prefix, exact title or words of the title."""
        return self.archive().resolve(ref)

    def transcript(self, ref: str) -> tuple[Interview, list[Segment]]:
        interview = self.interview(ref)
        return interview, list(self.archive().segments(interview))

    def search(self, query: str, *, limit: int = 10, mode: str = "hybrid",
               filters: Filters = Filters()) -> list[Hit]:
        return self.searcher().search(query, limit=limit, mode=mode, filters=filters)

    def ask(self, question: str, filters: Filters = Filters(), *, llm: LLMChoice | None = None) -> Answer:
        return self.answerer(llm).ask(question, filters)

    def ask_stream(self, question: str, filters: Filters = Filters(), *,
                   llm: LLMChoice | None = None) -> StreamedAnswer:
        """Iterate `.pieces()` for verified text as it is written; `.answer` then holds the whole answer."""
        return self.answerer(llm).stream(question, filters)

    def summarize(self, ref: str, *, refresh: bool = False, llm: LLMChoice | None = None) -> InterviewSummary:
        """The interview written up topic by topic (stored, and reused until the transcript changes)."""
        return self.summarizer(llm).summarize(ref, refresh=refresh)

    def stored_summary(self, ref: str, *, llm: LLMChoice | None = None) -> InterviewSummary | None:
        return self.summarizer(llm).stored(self.interview(ref))

    def compare(self, topic: str, filters: Filters = Filters(), *, llm: LLMChoice | None = None) -> TopicAcross:
        """What each interview says about `topic`."""
        return self.summarizer(llm).across(topic, filters)

    def export(self, ref: str, fmt: str, *, write_up: InterviewSummary | None = None) -> Iterator[str]:
        """The transcript as srt, vtt, txt, json or md (md: with `write_up`, the article before it)."""
        from onrecord.search.export import export

        interview, segments = self.transcript(ref)
        return export(interview, segments, fmt, write_up)

    def speakers(self, ref: str):
        from onrecord.search.store.speakers import speaker_table

        interview, segments = self.transcript(ref)
        return speaker_table(interview, segments)

    # -- changing the record --------------------------------------------------------------------------------

    def edit(self, ref: str, *, title: str | None = None, date: str | None = None) -> Interview:
        from onrecord.search.store.details import update_details

        changed = update_details(self.archive(), self.interview(ref).id, title=title, date=date)
        self._searched_stale()
        return changed

    def rename_speaker(self, ref: str, speaker: str, name: str) -> Interview:
        from onrecord.search.store.speakers import rename

        renamed = rename(self.archive(), self.interview(ref), speaker, name)
        self._searched_stale()
        return renamed

    def delete(self, ref: str) -> Interview:
        found = self.interview(ref)
        self.archive().delete(found.id)
        self._searched_stale()
        return found

    def _searched_stale(self) -> None:
        """A change this process made is seen by its next search at once (others see it within a second)."""
        searcher = self._parts.get("searcher")
        if searcher is not None:
            searcher.mark_stale()

    def diarize(self, ref: str, speakers: int | None = None) -> Interview:
        """Speakers for a recording already in the archive, from its media, without transcribing it again."""
        from onrecord.ingest.diarize import SenkoDiarizer, add_speakers

        diarizer = self._once("diarizer", lambda: SenkoDiarizer(self.settings.device))
        return add_speakers(self.archive(), self.interview(ref), diarizer, speakers)

    def reindex(self) -> tuple[str, int]:
        """Every interview embedded again from its stored transcript: (the model, the chunks written)."""
        from onrecord.search.retrieval.embedder import embedder_for
        from onrecord.search.store.reindex import reindex

        archive = self.archive()
        embedder = embedder_for(self.settings, archive.embed_model)
        return embedder.name, reindex(archive, embedder)

    def migrate(self):
        """Upgrade an archive made by an older onrecord, in place: (the archive, what was done)."""
        from onrecord.search.store import open_archive
        from onrecord.search.store.migrate import migrate

        archive = open_archive(self.settings, upgrading=True)
        return archive, migrate(archive)

    # -- adding: one front door for files, folders, URLs, feeds and uploads ----------------------------------

    def expand(self, inputs: Iterable[str], *, limit: int | None = None) -> Expanded:
        """Files, folders (walked), URLs, and podcast feeds (their newest `limit` episodes) as sources. For the
        person running this process: paths are read as given. Remote users' inputs go through `submit`."""
        from onrecord.ingest.sources import expand

        return self.expand_sources(expand(inputs), limit=limit)

    def expand_sources(self, sources: Iterable[Source], *, limit: int | None = None) -> Expanded:
        from onrecord.ingest.feeds import expand_feeds

        found, feeds = expand_feeds(sources, limit=limit, allow_private=self.settings.allow_private_urls)
        return Expanded(found, feeds)

    def ingestor(self, *, progress: Progress | None = None, title: str | None = None, check_model: bool = False):
        """An ingest pipeline on this archive (created if missing). `check_model`: load Whisper now, so a model
        that is not installed fails in one line before anything is written."""
        from onrecord.ingest.diarize import diarizer_for
        from onrecord.ingest.pipeline import Ingestor
        from onrecord.ingest.transcribe import TranscribeOptions, WhisperTranscriber
        from onrecord.search.retrieval.embedder import embedder_for

        transcriber = WhisperTranscriber(TranscribeOptions.from_settings(self.settings))
        if check_model:
            transcriber.check()
        archive = self.archive(create=True)
        return Ingestor(archive, transcriber, embedder_for(self.settings, archive.embed_model), progress=progress,
                        title=title, diarizer=diarizer_for(self.settings), speakers=self.settings.speakers,
                        limits=self._download_limits())

    def ingest(self, inputs: Iterable[str], *, limit: int | None = None, title: str | None = None,
               progress: Progress | None = None) -> Iterator[IngestResult]:
        """Add what `inputs` name, one result per source as each is done; a failed source does not stop the rest."""
        sources = self.expand(inputs, limit=limit).sources
        ingestor = self.ingestor(progress=progress, title=title,
                                 check_model=any(s.kind != "transcript" for s in sources))
        return ingestor.run(sources)

    def submit(self, *, urls: Iterable[str] = (), folders: Iterable[str] = (),
               uploads: Iterable[Path] = ()) -> Job:
        """A remote user's inputs (the app's Add page, POST /api/ingest), through the input policy, as a
        background job; feeds among the URLs become their episodes when the job runs."""
        uploads = list(uploads)
        sources = self.policy.remote_sources(urls=urls, folders=folders, uploads=uploads)
        return self.jobs().submit(sources, uploads)

    def job(self, job_id: str) -> Job | None:
        """A job submitted to this process, or None (jobs are kept until it stops)."""
        board = self._parts.get("jobs")
        return board.jobs.get(job_id) if board is not None else None

    def warm_up_soon(self) -> None:
        """Load the embedder and the keyword index in the background, so a server's first search is as quick as
        the rest. Nothing to warm until an ingest creates the archive; a failure is logged, not raised."""
        threading.Thread(target=self._warm_up, name="onrecord-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        from onrecord.search.errors import NoArchive, OnrecordError

        try:
            searcher = self.searcher()
            if searcher.interviews():
                searcher.search("warm up", limit=1)
        except NoArchive:
            pass
        except OnrecordError as exc:
            log.warning("warm-up: %s", exc)

    def store_upload(self, name: str, data) -> Path:
        """Keep an uploaded file (bytes, or a file object read in blocks) under the media folder, safely named."""
        from .uploads import store_upload

        return store_upload(self.policy.uploads_dir, name, data)

    def _download_limits(self):
        from onrecord.ingest.fetch import DownloadLimits

        return DownloadLimits.from_settings(self.settings)
