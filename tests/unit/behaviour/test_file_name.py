"""A file published or installed under a name that is no distribution file name (issue 13)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from verify._behaviour.diff import diff_distributions
from verify._behaviour.result import DistFile
from verify.models import Severity


def _sdist(path: Path) -> Path:
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w:gz") as archive:
        for name, data in (
            ("demo-1.0/PKG-INFO", b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"),
            ("demo-1.0/demo/__init__.py", b"VALUE = 1\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    path.write_bytes(stream.getvalue())
    return path


@pytest.mark.parametrize(
    ("filename", "named", "expected"),
    [
        ("demo-1.0-py3-none-any.tar.gz", True, True),
        ("demo.tar.gz", True, True),
        # Compared as they are (pip-verify diff OLD NEW): any name will do.
        ("demo-1.0-py3-none-any.tar.gz", False, False),
        ("demo-1.0.tar.gz", True, False),
    ],
)
def test_a_name_no_index_takes_is_a_finding(
    tmp_path: Path, filename: str, named: bool, expected: bool
) -> None:
    path = _sdist(tmp_path / filename)
    diff = diff_distributions(DistFile(path, filename), None, named=named)
    found = [f for f in diff.findings if f.rule == "filename-invalid"]
    assert bool(found) is expected
    if expected:
        assert found[0].severity is Severity.HIGH
        assert filename in found[0].message
