"""A real PEP 503 / PEP 691 simple-API package index served on 127.0.0.1 for tests."""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import tarfile
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from email.parser import HeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

__all__ = [
    "DEFAULT_UPLOAD_TIME",
    "HTML_TYPE",
    "JSON_TYPE",
    "V1_HTML_TYPE",
    "IndexFile",
    "IndexMode",
    "PackageIndex",
]

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
V1_HTML_TYPE = "application/vnd.pypi.simple.v1+html"
HTML_TYPE = "text/html"
_LATEST = {
    "application/vnd.pypi.simple.latest+json": JSON_TYPE,
    "application/vnd.pypi.simple.latest+html": V1_HTML_TYPE,
}
#: Upload time used when ``add`` is not given one (old enough for any cool-down policy).
DEFAULT_UPLOAD_TIME = datetime(2024, 1, 1, tzinfo=timezone.utc)
_DIST_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")

_SDIST_RE = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^-]*?)(?:\.tar\.(?:gz|bz2)|\.tgz|\.zip)$")

IndexMode = Literal["json+html", "json-only", "html-only"]


@dataclass
class IndexFile:
    """One registered distribution file and what the index advertises about it."""

    filename: str
    project: str  # normalized
    version: str | None
    sha256: str  # digest of the file as added (kept when the file is tampered with)
    size: int
    upload_time: datetime
    yanked: str | bool
    requires_python: str | None
    provenance: bytes | None


