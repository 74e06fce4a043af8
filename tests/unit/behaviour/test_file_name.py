"""A file published or installed under a name that is no distribution file name (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.dists import DistSpec, build_sdist
from verify._behaviour.diff import diff_distributions
from verify._behaviour.result import DistFile
from verify.models import Severity


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
    path = build_sdist(DistSpec("demo", "1.0"), tmp_path / "built").rename(tmp_path / filename)
    diff = diff_distributions(DistFile(path, filename), None, named=named)
    found = [f for f in diff.findings if f.rule == "filename-invalid"]
    assert bool(found) is expected
    if expected:
        assert found[0].severity is Severity.HIGH
        assert found[0].message.startswith("no valid distribution file name")
