"""The GitHub workflow (``.github/workflows/ci.yml``): pinned actions, read-only token, the
README's test command on every supported Python, and the repository's own Action on a fixture
that stays hash-pinned."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]
PINNED = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+(\.\d+)*$")


@functools.cache
def _workflow() -> dict[Any, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _job(name: str) -> dict[str, Any]:
    job = _workflow()["jobs"][name]
    assert isinstance(job, dict)
    return job


def _readme_test_command() -> str:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    at = lines.index("<!-- test-command -->")
    assert lines[at + 1] == "```"
    return lines[at + 2]


def test_runs_on_push_and_pull_request_with_a_read_only_token() -> None:
    # YAML 1.1 reads the key `on` as true.
    assert set(_workflow()[True]) == {"push", "pull_request"}
    assert _workflow()["permissions"] == {"contents": "read"}
    for name, job in _workflow()["jobs"].items():
        assert "permissions" not in job, name


def test_every_action_is_pinned_by_commit_with_its_version() -> None:
    uses = [line for line in WORKFLOW.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    remote = [line for line in uses if line.split("uses:", 1)[1].strip() != "./"]
    assert len(remote) >= 3
    for line in remote:
        assert PINNED.match(line), line


def test_the_matrix_runs_the_readme_test_command_then_lint_and_types() -> None:
    job = _job("test")
    assert job["strategy"]["matrix"]["python-version"] == PYTHONS
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert any("apt-get install" in run and "redis-server" in run for run in runs)
    assert any("apt-get install" in run and "chromium-driver" in run for run in runs)
    assert _readme_test_command() in [run.strip() for run in runs]
    lint = "\n".join(runs)
    for command in ("ruff check .", "ruff format --check .", "mypy verify tests bench"):
        assert command in lint, command


def test_the_action_job_checks_the_fixture_with_this_checkout() -> None:
    steps = _job("action")["steps"]
    (own,) = [step for step in steps if step.get("uses") == "./"]
    assert steps.index(own) > 0
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert own["with"]["base"] == ""  # checked whole, on pushes too
    assert own["with"]["fail-on"] == "deny"
    fixture = ROOT / own["with"]["lockfiles"]
    assert fixture.is_file()
    action_inputs = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["inputs"]
    assert set(own["with"]) <= set(action_inputs)


def test_the_fixture_is_pinned_by_hash() -> None:
    steps = _job("action")["steps"]
    (own,) = [step for step in steps if step.get("uses") == "./"]
    text = (ROOT / own["with"]["lockfiles"]).read_text(encoding="utf-8")
    logical = [
        line.split("#", 1)[0].strip()
        for line in text.replace("\\\n", " ").splitlines()
        if line.split("#", 1)[0].strip()
    ]
    assert logical
    for line in logical:
        spec, *options = line.split()
        requirement = Requirement(spec)
        assert [s.operator for s in requirement.specifier] == ["=="], line
        assert options, line
        for option in options:
            assert re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", option), line


def test_the_workflow_matches_the_schema() -> None:
    # SchemaStore's workflow schema, as check-jsonschema ships it (no network).
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            "--color",
            "never",
            str(WORKFLOW),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("bad", ["actions/checkout@v5", "actions/checkout@08c6903c # v5.0.0"])
def test_the_pin_pattern_refuses_tags_and_short_shas(bad: str) -> None:
    assert not PINNED.match(f"      - uses: {bad}")