def _iso_z(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _split_filename(filename: str) -> tuple[str, str | None]:
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
            return str(name), str(version)
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return str(name), str(version)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        pass
    match = _SDIST_RE.match(filename)
    if match:
        return str(canonicalize_name(match["name"])), match["version"]
    raise ValueError(f"cannot tell the project of {filename!r}; pass project=")


def _metadata_requires_python(path: Path) -> str | None:
    """Requires-Python from a wheel's METADATA or an sdist's PKG-INFO, if readable."""
    text: str | None = None
    try:
        if path.name.endswith(".whl"):
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
                if names:
                    text = zf.read(names[0]).decode("utf-8", "replace")
        elif path.name.endswith(".tar.gz"):
            with tarfile.open(path, "r:gz") as tar:
                for member in tar.getmembers():
                    if re.fullmatch(r"[^/]+/PKG-INFO", member.name) and member.isfile():
                        fh = tar.extractfile(member)
                        if fh is not None:
                            text = fh.read().decode("utf-8", "replace")
                        break
    except (OSError, zipfile.BadZipFile, tarfile.TarError):
        return None
    if text is None:
        return None
    value = HeaderParser().parsestr(text).get("Requires-Python")
    return str(value) if value is not None else None


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _negotiate(accept: str | None) -> str | None:
    """Pick JSON, v1 HTML or text/html for an Accept header; None means 406.

    Explicit types beat wildcards, then higher q, then the client's own order.
    No Accept header (or only wildcards) yields ``text/html`` like a legacy index.
    """
    if not accept or not accept.strip():
        return HTML_TYPE
    offers = (JSON_TYPE, V1_HTML_TYPE, HTML_TYPE)
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for position, raw in enumerate(accept.split(",")):
        parts = [p.strip() for p in raw.split(";")]
        media = _LATEST.get(parts[0].lower(), parts[0].lower())
        q = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        if media in offers:
            candidate, explicit = media, 1
        elif media in {"*/*", "text/*"}:
            candidate, explicit = HTML_TYPE, 0
        elif media == "application/*":
            candidate, explicit = JSON_TYPE, 0
        else:
            continue
        rank = (q, explicit, -position)
        if best is None or rank > best:
            best, chosen = rank, candidate
    return chosen


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, index: PackageIndex) -> None:
        self.index = index
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-response are normal in tests; stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    server_version = "pip-verify-test-index/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def index(self) -> PackageIndex:
        return cast(_Server, self.server).index

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/plain; charset=utf-8",
        headers: dict[str, str] | None = None,
        *,
        head: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _dispatch(self, *, head: bool) -> None:
        index = self.index
        accept = self.headers.get("Accept")
        index.requests_log.append((self.command, self.path, accept))
        failure = index._take_failure()
        if failure is not None:
            extra = {"Retry-After": "0"} if failure in (429, 503) else {}
            self._send(failure, b"injected failure\n", headers=extra, head=head)
            return
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = f"?{split.query}" if split.query else ""
        if path == "/simple":
            self._send(301, headers={"Location": "/simple/" + query}, head=head)
        elif path == "/simple/":
            self._serve_page(None, accept, head=head)
        elif path.startswith("/simple/"):
            name = path[len("/simple/") :]
            bare = name[:-1] if name.endswith("/") else name
            if not bare or "/" in bare:
                self._send(404, b"not found\n", head=head)
                return
            normalized = canonicalize_name(bare)
            if bare != normalized or not name.endswith("/"):
                location = f"/simple/{quote(normalized)}/{query}"
                self._send(301, headers={"Location": location}, head=head)
            elif normalized not in index._projects():
                self._send(404, b"not found\n", head=head)
            elif (status := index._page_failure(normalized)) is not None:
                self._send(status, b"injected failure\n", head=head)
            else:
                self._serve_page(normalized, accept, head=head)
        elif path.startswith("/files/"):
            self._serve_file(path[len("/files/") :], head=head)
        elif path.startswith("/integrity/") and path.endswith("/provenance"):
            # /integrity/<project>/<version>/<filename>/provenance
            parts = path.split("/")
            entry = index.files.get(parts[4]) if len(parts) == 6 else None
            if not index.integrity_api or entry is None or entry.provenance is None:
                self._send(404, b"not found\n", head=head)
            else:
                self._send(
                    200, entry.provenance, "application/vnd.pypi.integrity.v1+json", head=head
                )
        elif path.startswith("/provenance/"):
            entry = index.files.get(path[len("/provenance/") :])
            if entry is None or entry.provenance is None:
                self._send(404, b"not found\n", head=head)
            else:
                self._send(200, entry.provenance, "application/json", head=head)
        else:
            self._send(404, b"not found\n", head=head)

    def _serve_page(self, project: str | None, accept: str | None, *, head: bool) -> None:
        index = self.index
        if index.mode == "json-only":
            content_type: str | None = JSON_TYPE
        elif index.mode == "html-only":
            content_type = HTML_TYPE
        else:
            content_type = _negotiate(accept)
        if content_type is None:
            body = f"acceptable: {JSON_TYPE}, {V1_HTML_TYPE}, {HTML_TYPE}\n".encode()
            self._send(406, body, head=head)
            return
        if content_type == JSON_TYPE:
            data: dict[str, Any] = (
                index.project_json(project) if project else index.project_list_json()
            )
            body = json.dumps(data, indent=1).encode()
        else:
            text = index.project_html(project) if project else index.project_list_html()
            body = text.encode()
        ctype = content_type if content_type == JSON_TYPE else f"{content_type}; charset=utf-8"
        headers = {"Vary": "Accept", "Cache-Control": "max-age=0"}
        self._send(200, body, ctype, headers, head=head)

    def _serve_file(self, filename: str, *, head: bool) -> None:
        index = self.index
        if filename not in index.files or "/" in filename:
            self._send(404, b"not found\n", head=head)
            return
        data = (index.directory / filename).read_bytes()
        self._send(200, data, "application/octet-stream", head=head)


