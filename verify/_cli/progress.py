"""A rich progress display for downloads, attached by the CLI on a terminal."""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from verify._format.untrusted import one_line

__all__ = ["DownloadProgress"]


class DownloadProgress:
    """Implements :class:`verify._fetch.fetch.ProgressSink` with one overall bar.

    One bar for all files keeps the display readable with dozens of parallel downloads; the
    description names the file that started last.
    """

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold blue]{task.description}", table_column=None),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._lock = threading.Lock()
        self._active = 0

    def __enter__(self) -> DownloadProgress:
        self._progress.start()
        self._task = self._progress.add_task("downloading", total=0)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def file_started(self, filename: str, total: int | None) -> None:
        """Grow the bar by the file's size and name it."""
        if self._task is None:
            return
        with self._lock:
            self._active += 1
            task = self._progress.tasks[0]
            self._progress.update(
                self._task,
                total=(task.total or 0) + (total or 0),
                # The description is rich markup, and the name comes from the index.
                description=f"downloading {escape(one_line(filename))}",
            )

    def file_advanced(self, filename: str, nbytes: int) -> None:
        """Advance the bar."""
        if self._task is None:
            return
        self._progress.advance(self._task, nbytes)

    def file_finished(self, filename: str) -> None:
        """Nothing to do per file: the bar only counts bytes."""
