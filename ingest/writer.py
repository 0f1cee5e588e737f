"""Archive writes on one background thread, in order, so that Chroma stores batch n while the embedder (ONNX
Runtime releases the GIL) works on batch n+1. A bounded queue keeps memory flat: the embedder waits when the
writer falls behind. The first failed write is raised in the caller's thread, by the next `submit` or by
`drain`; the writes queued after it are dropped."""

from __future__ import annotations

import queue
import threading
from typing import Callable

_STOP = object()


class BackgroundWriter:
    def __init__(self, depth: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._work, name="onrecord-writer", daemon=True)
        self._thread.start()

    def submit(self, write: Callable[..., None], *args, **kwargs) -> None:
        """Queue one write; raises a failure of an earlier one instead."""
        self._raise_failure()
        self._queue.put((write, args, kwargs))

    def drain(self) -> None:
        """Wait until every queued write is stored; raises the first failure."""
        self._queue.join()
        self._raise_failure()

    def close(self, cancel: bool = False) -> None:
        """Stop the thread once the write in hand is done, and the queued ones too unless `cancel`; safe to call
        more than once."""
        self._cancelled = self._cancelled or cancel
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        # A failure drops the queued writes (they are discarded anyway); Ctrl-C lets the few queued finish, so an
        # interrupted ingest leaves whole staged writes for the next run to resume or clear.
        self.close(cancel=exc_type is not None and issubclass(exc_type, Exception))

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            write, args, kwargs = item
            try:
                if self._error is None and not self._cancelled:  # after a failure, later writes are dropped
                    write(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                self._error = exc
            finally:
                self._queue.task_done()
        self._queue.task_done()
