"""Sorting positional inputs of ``check`` into requirements, files and locks."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify.check import sort_inputs


@pytest.mark.parametrize(
    "requirement",
    [
        "requests==2.32.3",
        "flask>=3",
        "demo[extra]; python_version >= '3.10'",
        "demo @ https://files.example/demo-1.0-py3-none-any.whl",
        "demo@https://files.example/demo-1.0.tar.gz",
    ],
)
def test_requirements_stay_requirements(requirement: str) -> None:
    assert sort_inputs([requirement]).requirements == (requirement,)


def test_files_are_sorted_by_kind(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    reqs = tmp_path / "requirements-dev.txt"
    reqs.write_text("demo\n")
    lock = tmp_path / "pylock.dev.toml"
    sorted_inputs = sort_inputs([str(wheel), str(reqs), str(lock), "dist/demo-2.0.tar.gz"])
    assert sorted_inputs.dist_files == (wheel, Path("dist/demo-2.0.tar.gz"))
    assert sorted_inputs.requirement_files == (reqs,)
    assert sorted_inputs.lock_files == (lock,)
    assert sorted_inputs.requirements == ()


def test_missing_txt_is_a_requirement_name(tmp_path: Path) -> None:
    # pip would take it as a project name too; the resolver then says it does not exist.
    assert sort_inputs(["absent.txt"]).requirements == ("absent.txt",)
