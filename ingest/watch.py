"""A folder watched for recordings and transcripts: the files already there, then each new one once complete.

Complete means written and closed, then left alone: on Linux, inotify reports when a writer closes a file, and a
file counts only after that close and SETTLE_SECONDS with its size and modification time unchanged (a copy that
pauses between two writes, with the file still open, is not taken half-done). Where the platform reports no
closes (macOS, Windows, a polling fallback), the settle time alone decides. A file moved or renamed into the
folder is complete at once (its settle time still applies). Hidden files and folders are ignored, so a
downloader's `.name.part` that is renamed when done is taken once, under its final name."""

from __future__ import annotations

import os
import queue
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from onrecord.search.errors import OnrecordError

from .sources import Source, file_source, folder_files, taken_from_folder

SETTLE_SECONDS = 1.5
POLL_SECONDS = 0.25


@dataclass(slots=True)
class _Pending:
    stamp: tuple[int, int] | None  # (size, mtime_ns) when last looked at
    since: float  # monotonic time the stamp last changed
    closed: bool  # the writer closed it (or it was moved in, or was there already)


def watch_folder(folder: Path, *, settle: float = SETTLE_SECONDS) -> Iterator[Source]:
    """Sources for the supported files in `folder` (and the folders in it), those there now and then each new or
    rewritten one as it becomes complete, until the consumer stops (Ctrl-C). Nothing is yielded twice for the
    same bytes in the same place; an ingest that reads a file causes no event that brings it back."""
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise OnrecordError(f"cannot watch {folder}: not a folder")
    events: queue.Queue[tuple[Path, bool]] = queue.Queue()
    observer, reports_closes = _observer()
    observer.schedule(_Handler(events), str(folder), recursive=True)
    observer.start()  # before the first listing, so nothing created in between is missed
    pending: dict[Path, _Pending] = {}
    done: dict[Path, tuple[int, int]] = {}
    try:
        for path in folder_files(folder):
            pending[path] = _Pending(None, time.monotonic(), closed=True)
        while True:
            _drain(events, pending, folder)
            for path in _ready(pending, done, settle, reports_closes):
                done[path] = pending.pop(path).stamp
                yield file_source(path)
    finally:
        observer.stop()
        observer.join(timeout=5)


def _observer():
    """inotify where there is one, reporting closes and telling a file moved in from outside (complete) from one
    being created (complete once closed); else watchdog's platform observer, which reports neither."""
    from watchdog.utils import platform

    if platform.is_linux():
        from watchdog.observers.inotify import InotifyObserver

        return InotifyObserver(generate_full_events=True), True
    from watchdog.observers import Observer

    return Observer(), False


def _drain(events: queue.Queue, pending: dict[Path, _Pending], root: Path) -> None:
    """Wait up to POLL_SECONDS for the first event, then take every event queued."""
    try:
        item = events.get(timeout=POLL_SECONDS)
    except queue.Empty:
        return
    while True:
        path, closed = item
        if path.is_dir():
            for found in folder_files(path):
                if _wanted(found, root):
                    pending.setdefault(found, _Pending(None, time.monotonic(), closed=True))
        elif _wanted(path, root):
            entry = pending.setdefault(path, _Pending(None, time.monotonic(), closed=False))
            entry.closed = entry.closed or closed
        try:
            item = events.get_nowait()
        except queue.Empty:
            return


def _ready(pending: dict[Path, _Pending], done: dict[Path, tuple[int, int]], settle: float,
           reports_closes: bool) -> list[Path]:
    now, ready = time.monotonic(), []
    for path, entry in list(pending.items()):
        try:
            info = os.stat(path)
        except OSError:
            del pending[path]  # deleted or renamed away: its new name has an event of its own
            continue
        stamp = (info.st_size, info.st_mtime_ns)
        if stamp != entry.stamp:
            entry.stamp, entry.since = stamp, now
        elif done.get(path) == stamp:
            del pending[path]  # touched, or read, but not changed since it was taken
        elif (entry.closed or not reports_closes) and now - entry.since >= settle and info.st_size > 0:
            ready.append(path)
    return ready


def _wanted(path: Path, root: Path) -> bool:
    try:
        inside = path.relative_to(root).parts
    except ValueError:
        return False  # moved out of the folder
    return not any(part.startswith(".") for part in inside) and taken_from_folder(path)


class _Handler:
    """watchdog's callback, on its own thread: it only queues (path, closed-after-writing)."""

    def __init__(self, events: queue.Queue):
        self.events = events

    def dispatch(self, event) -> None:
        kind = event.event_type
        if kind == "moved" and not event.dest_path:
            return  # moved out of the folder
        if event.is_directory:  # a folder made or moved in: its files (a folder's "modified" is its files' news)
            if kind in ("created", "moved"):
                self.events.put((Path(os.fsdecode(event.dest_path if kind == "moved" else event.src_path)), True))
        elif kind in ("created", "modified", "closed"):
            self.events.put((Path(os.fsdecode(event.src_path)), kind == "closed"))
        elif kind == "moved":
            self.events.put((Path(os.fsdecode(event.dest_path)), True))
