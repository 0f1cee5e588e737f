"""The API server's long-lived objects, one each per process, built on first use: the archive may not exist
until the first ingest creates it (until then, reads answer 503), and building nothing at import keeps
`onrecord serve` quick to listen."""

from __future__ import annotations

import logging
import threading
from typing import Callable, TypeVar

from onrecord.search.config import Settings
from onrecord.search.errors import NoArchive, OnrecordError

from .cli import _answerer, _searcher, _summarizer

log = logging.getLogger("onrecord.api")
T = TypeVar("T")


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._made: dict[str, object] = {}
        self._lock = threading.RLock()  # re-entrant: building the answerer builds the searcher

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._made:
                self._made[name] = build()
            return self._made[name]  # type: ignore[return-value]

    def archive(self, *, create: bool = False):
        """Only an ingest creates a missing archive; every read gets NoArchive (503) until then."""
        from onrecord.search.store import open_archive

        return self._once("archive", lambda: open_archive(self.settings, create=create))

    def searcher(self):
        return self._once("searcher", lambda: _searcher(self.settings, self.archive()))

    def answerer(self):
        return self._once("answerer", lambda: _answerer(self.settings, searcher=self.searcher()))

    def summarizer(self):
        return self._once("summarizer", lambda: _summarizer(self.settings, answerer=self.answerer()))

    def jobs(self):
        """The app's ingest worker: one thread, one job at a time, jobs kept in memory."""
        from .app.jobs import JobBoard

        def build():
            archive = self.archive(create=True)
            searcher = self.searcher()
            return JobBoard(archive, self.settings, searcher.current_embedder, added=searcher.mark_stale)

        return self._once("jobs", build)

    def job(self, job_id: str):
        board = self._made.get("jobs")
        return board.jobs.get(job_id) if board is not None else None  # type: ignore[attr-defined]

    def warm_up_soon(self) -> None:
        """Load the embedder and the keyword index in the background, so the first search is as quick as the rest."""
        threading.Thread(target=self._warm_up, name="onrecord-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        try:
            searcher = self.searcher()
            if searcher.interviews():
                searcher.search("warm up", limit=1)
        except NoArchive:
            pass  # nothing to warm until an ingest creates the archive
        except OnrecordError as exc:
            log.warning("warm-up: %s", exc)
