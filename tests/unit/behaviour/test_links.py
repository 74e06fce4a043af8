"""How an sdist's links are rated: a documentation file pointing at another file of the same
sdist is worth a look; a link that leaves the archive, that unpacking writes through, or that
stands where code runs stays high."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from verify._behaviour.diff import DistFile, diff_distributions
from verify.models import Severity

_PKG_INFO = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
_SETUP = b"from setuptools import setup\nsetup(packages=['demo'])\n"


def _sdist(tmp_path: Path, links: dict[str, str], files: dict[str, bytes] | None = None) -> Path:
    path = tmp_path / "demo-1.0.tar.gz"
    members = {
        "PKG-INFO": _PKG_INFO,
        "setup.py": _SETUP,
        "demo/__init__.py": b"",
        "docs/index.rst": b"Demo\n====\n",
        "docs/theme/": b"",
        "docs/theme/style.css": b"body {}\n",
        **(files or {}),
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"demo-1.0/{name}")
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                continue
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in links.items():
            info = tarfile.TarInfo(f"demo-1.0/{name}")
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return path


def _link_severity(path: Path, link: str) -> Severity:
    findings = diff_distributions(DistFile(path, path.name), None).findings
    [severity] = {f.severity for f in findings if f.rule == "archive-link" and f.path == link}
    return severity


def test_a_readme_pointing_at_the_docs_is_medium(tmp_path: Path) -> None:
    path = _sdist(
        tmp_path,
        {"README.rst": "docs/index.rst", "tests/data/style.css": "../../docs/theme/style.css"},
    )
    assert _link_severity(path, "README.rst") is Severity.MEDIUM
    assert _link_severity(path, "tests/data/style.css") is Severity.MEDIUM


@pytest.mark.parametrize(
    ("link", "target", "files"),
    [
        ("README.rst", "/etc/passwd", {}),  # leaves the archive
        ("README.rst", "../../outside.rst", {}),  # climbs out of it
        ("docs/api.md", "theme", {}),  # a directory: unpacking can go through it
        ("docs/notes.txt", "missing.txt", {}),  # nothing there to read
        ("setup.py", "docs/index.rst", {}),  # stands where pip runs code
        ("demo/util.py", "../docs/index.rst", {}),  # stands where code is imported
        ("NEWS.txt", "docs/index.rst", {"NEWS.txt/x.py": b""}),  # members stored under it
        ("NEWS.txt", "docs/index.rst", {"NEWS.txt": b"news\n"}),  # also a file of its own
    ],
)
def test_links_that_leave_are_written_through_or_stand_for_code_stay_high(
    tmp_path: Path, link: str, target: str, files: dict[str, bytes]
) -> None:
    path = _sdist(tmp_path, {link: target}, files)
    assert _link_severity(path, link) is Severity.HIGH
