"""Index URL handling: normalising, joining project pages, and hiding credentials."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit
from urllib.request import url2pathname

from verify.errors import UsageError

__all__ = ["file_url_path", "normalize_index_url", "project_url", "redact"]

_SCHEMES = ("http", "https", "file")


def normalize_index_url(url: str) -> str:
    """Check an index URL given by a user or pip's configuration; end it with ``/``.

    A bare directory path is taken as a ``file://`` index, as pip does.
    """
    url = url.strip()
    if not url:
        raise UsageError("an index URL is empty")
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        candidate = Path(url).expanduser()
        if not parts.scheme and candidate.is_dir():
            return candidate.resolve().as_uri() + "/"
        raise UsageError(
            f"index URL {redact(url)!r} is not http(s):// or file://",
            hint="pass the simple API root, e.g. https://index.example/simple/",
        )
    if parts.scheme != "file" and not parts.netloc:
        raise UsageError(f"index URL {redact(url)!r} has no host")
    return url if url.endswith("/") else url + "/"


def project_url(index_url: str, normalized_name: str) -> str:
    """The project page URL of ``normalized_name`` under ``index_url`` (PEP 503).

    The name is percent-encoded: a valid name is unchanged, and the name of a local sdist
    (whose filename does not enforce a valid name) stays one path segment.
    """
    return f"{index_url.rstrip('/')}/{quote(normalized_name, safe='')}/"


def file_url_path(url: str) -> Path:
    """The local path a ``file://`` URL names."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise UsageError(f"file URL {url!r} names a remote host; only local paths are supported")
    return Path(url2pathname(parts.path))


def redact(url: str) -> str:
    """``url`` without a password, safe to print and to write into reports."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.netloc.rpartition("@")[2]  # keeps IPv6 brackets and the port as written
    user = f"{parts.username}:***@" if parts.password is not None else "***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))
