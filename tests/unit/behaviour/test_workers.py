"""The behaviour diff in worker processes gives what it gives in this process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.corpus import BASE, MALICIOUS
from tests.helpers.dists import build_wheel
from verify._behaviour.diff import DistFile, diff_distributions
from verify._behaviour.workers import AnalysisPool, usable_cores
from verify._checks.typosquat import PopularNames
from verify.errors import ArchiveError


def test_a_diff_in_a_worker_equals_the_diff_here(tmp_path: Path) -> None:
    variant = next(v for v in MALICIOUS if v.id == "pth-file")
    old_path = build_wheel(BASE, tmp_path / "old")
    new_path = build_wheel(variant.build(), tmp_path / "new")
    new, old = DistFile(new_path, new_path.name), DistFile(old_path, old_path.name)
    here = diff_distributions(new, old, baseline_reason="compared", popular=PopularNames.load())
    with AnalysisPool(2) as pool:
        there = pool.diff(new, old, "compared")
    assert there == here
    assert any(f.rule == "pth-exec" for f in there.findings)


def test_an_unreadable_archive_is_the_same_error_from_a_worker(tmp_path: Path) -> None:
    broken = tmp_path / "demo-1.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ArchiveError) as here:
        diff_distributions(DistFile(broken, broken.name), None)
    with AnalysisPool(1) as pool, pytest.raises(ArchiveError) as there:
        pool.diff(DistFile(broken, broken.name), None, "none")
    assert there.value.one_line() == here.value.one_line()


def test_usable_cores_are_at_most_the_machine_s() -> None:
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)
