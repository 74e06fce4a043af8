"""The behaviour analysis on every core: a pool of worker processes.

The analysis is pure Python and CPU-bound, so threads share one interpreter lock and a check
used one core however many it had. :class:`AnalysisPool` runs each diff in a worker process
instead, while the check's threads go on reading pages and downloading. Workers are started
with ``spawn`` (the check's threads hold locks a forked child would inherit held), at the
first diff that is not in the diff cache, so a warm check starts none.

The pool only moves the work: a worker runs the same
:func:`~verify._behaviour.review.diff_here` on the same files, and its result comes back as
the same value. What can differ is failure. A worker that dies (killed, or out of memory on
a hostile file) fails the diffs it was running with :class:`~verify.errors.IncompleteError`:
the check cannot complete, and nothing is allowed. The next diff gets a fresh pool.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType

from verify._behaviour.profile_cache import ProfileCache
from verify._behaviour.result import BehaviourDiff, DistFile
from verify._behaviour.review import diff_here
from verify._checks.typosquat import PopularNames
from verify.errors import ArchiveError, IncompleteError

__all__ = ["AnalysisPool", "usable_cores"]


def usable_cores() -> int:
    """The cores this process may run on (its affinity), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _warm_up() -> None:
    # What the first diff would otherwise wait for: the analysers and the popular-names index.
    import verify._behaviour.diff  # noqa: F401

    PopularNames.load()


def _diff(
    new: DistFile, old: DistFile | None, reason: str, profiles: ProfileCache | None
) -> BehaviourDiff | str:
    """Runs in a worker: the diff, or an unreadable archive's one-line error.

    The error travels as text: an exception crosses the process boundary as its ``args``
    alone, which would lose what the error says beyond its message.
    """
    try:
        return diff_here(new, old, reason, profiles)
    except ArchiveError as exc:
        return exc.one_line()


class AnalysisPool:
    """Worker processes for the behaviour diff, sized to the usable cores."""

    def __init__(self, workers: int, profiles: ProfileCache | None = None) -> None:
        self.workers = max(1, workers)
        #: Where the workers keep and find the profiles of files they analysed.
        self.profiles = profiles
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> AnalysisPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers; diffs not yet started are cancelled."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def start(self) -> None:
        """Start the workers now (:meth:`diff` starts them when it first needs them)."""
        self._start()

    def _start(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
                )
                for _ in range(self.workers):
                    self._executor.submit(_warm_up)
            return self._executor

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    def diff(self, new: DistFile, old: DistFile | None, reason: str) -> BehaviourDiff:
        """:func:`~verify._behaviour.review.diff_here` of ``new`` against ``old``, in a
        worker process.

        Raises :class:`~verify.errors.ArchiveError` when ``new`` cannot be read, and
        :class:`~verify.errors.IncompleteError` when the worker stopped before it finished.
        """
        executor = self._start()
        try:
            future: Future[BehaviourDiff | str] = executor.submit(
                _diff, new, old, reason, self.profiles
            )
            result = future.result()
        except BrokenProcessPool:
            self._discard(executor)
            raise IncompleteError(
                f"the behaviour analysis of {new.filename} did not complete: its worker "
                "process stopped (killed, or out of memory)",
                hint="run the check again; if it stops again, the file may be built to "
                "exhaust the analysis",
            ) from None
        if isinstance(result, str):
            raise ArchiveError(result)
        return result
