"""Reads project pages from one or several indexes: HTTP(S) through the session, or ``file://``."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from packaging.utils import NormalizedName, canonicalize_name

from verify._index.session import MAX_PAGE_BYTES, HttpSession
from verify._index.simple import ACCEPT, parse_html_page, parse_json_page
from verify._index.urls import file_url_path, project_url, redact
from verify.errors import IndexResponseError, NetworkError
from verify.models import ProjectPage

__all__ = ["IndexClient"]


class IndexClient:
    """Project pages from the configured indexes, each page read at most once per run."""

    def __init__(self, session: HttpSession, index_urls: Sequence[str]) -> None:
        self.session = session
        self.index_urls = tuple(index_urls)
        self._pages: dict[tuple[str, NormalizedName], ProjectPage | None] = {}
        self._locks: dict[tuple[str, NormalizedName], threading.Lock] = {}
        self._guard = threading.Lock()

    def pages(self, name: str) -> tuple[ProjectPage, ...]:
        """The project's page on every configured index that has it, in index order."""
        found = (self.page(index_url, name) for index_url in self.index_urls)
        return tuple(page for page in found if page is not None)

    def page(self, index_url: str, name: str) -> ProjectPage | None:
        """The project's page on ``index_url``, or ``None`` when the index does not have it."""
        key = (index_url, canonicalize_name(name))
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._pages:
                self._pages[key] = self._fetch(index_url, key[1])
            return self._pages[key]

    def _fetch(self, index_url: str, name: NormalizedName) -> ProjectPage | None:
        url = project_url(index_url, name)
        if url.startswith("file:"):
            return self._read_file_index(index_url, url, name)
        response = self.session.get_page(url, accept=ACCEPT)
        shown = redact(response.url)
        if response.status in (404, 410):
            return None
        if response.status in (401, 403):
            raise NetworkError(
                f"{shown} refused access (HTTP {response.status})",
                hint="check the credentials for this index (URL, netrc or keyring)",
            )
        if response.status != 200:
            raise NetworkError(
                f"{shown} answered HTTP {response.status}",
                hint="the index may be down; try again later",
            )
        content_type = response.content_type.split(";", 1)[0].strip().lower()
        if content_type in (
            "application/vnd.pypi.simple.v1+json",
            "application/vnd.pypi.simple.latest+json",
        ):
            return parse_json_page(
                response.body, page_url=response.url, index_url=index_url, name=name
            )
        if content_type in (
            "application/vnd.pypi.simple.v1+html",
            "application/vnd.pypi.simple.latest+html",
            "text/html",
        ):
            return parse_html_page(
                response.body, page_url=response.url, index_url=index_url, name=name
            )
        raise IndexResponseError(
            f"{shown} answered with {content_type or 'no content type'}, not a simple API page",
            hint="check that the URL is the index's simple API root",
        )

    def _read_file_index(
        self, index_url: str, url: str, name: NormalizedName
    ) -> ProjectPage | None:
        directory = file_url_path(url)
        page = directory / "index.html"
        if not page.is_file():
            return None
        try:
            size = page.stat().st_size
            if size > MAX_PAGE_BYTES:
                raise IndexResponseError(f"{page} is {size} bytes, over the page size limit")
            body = page.read_bytes()
        except OSError as exc:
            raise IndexResponseError(f"cannot read {page}: {exc.strerror}") from exc
        return parse_html_page(
            body, page_url=page.as_uri(), index_url=index_url, name=name, served_as="file"
        )
