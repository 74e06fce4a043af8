"""The proxy's pages as clients read them: PEP 691 JSON and PEP 503 HTML.

Every field a client uses to choose a file is kept from the upstream: the sha256 (the only
digest the proxy verified), ``requires-python``, the yank (with its reason), the size and the
upload time (PEP 700). File URLs point at the proxy's own ``/files/<sha256>/<filename>``, so
a client can fetch only what the proxy serves from its content store. A verified wheel's core
metadata file is offered beside it (PEP 658 and 714, with the hash of the file the proxy
serves, read from the verified wheel), and the upstream's PEP 740 provenance URL is passed
on. A file the proxy withholds but lists (denied with ``--show-denied``, or not verified yet with
``--unverified show-yanked``) is listed as yanked with the reason, which pip and uv show.

Every value that came from the upstream is escaped in HTML; names are normalized and file
names validated before they get here, but the yank reasons and ``requires-python`` are the
upstream's text.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from urllib.parse import quote

from packaging.utils import NormalizedName

from verify._proxy.index import PageEntry, PageView
from verify._resolve.select import file_version

__all__ = ["HTML_TYPE", "JSON_TYPE", "file_path", "render_html", "render_json", "render_root"]

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
_API_VERSION = "1.1"


def file_path(sha256: str, filename: str) -> str:
    """The proxy's path of a file, relative to a project page (``/simple/<name>/``)."""
    return f"../../files/{sha256}/{quote(filename)}"


def _yank(entry: PageEntry) -> str | None:
    """The yank reason a client sees, or ``None`` when the file is not yanked."""
    if entry.withheld is not None:
        return entry.withheld
    if entry.listed.yanked:
        return entry.listed.yanked_reason or ""
    return None


def render_json(view: PageView) -> bytes:
    """``view`` as a PEP 691 project page (API version 1.1, with PEP 700's fields)."""
    files = []
    for entry in view.entries:
        listed = entry.listed
        item: dict[str, object] = {
            "filename": listed.filename,
            "url": file_path(listed.sha256, listed.filename),
            "hashes": {"sha256": listed.sha256},
        }
        if listed.requires_python is not None:
            item["requires-python"] = listed.requires_python
        reason = _yank(entry)
        item["yanked"] = (reason or True) if reason is not None else False
        if listed.size is not None:
            item["size"] = listed.size
        if listed.upload_time is not None:
            item["upload-time"] = listed.upload_time.isoformat().replace("+00:00", "Z")
        if listed.provenance_url is not None:
            item["provenance"] = listed.provenance_url
        if entry.metadata_sha256 is not None:
            # PEP 714's key, and PEP 658's for clients older than it.
            item["core-metadata"] = {"sha256": entry.metadata_sha256}
            item["dist-info-metadata"] = {"sha256": entry.metadata_sha256}
        files.append(item)
    document = {
        "meta": {"api-version": _API_VERSION},
        "name": view.project,
        "files": files,
        "versions": _versions(view.entries),
    }
    return json.dumps(document).encode()


def render_html(view: PageView) -> bytes:
    """``view`` as a PEP 503 project page (with PEP 592's yanks and PEP 691's meta tag)."""
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "<head>",
        f'<meta name="pypi:repository-version" content="{_API_VERSION}">',
        f"<title>Links for {html.escape(view.project)}</title>",
        "</head>",
        "<body>",
        f"<h1>Links for {html.escape(view.project)}</h1>",
    ]
    for entry in view.entries:
        listed = entry.listed
        href = f"{file_path(listed.sha256, listed.filename)}#sha256={listed.sha256}"
        attributes = [f'href="{html.escape(href)}"']
        if listed.requires_python is not None:
            attributes.append(f'data-requires-python="{html.escape(listed.requires_python)}"')
        reason = _yank(entry)
        if reason is not None:
            attributes.append(f'data-yanked="{html.escape(reason)}"')
        if listed.provenance_url is not None:
            attributes.append(f'data-provenance="{html.escape(listed.provenance_url)}"')
        if entry.metadata_sha256 is not None:
            value = f"sha256={entry.metadata_sha256}"
            attributes.append(f'data-core-metadata="{value}"')
            attributes.append(f'data-dist-info-metadata="{value}"')
        lines.append(f"<a {' '.join(attributes)}>{html.escape(listed.filename)}</a><br>")
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode()


def render_root(projects: Iterable[NormalizedName], *, as_json: bool) -> bytes:
    """The index of projects the proxy has listed."""
    names = sorted(set(projects))
    if as_json:
        document = {
            "meta": {"api-version": _API_VERSION},
            "projects": [{"name": name} for name in names],
        }
        return json.dumps(document).encode()
    links = [f'<a href="{html.escape(name)}/">{html.escape(name)}</a><br>' for name in names]
    return "\n".join(
        ["<!DOCTYPE html>", "<html>", "<body>", *links, "</body>", "</html>", ""]
    ).encode()


def _versions(entries: Iterable[PageEntry]) -> list[str]:
    found = {file_version(e.listed.filename) for e in entries}
    return [str(v) for v in sorted(v for v in found if v is not None)]
