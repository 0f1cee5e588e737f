"""Rich progress for ingest: an overall bar for the batch, one bar per source in audio seconds."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from onrecord.search.timefmt import format_timestamp


class _AudioTimeColumn(TextColumn):
    def __init__(self):
        super().__init__("")

    def render(self, task):
        if task.fields.get("batch"):
            return f"{int(task.completed)}/{int(task.total)} sources"
        total = format_timestamp(task.total, millis=False) if task.total else "?"
        return f"{format_timestamp(task.completed, millis=False)} / {total}"


class IngestProgress:
    def __init__(self, console: Console, total_sources: int):
        self._bars = Progress(TextColumn("{task.description}", markup=False), BarColumn(), _AudioTimeColumn(),
                              TimeRemainingColumn(),
                              console=console, transient=True, disable=not console.is_terminal)
        self._batch = self._bars.add_task("all sources", total=total_sources, batch=True) if total_sources > 1 else None
        self._current = None

    def __enter__(self):
        self._bars.__enter__()
        return self

    def __exit__(self, *exc):
        self._bars.__exit__(*exc)

    def started(self, source: str, total: float | None) -> None:
        self._drop_current()
        label = source if len(source) <= 40 else "…" + source[-39:]
        self._current = self._bars.add_task(label, total=total)

    def advanced(self, seconds: float) -> None:
        if self._current is not None:
            self._bars.update(self._current, completed=seconds)

    def echo(self, text: str, *, err: bool = False) -> None:
        """A result line. While bars are live on this terminal, print above them rather than through them."""
        stream = sys.stderr if err else sys.stdout
        if self._bars.live.is_started and stream.isatty():
            self._bars.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            print(text, file=stream, flush=True)

    def source_done(self) -> None:
        self._drop_current()
        if self._batch is not None:
            self._bars.advance(self._batch)

    def _drop_current(self) -> None:
        if self._current is not None:
            self._bars.remove_task(self._current)
            self._current = None
