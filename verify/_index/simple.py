"""Parsers for simple repository API project pages: PEP 691 JSON and PEP 503 HTML.

Both produce a :class:`~verify.models.ProjectPage`. Everything an index sends is untrusted:
malformed documents raise :class:`~verify.errors.IndexResponseError` with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.utils import NormalizedName, canonicalize_name
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from verify.errors import IndexResponseError
from verify.models import IndexFile, ProjectPage

__all__ = [
    "ACCEPT",
    "JSON_CONTENT_TYPE",
    "parse_html_page",
    "parse_json_page",
]

JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_CONTENT_TYPE = "application/vnd.pypi.simple.v1+html"
#: Ask for JSON first and accept HTML, as pip does (PEP 691).
ACCEPT = f"{JSON_CONTENT_TYPE}, {HTML_CONTENT_TYPE};q=0.2, text/html;q=0.01"

#: Digest algorithms we can check, with their hex lengths.
_DIGEST_LENGTHS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}


class _JsonMeta(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    api_version: str = Field(alias="api-version")


class _JsonStatus(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: str | None = None
    reason: str | None = None


class _JsonFile(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    filename: str
    url: str
    hashes: dict[str, str]
    requires_python: str | None = Field(default=None, alias="requires-python")
    yanked: bool | str = False
    size: int | None = Field(default=None, ge=0)
    upload_time: datetime | None = Field(default=None, alias="upload-time")
    core_metadata: bool | dict[str, str] | None = Field(default=None, alias="core-metadata")
    dist_info_metadata: bool | dict[str, str] | None = Field(
        default=None, alias="dist-info-metadata"
    )
    provenance: str | None = None


class _JsonPage(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    meta: _JsonMeta
    name: str
    files: list[_JsonFile]
    project_status: _JsonStatus | None = Field(default=None, alias="project-status")


def _clean_hashes(raw: Mapping[str, str], where: str) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for algorithm, digest in raw.items():
        algorithm = algorithm.lower()
        expected = _DIGEST_LENGTHS.get(algorithm)
        if expected is None:
            continue  # an algorithm we cannot check says nothing either way
        digest = digest.lower()
        if len(digest) != expected or any(c not in "0123456789abcdef" for c in digest):
            raise IndexResponseError(f"{where}: malformed {algorithm} digest {digest[:80]!r}")
        hashes[algorithm] = digest
    return hashes


def _check_filename(filename: str, where: str) -> str:
    if not filename or "/" in filename or "\\" in filename or filename in (".", ".."):
        raise IndexResponseError(f"{where}: unsafe file name {filename[:80]!r}")
    return filename


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def _check_version(api_version: str | None, where: str) -> None:
    if api_version is None:
        return
    major = api_version.split(".", 1)[0]
    if major != "1":
        raise IndexResponseError(
            f"{where} speaks simple API version {api_version}; pip-verify understands 1.x"
        )


def parse_json_page(body: bytes, *, page_url: str, index_url: str, name: str) -> ProjectPage:
    """Parse a PEP 691 JSON project page fetched from ``page_url``."""
    try:
        document: Any = json.loads(body)
        page = _JsonPage.model_validate(document)
    except (ValueError, ValidationError) as exc:
        raise IndexResponseError(
            f"{page_url} is not a valid PEP 691 project page: {_first_line(exc)}",
            hint="the index may be misconfigured; try its HTML API with a plain --index-url",
        ) from exc
    _check_version(page.meta.api_version, page_url)
    files = []
    for entry in page.files:
        filename = _check_filename(entry.filename, page_url)
        url, fragment_hashes = _split_hash_fragment(urljoin(page_url, entry.url))
        hashes = _clean_hashes({**fragment_hashes, **entry.hashes}, f"{page_url} ({filename})")
        metadata = (
            entry.core_metadata if entry.core_metadata is not None else entry.dist_info_metadata
        )
        yanked = entry.yanked is not False
        files.append(
            IndexFile(
                filename=filename,
                url=url,
                hashes=hashes,
                index_url=index_url,
                size=entry.size,
                upload_time=_aware(entry.upload_time),
                yanked=yanked,
                yanked_reason=entry.yanked
                if isinstance(entry.yanked, str) and entry.yanked
                else None,
                requires_python=entry.requires_python,
                provenance_url=urljoin(page_url, entry.provenance) if entry.provenance else None,
                core_metadata=metadata is not None and metadata is not False,
            )
        )
    status = page.project_status
    return ProjectPage(
        name=_normalize(name),
        index_url=index_url,
        files=tuple(files),
        served_as="json",
        api_version=page.meta.api_version,
        project_status=status.status if status else None,
        project_status_reason=status.reason if status else None,
    )


def _split_hash_fragment(url: str) -> tuple[str, dict[str, str]]:
    bare, fragment = urldefrag(url)
    if "=" in fragment:
        algorithm, _, digest = fragment.partition("=")
        return bare, {algorithm: digest}
    return bare, {}


class _AnchorCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []
        self.meta: dict[str, str] = {}
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))
        elif tag == "meta":
            values = dict(attrs)
            if values.get("name") and values.get("content") is not None:
                self.meta[str(values["name"])] = str(values["content"])
        elif tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")


def parse_html_page(
    body: bytes, *, page_url: str, index_url: str, name: str, served_as: str = "html"
) -> ProjectPage:
    """Parse a PEP 503 HTML project page fetched from ``page_url``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IndexResponseError(f"{page_url} is not UTF-8 HTML: {exc.reason}") from exc
    collector = _AnchorCollector()
    collector.feed(text)
    collector.close()
    api_version = collector.meta.get("pypi:repository-version")
    _check_version(api_version, page_url)
    base = urljoin(page_url, collector.base) if collector.base else page_url
    files = []
    for anchor in collector.anchors:
        href = anchor.get("href")
        if not href:
            continue
        url, fragment_hashes = _split_hash_fragment(urljoin(base, href))
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        if not filename:
            continue
        filename = _check_filename(filename, page_url)
        hashes = _clean_hashes(fragment_hashes, f"{page_url} ({filename})")
        yanked_attr = anchor.get("data-yanked")
        metadata_attr = anchor.get("data-core-metadata", anchor.get("data-dist-info-metadata"))
        provenance = anchor.get("data-provenance")
        files.append(
            IndexFile(
                filename=filename,
                url=url,
                hashes=hashes,
                index_url=index_url,
                yanked="data-yanked" in anchor,
                yanked_reason=yanked_attr or None,
                requires_python=anchor.get("data-requires-python") or None,
                provenance_url=urljoin(base, provenance) if provenance else None,
                core_metadata=metadata_attr is not None and metadata_attr != "false",
            )
        )
    status = collector.meta.get("pypi:project-status")
    return ProjectPage(
        name=_normalize(name),
        index_url=index_url,
        files=tuple(files),
        served_as=served_as,
        api_version=api_version,
        project_status=status,
        project_status_reason=collector.meta.get("pypi:project-status-reason"),
    )


def _normalize(name: str) -> NormalizedName:
    return canonicalize_name(name)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else exc.__class__.__name__
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        location = ".".join(str(part) for part in error["loc"])
        first = f"{location}: {error['msg']}"
    return first[:200]