class PackageIndex:
    """A simple-API index over ``directory`` on ``http://127.0.0.1:<port>/simple/``.

    Use as a context manager: entering starts the server in a daemon thread,
    exiting shuts it down and closes the socket. Distribution files already in
    ``directory`` are registered with default settings; :meth:`add` registers more.
    Knobs may be changed while the server runs.
    """

    def __init__(
        self,
        directory: Path | None = None,
        *,
        mode: IndexMode = "json+html",
        absolute_urls: bool = False,
        api_version: str = "1.1",
    ) -> None:
        self._tempdir: str | None = None
        if directory is None:
            self._tempdir = tempfile.mkdtemp(prefix="pip-verify-index-")
            directory = Path(self._tempdir)
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory.resolve()
        self.mode: IndexMode = mode
        #: File URLs as absolute ``http://127.0.0.1:<port>/files/...`` instead of relative.
        self.absolute_urls = absolute_urls
        self.api_version = api_version
        #: Serve provenance only through the PyPI Integrity API
        #: (``/integrity/<project>/<version>/<filename>/provenance``), not on project pages.
        self.integrity_api = False
        #: PEP 792 status per project (any spelling of the name), e.g. {"demo": "archived"}.
        self.project_status: dict[str, str] = {}
        #: Projects whose page is answered with this error status, every time.
        self.failing_pages: dict[str, int] = {}
        #: (method, path, Accept header) of every request received, in order.
        self.requests_log: list[tuple[str, str, str | None]] = []
        #: Registered files by filename.
        self.files: dict[str, IndexFile] = {}
        self._lock = threading.Lock()
        self._failures: list[int] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        for path in sorted(self.directory.iterdir()):
            if path.is_file() and path.name.endswith(_DIST_SUFFIXES):
                self.add(path)

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> PackageIndex:
        if self._server is None:
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"PackageIndex:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def __enter__(self) -> PackageIndex:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the index is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/``"""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def url(self) -> str:
        """The index URL to hand to pip: ``http://127.0.0.1:<port>/simple/``."""
        return f"{self.base_url}simple/"

    def file_url(self, filename: str) -> str:
        """Absolute URL of a served file."""
        return f"{self.base_url}files/{quote(filename)}"

    # -- content -----------------------------------------------------------------

    def add(
        self,
        path: Path,
        *,
        upload_time: datetime | None = None,
        yanked: str | bool = False,
        requires_python: str | None = None,
        provenance: bytes | None = None,
        project: str | None = None,
    ) -> IndexFile:
        """Register (and copy into the served directory) a distribution file.

        ``requires_python=None`` advertises the file's own Requires-Python metadata,
        as a real index does. ``project`` overrides the name parsed from the filename.
        """
        target = self.directory / path.name
        if path.resolve() != target:
            shutil.copyfile(path, target)
        data = target.read_bytes()
        try:
            name, version = _split_filename(path.name)
        except ValueError:
            if project is None:
                raise
            name, version = project, None
        if project is not None:
            name = project
        entry = IndexFile(
            filename=path.name,
            project=str(canonicalize_name(name)),
            version=version,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            upload_time=upload_time or DEFAULT_UPLOAD_TIME,
            yanked=yanked,
            requires_python=(
                requires_python
                if requires_python is not None
                else _metadata_requires_python(target)
            ),
            provenance=provenance,
        )
        with self._lock:
            self.files[entry.filename] = entry
        return entry

    def tamper(self, filename: str, new_bytes: bytes) -> None:
        """Serve ``new_bytes`` for ``filename`` while still advertising the original digest."""
        if filename not in self.files:
            raise KeyError(filename)
        (self.directory / filename).write_bytes(new_bytes)

    def fail_next(self, n: int, status: int = 503) -> None:
        """Answer the next ``n`` requests (any path) with ``status``."""
        if status < 400:
            raise ValueError("fail_next needs an error status")
        with self._lock:
            self._failures.extend([status] * n)

    def _take_failure(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def _page_failure(self, project: str) -> int | None:
        for name, status in self.failing_pages.items():
            if canonicalize_name(name) == project:
                return status
        return None

    def _projects(self) -> dict[str, list[IndexFile]]:
        with self._lock:
            entries = list(self.files.values())
            statuses = list(self.project_status)
        projects: dict[str, list[IndexFile]] = {
            str(canonicalize_name(name)): [] for name in statuses
        }
        for entry in entries:
            projects.setdefault(entry.project, []).append(entry)
        for files in projects.values():
            files.sort(key=lambda e: e.filename)
        return dict(sorted(projects.items()))

    def _status_for(self, project: str) -> str | None:
        for name, status in self.project_status.items():
            if canonicalize_name(name) == project:
                return status
        return None

    def _versions(self, files: list[IndexFile]) -> list[str]:
        versions = {e.version for e in files if e.version is not None}
        return sorted(versions, key=_version_key)

    def _url(self, kind: str, filename: str, *, absolute: bool) -> str:
        if absolute:
            return f"{self.base_url}{kind}/{quote(filename)}"
        return f"../../{kind}/{quote(filename)}"

    def _provenance_url(self, entry: IndexFile, *, absolute: bool) -> str | None:
        if entry.provenance is None or self.integrity_api:
            return None
        return self._url("provenance", entry.filename, absolute=absolute)

    def project_list_json(self) -> dict[str, Any]:
        return {
            "meta": {"api-version": self.api_version},
            "projects": [{"name": name} for name in self._projects()],
        }

    def project_json(self, project: str) -> dict[str, Any]:
        """The PEP 691 / 700 JSON page for a normalized project name."""
        files = self._projects().get(project, [])
        data: dict[str, Any] = {
            "meta": {"api-version": self.api_version},
            "name": project,
            "versions": self._versions(files),
            "files": [
                {
                    "filename": e.filename,
                    "url": self._url("files", e.filename, absolute=self.absolute_urls),
                    "hashes": {"sha256": e.sha256},
                    "requires-python": e.requires_python,
                    "yanked": e.yanked,
                    "size": e.size,
                    "upload-time": _iso_z(e.upload_time),
                    "core-metadata": False,
                    **(
                        {}
                        if self.integrity_api
                        else {"provenance": self._provenance_url(e, absolute=self.absolute_urls)}
                    ),
                }
                for e in files
            ],
        }
        status = self._status_for(project)
        if status is not None:
            data["project-status"] = {"status": status}
        return data

    def _html(self, title: str, metas: list[tuple[str, str]], anchors: list[str]) -> str:
        head = "".join(
            f'    <meta name="{html.escape(k)}" content="{html.escape(v)}">\n' for k, v in metas
        )
        body = "".join(f"    {a}<br/>\n" for a in anchors)
        return (
            "<!DOCTYPE html>\n<html>\n  <head>\n"
            f"{head}    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
            f"    <h1>{html.escape(title)}</h1>\n{body}  </body>\n</html>\n"
        )

    def _project_html(self, project: str, *, file_root: Path | None) -> str:
        metas = [("pypi:repository-version", self.api_version)]
        status = self._status_for(project)
        if status is not None:
            metas.append(("pypi:project-status", status))
        anchors = []
        for e in self._projects().get(project, []):
            if file_root is None:
                href = self._url("files", e.filename, absolute=self.absolute_urls)
                prov = self._provenance_url(e, absolute=self.absolute_urls)
            else:
                href = (self.directory / e.filename).as_uri()
                prov = None
                if e.provenance is not None:
                    prov_path = file_root / ".provenance" / e.filename
                    prov_path.parent.mkdir(parents=True, exist_ok=True)
                    prov_path.write_bytes(e.provenance)
                    prov = prov_path.as_uri()
            attrs = [f'href="{html.escape(href)}#sha256={e.sha256}"']
            if e.requires_python is not None:
                attrs.append(f'data-requires-python="{html.escape(e.requires_python)}"')
            if e.yanked is not False:
                reason = "" if e.yanked is True else str(e.yanked)
                attrs.append(f'data-yanked="{html.escape(reason)}"')
            if prov is not None:
                attrs.append(f'data-provenance="{html.escape(prov)}"')
            anchors.append(f"<a {' '.join(attrs)}>{html.escape(e.filename)}</a>")
        return self._html(f"Links for {project}", metas, anchors)

    def project_html(self, project: str) -> str:
        """The PEP 503 HTML page for a normalized project name."""
        return self._project_html(project, file_root=None)

    def project_list_html(self) -> str:
        anchors = [f'<a href="{quote(name)}/">{html.escape(name)}</a>' for name in self._projects()]
        return self._html("Simple index", [("pypi:repository-version", self.api_version)], anchors)

    def write_file_index(self, dest: Path) -> str:
        """Write this index as a static PEP 503 tree under ``dest``; return its ``file://`` URL.

        Project pages link the served files with absolute ``file://`` hrefs (tampered
        files included); provenance goes to ``dest/.provenance/``.
        """
        dest.mkdir(parents=True, exist_ok=True)
        dest = dest.resolve()
        (dest / "index.html").write_text(self.project_list_html(), encoding="utf-8")
        for project in self._projects():
            page = dest / project / "index.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(self._project_html(project, file_root=dest), encoding="utf-8")
        return dest.as_uri() + "/"
