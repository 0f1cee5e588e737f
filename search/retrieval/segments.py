"""The keyword index's segments: on this machine's disk, shared by every process that reads the archive, and in
one reader's memory.

A reader asks for the index of the interviews committed now. What its segments already hold costs nothing; an
interview it lacks is looked for in the segments other processes saved (the manifest), and only what nobody has
indexed yet is read from Chroma, into one new segment. So after another process commits an interview, the next
search reads that interview alone. Segments pile up and hold masked rows (deleted or re-indexed interviews); past
MAX_SEGMENTS or DEAD_SHARE a background thread merges them into one while searches go on over the old ones.

The manifest (which segments there are, and which interview versions each holds) is changed only under a file
lock, by writing a new file and renaming it; segment folders are immutable, and removed only under that lock once
no manifest names them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from . import keyword
from .keyword import ChunkRow, KeywordIndex, Segment

MAX_SEGMENTS = 8  # more than this, and a background merge starts
DEAD_SHARE = 0.25  # or when this share of the rows is masked
FOREGROUND_SEGMENTS = 24  # a process too short-lived to finish background merges (the CLI) merges before answering
BUILD_CHUNKS = 200_000  # a cold build makes a segment per this many chunks: big ones are never merged again

Reader = Callable[[dict[str, int]], Iterator[list[ChunkRow]]]  # interview -> chunk count, to batches of chunks


class SegmentStore:
    """One reader's segments, kept in step with the archive; `folder` None keeps them in memory only."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self._segments: list[Segment] = []
        self._index: KeywordIndex | None = None
        self._lock = threading.RLock()
        self._merging: threading.Thread | None = None

    def index(self, current: dict[str, str], sizes: dict[str, int], read: Reader,
              language_of: dict[str, str | None]) -> KeywordIndex:
        """The index of `current` (interview id -> version); `sizes`: chunk counts; `read`: reads chunks."""
        with self._lock:
            if self._index is not None and self._index.current == current:
                return self._index
            held = {iid for s in self._segments for iid, v in s.versions.items() if current.get(iid) == v}
            missing = {iid: current[iid] for iid in current if iid not in held}
            if missing:
                self._segments += self._fetch(missing, sizes, read, language_of)
            self._segments = [s for s in self._segments if any(current.get(i) == v for i, v in s.versions.items())]
            self._index = KeywordIndex(self._segments, current)
            self._keep_few(current)
            return self._index

    # -- finding or building what is missing ------------------------------------------------------

    def _fetch(self, missing: dict[str, str], sizes: dict[str, int], read: Reader,
               language_of: dict[str, str | None]) -> list[Segment]:
        if self.folder is not None:
            try:
                return self._fetch_shared(missing, sizes, read, language_of)
            except OSError:
                self.folder = None  # a read-only or full cache: this process keeps its segments in memory
        return _build(missing, sizes, read, language_of)

    def _fetch_shared(self, missing: dict[str, str], sizes: dict[str, int], read: Reader,
                      language_of: dict[str, str | None]) -> list[Segment]:
        with self._locked():
            entries = self._manifest()
            found = []
            for entry in sorted(entries, key=lambda e: len(e["versions"])):  # a new interview's own segment first
                if any(missing.get(iid) == v for iid, v in entry["versions"].items()):
                    segment = keyword.load(self.folder / entry["name"])
                    if segment is None:
                        entries.remove(entry)  # unreadable: what it held is built again below
                        continue
                    found.append(segment)
                    missing = {iid: v for iid, v in missing.items() if segment.versions.get(iid) != v}
            if missing:
                built = _build(missing, sizes, read, language_of)
                for segment in built:
                    keyword.save(segment, self.folder / segment.name)
                entries += [_entry(s) for s in built]
                found += built
                self._write_manifest(entries)
            return found

    # -- merging ----------------------------------------------------------------------------------

    def _keep_few(self, current: dict[str, str]) -> None:
        index = self._index
        crowded = len(self._segments) > MAX_SEGMENTS or index.dead > DEAD_SHARE * max(1, index.count)
        if not crowded or (self._merging is not None and self._merging.is_alive()):
            return
        if len(self._segments) > FOREGROUND_SEGMENTS:
            self._merge(current)
            return
        self._merging = threading.Thread(target=self._merge, args=(current,), daemon=True, name="keyword-merge")
        self._merging.start()

    def _merge(self, current: dict[str, str]) -> None:
        """Merge every segment but the big, clean ones into one, then swap it in; searches meanwhile use the
        segments as they were."""
        with self._lock:
            inputs = [s for s in self._segments if not _settled(s, current)]
        if len(inputs) < 2 and not any(_dead_rows(s, current) for s in inputs):
            return
        merged = keyword.merge(f"seg-{uuid.uuid4().hex[:12]}", inputs, current)
        if self.folder is not None:
            with self._locked(), contextlib.suppress(OSError):  # unsaved, it only lives in this process
                keyword.save(merged, self.folder / merged.name)
                gone = {s.name for s in inputs}
                self._write_manifest([_entry(merged)] + [e for e in self._manifest() if e["name"] not in gone])
        with self._lock:
            self._segments = [merged] + [s for s in self._segments if s not in inputs]
            self._index = None  # the next search builds the view over the new segments

    def wait_for_merges(self) -> None:
        """For tests and benchmarks: let a background merge finish."""
        merging = self._merging
        if merging is not None:
            merging.join()

    # -- the manifest -----------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _manifest(self) -> list[dict]:
        try:
            data = json.loads((self.folder / "manifest.json").read_text())
        except (OSError, ValueError):
            return []
        return data["segments"] if data.get("format") == keyword.FORMAT else []

    def _write_manifest(self, entries: list[dict]) -> None:
        """Under the lock: write beside and rename, then remove segment folders no manifest names any more."""
        tmp = self.folder / f"manifest.json.tmp{os.getpid()}"
        tmp.write_text(json.dumps({"format": keyword.FORMAT, "segments": entries}))
        os.replace(tmp, self.folder / "manifest.json")
        named = {e["name"] for e in entries}
        for path in self.folder.iterdir():
            if path.is_dir() and path.name not in named:
                shutil.rmtree(path, ignore_errors=True)


def _entry(segment: Segment) -> dict:
    return {"name": segment.name, "versions": segment.versions}


def _build(missing: dict[str, str], sizes: dict[str, int], read: Reader,
           language_of: dict[str, str | None]) -> list[Segment]:
    """Segments of the `missing` interviews read from the archive, BUILD_CHUNKS or so chunks each."""
    groups: list[dict[str, str]] = [{}]
    held = 0
    for iid in sorted(missing):
        if groups[-1] and held + sizes.get(iid, 0) > BUILD_CHUNKS:
            groups.append({})
            held = 0
        groups[-1][iid] = missing[iid]
        held += sizes.get(iid, 0)
    return [keyword.build(f"seg-{uuid.uuid4().hex[:12]}", read({i: sizes.get(i, 0) for i in group}), group,
                          language_of) for group in groups]


def _dead_rows(segment: Segment, current: dict[str, str]) -> bool:
    return any(current.get(iid) != v for iid, v in segment.versions.items())


def _settled(segment: Segment, current: dict[str, str]) -> bool:
    """A big segment with nothing masked: merging it would only cost time."""
    return segment.size >= BUILD_CHUNKS // 2 and not _dead_rows(segment, current)
