"""The project pages a check reads: every one requested at the start, in parallel."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from packaging.utils import NormalizedName

from verify._index.client import IndexClient
from verify.errors import IncompleteError
from verify.models import Candidate, ProjectPage

__all__ = ["PageReader"]


class PageReader:
    """Every project page the check needs, read in parallel from the start; each candidate
    waits only for its own project's."""

    def __init__(
        self,
        client: IndexClient,
        candidates: Sequence[Candidate],
        stack: contextlib.ExitStack,
        *,
        jobs: int,
        offline: bool,
    ) -> None:
        self._client = client
        self._jobs: dict[NormalizedName, list[Future[ProjectPage | None]]] = {}
        if offline:
            return
        wanted: dict[NormalizedName, tuple[str, ...]] = {}
        for candidate in candidates:
            if candidate.unverifiable:
                continue
            extra = (candidate.index_url,) if candidate.index_url else ()
            urls = tuple(dict.fromkeys(self._client.index_urls + extra))
            wanted[candidate.name] = tuple(dict.fromkeys(wanted.get(candidate.name, ()) + urls))
        count = sum(len(urls) for urls in wanted.values())
        if not count:
            return
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=min(jobs, count)))
        for name, urls in wanted.items():
            self._jobs[name] = [pool.submit(self._client.page, url, name) for url in urls]

    def read(self, name: NormalizedName) -> tuple[tuple[ProjectPage, ...], str | None]:
        """The project's pages on every index that has it, in index order, and the first
        error met reading them, if any."""
        pages: list[ProjectPage] = []
        error: str | None = None
        for job in self._jobs.get(name, ()):
            try:
                page = job.result()
            except IncompleteError as exc:
                if error is None:
                    error = exc.one_line()
                continue
            if page is not None:
                pages.append(page)
        return tuple(pages), error
