"""What the upstream's page said about each file, and the last such listing per project.

A page the proxy serves repeats, for each verified file, what its clients read from the
upstream: the name, the digest, the size, ``requires-python``, the upload time, whether it was
yanked. The last listing read from the upstream is kept on disk, so that when the upstream is
down the proxy still lists the files it verified (and serves them from the content store),
and says 503 for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from verify._records import read_record, write_record
from verify.models import IndexFile, ProjectPage

__all__ = ["ListedFile", "Listings", "listed_files"]


@dataclass(frozen=True, slots=True)
class ListedFile:
    """One file as the upstream listed it: what a client reads to choose it."""

    filename: str
    sha256: str
    size: int | None = None
    upload_time: datetime | None = None
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    #: The upstream's URL of the file's PEP 740 provenance, passed on as it is (the proxy
    #: verified it; clients may verify it again).
    provenance_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "filename": self.filename,
            "sha256": self.sha256,
            "size": self.size,
            "upload-time": self.upload_time.isoformat() if self.upload_time else None,
            "requires-python": self.requires_python,
            "yanked": self.yanked,
            "yanked-reason": self.yanked_reason,
            "provenance": self.provenance_url,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ListedFile:
        """The inverse of :meth:`to_dict`; raises ``ValueError``, ``KeyError`` or ``TypeError``."""
        size, upload, requires = data["size"], data["upload-time"], data["requires-python"]
        reason = data["yanked-reason"]
        provenance = data.get("provenance")  # absent from listings kept before it was
        if not isinstance(data["filename"], str) or not isinstance(data["sha256"], str):
            raise TypeError("a listed file needs a filename and a sha256")
        if not isinstance(data["yanked"], bool):
            raise TypeError("'yanked' is not a boolean")
        if size is not None and not isinstance(size, int):
            raise TypeError("'size' is not an integer")
        for value in (upload, requires, reason, provenance):
            if value is not None and not isinstance(value, str):
                raise TypeError("a listed file's text field is not text")
        return cls(
            filename=data["filename"],
            sha256=data["sha256"],
            size=size,
            upload_time=datetime.fromisoformat(upload) if upload else None,
            requires_python=requires,
            yanked=data["yanked"],
            yanked_reason=reason,
            provenance_url=provenance,
        )


def listed_files(page: ProjectPage) -> list[ListedFile]:
    """Every file of ``page`` that has a sha256 (a file without one cannot be verified, so it
    is never listed), in the page's order."""
    listed = []
    for entry in page.files:
        sha256 = entry.hashes.get("sha256")
        if sha256 is None:
            continue
        listed.append(_listed(entry, sha256))
    return listed


def _listed(entry: IndexFile, sha256: str) -> ListedFile:
    return ListedFile(
        filename=entry.filename,
        sha256=sha256,
        size=entry.size,
        upload_time=entry.upload_time,
        requires_python=entry.requires_python,
        yanked=entry.yanked,
        yanked_reason=entry.yanked_reason,
        # Only a URL a client can fetch: a file:// upstream's are paths on the proxy's disk.
        provenance_url=entry.provenance_url
        if entry.provenance_url and entry.provenance_url.startswith(("https://", "http://"))
        else None,
    )


class Listings:
    """The last listing read from the upstream, per project, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        #: What was last written per project: an unchanged listing is not written again.
        self._written: dict[NormalizedName, list[dict[str, Any]]] = {}

    def _path(self, project: NormalizedName) -> Path:
        # Normalized names are [a-z0-9-] only (the app refuses anything else), so they are
        # safe as file names.
        return self.root / f"{project}.json"

    def projects(self) -> list[NormalizedName]:
        """The projects a listing is kept for."""
        try:
            return sorted(NormalizedName(p.stem) for p in self.root.glob("*.json"))
        except OSError:
            return []

    def get(self, project: str) -> list[ListedFile] | None:
        """The last listing of ``project``, or ``None`` (an unreadable one is removed)."""
        return read_record(self._path(canonicalize_name(project)), _load_listing)

    def put(self, project: str, files: list[ListedFile]) -> None:
        """Keep ``files`` as the listing of ``project``; a failure only loses the fallback."""
        name = canonicalize_name(project)
        data = [f.to_dict() for f in files]
        if self._written.get(name) == data:
            return
        write_record(self._path(name), data)
        self._written[name] = data


def _load_listing(data: object) -> list[ListedFile]:
    if not isinstance(data, list):
        raise TypeError("a listing is not a list")
    return [ListedFile.from_dict(item) for item in data]
