"""Parsers for simple repository API project pages: PEP 691 JSON and PEP 503 HTML.

Both produce a :class:`~verify.models.ProjectPage`. Everything an index sends is untrusted:
malformed documents raise :class:`~verify.errors.IndexResponseError` with a reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.utils import NormalizedName, canonicalize_name

from verify._index.urls import redact
from verify.errors import IndexResponseError
from verify.models import IndexFile, IndexFiles, ProjectPage

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


_HEX = re.compile(r"[0-9a-f]+")

_WEB_SCHEMES = ("http", "https")
_WEB_PREFIXES = ("https://", "http://")


class _Malformed(ValueError):
    """A JSON page violates PEP 691; the message says where."""


def _expect(value: object, kinds: type | tuple[type, ...], where: str, what: str) -> Any:
    # bool is an int subclass; a size of `true` is not a size.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _kinds(kinds)):
        raise _Malformed(f"{where}: {what}, not {type(value).__name__}")
    return value


def _kinds(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _optional_str(entry: dict[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    return str(_expect(value, str, f"{where}.{key}", "expected a string"))


def _clean_hashes(raw: Mapping[str, str], where: str) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for algorithm, digest in raw.items():
        algorithm = algorithm.lower()
        expected = _DIGEST_LENGTHS.get(algorithm)
        if expected is None:
            continue  # an algorithm we cannot check says nothing either way
        digest = digest.lower()
        if len(digest) != expected or not _HEX.fullmatch(digest):
            raise IndexResponseError(f"{where}: malformed {algorithm} digest {digest[:80]!r}")
        hashes[algorithm] = digest
    return hashes


def _check_filename(filename: str, where: str) -> str:
    if not filename or "/" in filename or "\\" in filename or filename in (".", ".."):
        raise IndexResponseError(f"{where}: unsafe file name {filename[:80]!r}")
    return filename


def _check_version(api_version: str | None, where: str) -> None:
    if api_version is None:
        return
    major = api_version.split(".", 1)[0]
    if major != "1":
        raise IndexResponseError(
            f"{where} speaks simple API version {api_version}; pip-verify understands 1.x"
        )


def parse_json_page(body: bytes, *, page_url: str, index_url: str, name: str) -> ProjectPage:
    """Parse a PEP 691 JSON project page fetched from ``page_url``.

    Validation is written out rather than done with a model: pages of large projects list
    tens of thousands of files, and this runs for every project on every check.
    """
    try:
        document: Any = json.loads(body)
        page = _expect(document, dict, "page", "expected an object")
        meta = _expect(page.get("meta"), dict, "meta", "expected an object")
        api_version = _expect(meta.get("api-version"), str, "meta.api-version", "expected a string")
        entries = _expect(page.get("files"), list, "files", "expected a list")
        _check_version(api_version, page_url)
        files = _lazy_json_files(entries, page_url, index_url)
        status = page.get("project-status")
        if status is not None:
            _expect(status, dict, "project-status", "expected an object")
            status_value = _optional_str(status, "status", "project-status")
            status_reason = _optional_str(status, "reason", "project-status")
        else:
            status_value = status_reason = None
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, IndexResponseError):
            raise
        raise IndexResponseError(
            f"{redact(page_url)} is not a valid PEP 691 project page: {_first_line(exc)}",
            hint="the index may be misconfigured; try its HTML API with a plain --index-url",
        ) from exc
    return ProjectPage(
        name=_normalize(name),
        index_url=index_url,
        files=files,
        served_as="json",
        api_version=api_version,
        project_status=status_value,
        project_status_reason=status_reason,
        digest=hashlib.sha256(body).hexdigest(),
    )


def _lazy_json_files(entries: list[Any], page_url: str, index_url: str) -> IndexFiles:
    def build(position: int) -> IndexFile:
        try:
            return _json_file(entries[position], position, page_url, index_url)
        except ValueError as exc:
            if isinstance(exc, IndexResponseError):
                raise
            raise IndexResponseError(
                f"{redact(page_url)} is not a valid PEP 691 project page: {_first_line(exc)}",
                hint="the index may be misconfigured; try its HTML API with a plain --index-url",
            ) from exc

    def filename(position: int) -> str:
        entry = entries[position]
        value = entry.get("filename") if isinstance(entry, dict) else None
        return value if isinstance(value, str) else ""

    def sha256(position: int) -> str | None:
        entry = entries[position]
        if not isinstance(entry, dict):
            return None
        hashes = entry.get("hashes")
        value = hashes.get("sha256") if isinstance(hashes, dict) else None
        if isinstance(value, str):
            return value.lower()
        url = entry.get("url")
        if isinstance(url, str) and "#sha256=" in url:
            return url.rpartition("#sha256=")[2].lower()
        return None

    return IndexFiles(len(entries), build, filename, sha256)


def _absolute(page_url: str, href: str) -> str:
    if href.startswith(_WEB_PREFIXES):
        return href  # the common case; urljoin is slow enough to matter on large pages
    return urljoin(page_url, href)


def _is_remote(page_url: str) -> bool:
    """Whether ``page_url`` came from an http(s) index (not a ``file://`` one)."""
    return page_url[:8].lower().startswith(_WEB_PREFIXES)


def _check_link(url: str, *, remote: bool, page_url: str, what: str) -> str:
    """``url`` (absolute), unless an http(s) page links it to another scheme.

    A ``file:`` link on a remote page would make pip-verify read, hash and report a local
    file of the attacker's choosing (or read ``/dev/zero`` forever); links to local files are
    taken only from ``file://`` indexes and local inputs. The page is refused rather than the
    link skipped, so that a hostile index fails the check instead of quietly shrinking it.
    """
    if not remote or url.startswith(_WEB_PREFIXES) or urlsplit(url).scheme in _WEB_SCHEMES:
        return url
    raise IndexResponseError(
        f"{redact(page_url)} links {what} to {redact(url)[:200]}, which is not http(s)",
        hint="an http(s) index may link only to http(s) files; local files are read only "
        "from file:// indexes and from paths given on the command line or in lock files",
    )


def _json_file(raw: object, position: int, page_url: str, index_url: str) -> IndexFile:
    where = f"files.{position}"
    entry = _expect(raw, dict, where, "expected an object")
    filename = _expect(entry.get("filename"), str, f"{where}.filename", "expected a string")
    href = _expect(entry.get("url"), str, f"{where}.url", "expected a string")
    raw_hashes = _expect(entry.get("hashes"), dict, f"{where}.hashes", "expected an object")
    for value in raw_hashes.values():
        _expect(value, str, f"{where}.hashes", "expected string digests")
    filename = _check_filename(filename, page_url)
    remote = _is_remote(page_url)
    url, fragment_hashes = _split_hash_fragment(
        _check_link(_absolute(page_url, href), remote=remote, page_url=page_url, what=filename)
    )
    if fragment_hashes:
        raw_hashes = {**fragment_hashes, **raw_hashes}
    hashes = _clean_hashes(raw_hashes, f"{redact(page_url)} ({filename})")
    yanked = entry.get("yanked", False)
    _expect(yanked, (bool, str), f"{where}.yanked", "expected a boolean or a string")
    size = entry.get("size")
    if size is not None and _expect(size, int, f"{where}.size", "expected an integer") < 0:
        raise _Malformed(f"{where}.size: negative")
    upload_time = _optional_str(entry, "upload-time", where)
    provenance = _optional_str(entry, "provenance", where)
    metadata = entry.get("core-metadata", entry.get("dist-info-metadata"))
    return IndexFile(
        filename=filename,
        url=url,
        hashes=hashes,
        index_url=index_url,
        size=size,
        upload_time=_parse_time(upload_time, f"{where}.upload-time") if upload_time else None,
        yanked=yanked is not False,
        yanked_reason=yanked if isinstance(yanked, str) and yanked else None,
        requires_python=_optional_str(entry, "requires-python", where),
        provenance_url=_check_link(
            urljoin(page_url, provenance),
            remote=remote,
            page_url=page_url,
            what=f"the provenance of {filename}",
        )
        if provenance
        else None,
        provenance_listed="provenance" in entry,
        core_metadata=metadata is not None and metadata is not False,
    )


def _parse_time(text: str, where: str) -> datetime:
    try:
        # Python 3.10's fromisoformat does not take a "Z" suffix.
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError as exc:
        raise _Malformed(f"{where}: {text[:40]!r} is not an ISO 8601 time") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


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
    remote = _is_remote(page_url)
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
        _check_link(url, remote=remote, page_url=page_url, what=filename)
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
                provenance_url=_check_link(
                    urljoin(base, provenance),
                    remote=remote,
                    page_url=page_url,
                    what=f"the provenance of {filename}",
                )
                if provenance
                else None,
                provenance_listed=provenance is not None,
                core_metadata=metadata_attr is not None and metadata_attr != "false",
            )
        )
    status = collector.meta.get("pypi:project-status")
    return ProjectPage(
        name=_normalize(name),
        index_url=index_url,
        files=IndexFiles.of(files),
        served_as=served_as,
        api_version=api_version,
        project_status=status,
        project_status_reason=collector.meta.get("pypi:project-status-reason"),
        digest=hashlib.sha256(body).hexdigest(),
    )


def _normalize(name: str) -> NormalizedName:
    return canonicalize_name(name)


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else exc.__class__.__name__)[:200]
