"""The composite GitHub Action (``action.yml``): its interface, how it pins what it runs, and
its shell steps, run under bash against a stand-in ``pip-verify`` and ``gh``."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
REQUIREMENTS = ROOT / ".github" / "requirements-action.txt"
MARKER = "<!-- pip-verify -->"
COMMENT_LIMIT = 65_536
#: The CPython versions the hash-pinned requirements are generated for.
PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
SHA = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")

needs_bash = pytest.mark.skipif(
    shutil.which("bash") is None or sys.platform == "win32", reason="needs bash"
)
needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq (as gh --jq)")


@functools.cache
def _action() -> dict[str, Any]:
    loaded = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _steps() -> list[dict[str, Any]]:
    steps = _action()["runs"]["steps"]
    assert isinstance(steps, list)
    return steps


def _step(name: str) -> dict[str, Any]:
    (step,) = [s for s in _steps() if s.get("id") == name or s.get("name") == name]
    return step


def _run_steps() -> list[dict[str, Any]]:
    return [s for s in _steps() if "run" in s]


def _expression(value: str) -> str:
    """The expression inside ``${{ }}``, or the value itself (``if:`` may omit them)."""
    match = re.fullmatch(r"\$\{\{\s*(.*?)\s*\}\}", value.strip())
    return match.group(1) if match else value.strip()


# --- interface --------------------------------------------------------------------------


def test_runs_as_a_composite_action() -> None:
    assert _action()["runs"]["using"] == "composite"
    assert _action()["name"] == "pip-verify"
    assert _action()["description"].strip()


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("lockfiles", ""),
        ("policy", ""),
        ("base", "${{ github.event.pull_request.base.sha }}"),
        ("fail-on", "deny"),
        ("sarif", ""),
        ("python-version", "3.12"),
        ("offline", "false"),
        ("comment", "false"),
        ("github-token", "${{ github.token }}"),
        ("fix", "off"),
        ("fix-allow", "minor"),
    ],
)
def test_input_has_a_description_and_its_default(name: str, default: str) -> None:
    spec = _action()["inputs"][name]
    assert spec["description"].strip()
    assert spec["default"] == default
    assert spec.get("required", False) is False


def test_inputs_are_exactly_the_documented_ones() -> None:
    assert set(_action()["inputs"]) == {
        "lockfiles",
        "policy",
        "base",
        "fail-on",
        "sarif",
        "python-version",
        "offline",
        "comment",
        "github-token",
        "fix",
        "fix-allow",
    }


@pytest.mark.parametrize("name", ["decision", "report", "sarif", "exit-code"])
def test_output_comes_from_the_check_step(name: str) -> None:
    spec = _action()["outputs"][name]
    assert spec["description"].strip()
    assert spec["value"] == f"${{{{ steps.check.outputs.{name} }}}}"


def test_fixed_locks_dir_comes_from_the_fix_step() -> None:
    spec = _action()["outputs"]["fixed-locks-dir"]
    assert spec["description"].strip()
    assert spec["value"] == "${{ steps.fix.outputs.fixed-locks-dir }}"


def test_decision_output_documents_every_value() -> None:
    description = _action()["outputs"]["decision"]["description"]
    for value in ("allow", "warn", "deny", "incomplete", "error"):
        assert f"`{value}`" in description


def test_every_input_is_used() -> None:
    used = json.dumps([s.get("env", {}) for s in _steps()] + [s.get("with", {}) for s in _steps()])
    used += json.dumps([s.get("if", "") for s in _steps()])
    for name in _action()["inputs"]:
        assert f"inputs.{name} " in used or f"inputs.{name}'" in used, name


# --- pins and the user's environment ----------------------------------------------------


def test_every_action_is_pinned_to_a_commit() -> None:
    uses = [s["uses"] for s in _steps() if "uses" in s]
    assert uses
    for ref in uses:
        assert SHA.match(ref), ref


def test_setup_python_leaves_the_environment_alone() -> None:
    step = _step("python")
    assert step["uses"].startswith("actions/setup-python@")
    assert step["with"]["python-version"] == "${{ inputs.python-version }}"
    assert step["with"]["update-environment"] is False


def test_no_run_script_contains_an_expression() -> None:
    assert _run_steps()
    for step in _run_steps():
        assert "${{" not in step["run"], step.get("name")


def test_run_steps_use_bash_with_strict_mode() -> None:
    for step in _run_steps():
        assert step["shell"] == "bash"
        assert step["run"].lstrip().startswith("set -euo pipefail\n"), step.get("name")


def test_run_step_env_values_are_single_expressions_or_constants() -> None:
    for step in _run_steps():
        for key, value in step.get("env", {}).items():
            assert isinstance(value, str), key
            assert value.count("${{") <= 1, key
            if "${{" in value:
                assert value.startswith("${{"), key


def test_the_venv_lives_under_the_runner_temp_dir() -> None:
    venvs = {s["env"]["PV_VENV"] for s in _run_steps() if "PV_VENV" in s.get("env", {})}
    assert venvs == {"${{ runner.temp }}/pip-verify-venv"}
    assert _step("check")["env"]["PV_WORK"] == "${{ runner.temp }}/pip-verify"


def test_install_step_requires_hashes_and_builds_from_the_action_path() -> None:
    step = _step("install")
    assert step["env"] == {
        "PV_PYTHON": "${{ steps.python.outputs.python-path }}",
        "PV_VENV": "${{ runner.temp }}/pip-verify-venv",
        "PV_ACTION_PATH": "${{ github.action_path }}",
    }
    script = step["run"]
    assert '"$PV_PYTHON" -m venv --clear "$PV_VENV"' in script
    assert "--require-hashes" in script
    assert "--only-binary=:all:" in script
    assert '-r "$PV_ACTION_PATH/.github/requirements-action.txt"' in script
    # pip-verify itself: no dependencies, no index, the pinned flit_core as build backend.
    for option in ("--no-deps", "--no-build-isolation", "--no-index", '"$PV_ACTION_PATH"'):
        assert option in script
    assert script.index("--require-hashes") < script.index("--no-build-isolation")


def test_comment_step_is_opt_in_and_uses_the_hidden_marker() -> None:
    step = _step("Comment on the pull request")
    assert _expression(step["if"]) == "inputs.comment == 'true'"
    assert step["env"]["PV_MARKER"] == MARKER
    assert step["env"]["PV_LIMIT"] == str(COMMENT_LIMIT)
    assert step["env"]["GH_TOKEN"] == "${{ inputs.github-token }}"
    assert step["env"]["PV_PR"] == "${{ github.event.pull_request.number }}"
    assert "$PV_MARKER" in step["run"]


def test_the_decision_is_applied_last() -> None:
    assert _steps()[-1]["name"] == "Apply the decision"
    names = [s.get("id") or s.get("name") for s in _steps()]
    assert names.index("check") < names.index("fix") < names.index("Upload the fixed lock files")
    assert names.index("Upload the fixed lock files") < names.index("Comment on the pull request")


def test_the_fixed_locks_are_uploaded_only_when_written_and_never_fail_the_action() -> None:
    step = _step("Upload the fixed lock files")
    assert step["uses"].startswith("actions/upload-artifact@")
    assert _expression(step["if"]) == "steps.fix.outputs.fixed-locks-dir != ''"
    # A failed upload must not stand in for the check's decision, which the last step applies.
    assert step["continue-on-error"] is True
    assert step["with"]["path"] == "${{ steps.fix.outputs.fixed-locks-dir }}"
    # The artifact the summary names, with lock files under hidden directories kept.
    assert step["with"]["name"] == _step("fix")["env"]["PV_ARTIFACT"]
    assert step["with"]["include-hidden-files"] is True


# --- the hash-pinned requirements -------------------------------------------------------


def _requirement_entries() -> list[tuple[Requirement, list[str]]]:
    text = REQUIREMENTS.read_text(encoding="utf-8")
    logical = re.sub(r"\\\n", " ", text)
    entries = []
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        options = line.split(" --")
        requirement = Requirement(options[0].strip())
        entries.append((requirement, ["--" + option.strip() for option in options[1:]]))
    return entries


def test_requirements_file_pins_every_line_with_sha256_hashes() -> None:
    entries = _requirement_entries()
    assert entries
    for requirement, options in entries:
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1, requirement
        assert specifiers[0].operator == "==", requirement
        assert options, requirement
        for option in options:
            assert re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", option), option


def test_requirements_file_names_no_host() -> None:
    text = REQUIREMENTS.read_text(encoding="utf-8")
    assert "://" not in text
    assert not re.search(r"--(extra-)?index-url|--find-links|-f ", text)


def _applicable(requirement: Requirement, python: str) -> bool:
    if requirement.marker is None:
        return True
    return requirement.marker.evaluate({"python_version": python, "python_full_version": python})


@pytest.mark.parametrize("python", PYTHONS)
def test_requirements_pin_each_package_once_per_python(python: str) -> None:
    names = [canonicalize_name(r.name) for r, _ in _requirement_entries() if _applicable(r, python)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("python", PYTHONS)
def test_requirements_cover_the_runtime_dependencies_and_flit_core(python: str) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pinned = {
        canonicalize_name(r.name): r for r, _ in _requirement_entries() if _applicable(r, python)
    }
    wanted = [Requirement(d) for d in pyproject["project"]["dependencies"]]
    wanted += [Requirement(d) for d in pyproject["build-system"]["requires"]]
    for requirement in wanted:
        if requirement.marker is not None and not requirement.marker.evaluate(
            {"python_version": python, "python_full_version": python}
        ):
            continue
        pin = pinned.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{requirement} is not pinned for Python {python}"
        (version,) = (s.version for s in pin.specifier)
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)
        assert requirement.extras <= pin.extras, (requirement, pin)


def test_requirement_markers_parse() -> None:
    for requirement, _ in _requirement_entries():
        if requirement.marker is not None:
            Marker(str(requirement.marker))


# --- the shell steps, run under bash ----------------------------------------------------

FAKE_PIP_VERIFY = """\
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a", encoding="utf-8") as log:
    record = {
        "args": args,
        "github_actions": os.environ.get("GITHUB_ACTIONS"),
        "summary": os.environ.get("GITHUB_STEP_SUMMARY"),
        "cache": os.environ.get("PIP_VERIFY_CACHE_DIR"),
    }
    log.write(json.dumps(record) + "\\n")
if args[0] == "fix":
    out = next(a.split("=", 1)[1] for a in args if a.startswith("--output-dir="))
    lock = args[-1]
    if os.environ.get("FAKE_FIX_WRITES") and lock in os.environ["FAKE_FIX_WRITES"].split():
        os.makedirs(os.path.join(out, os.path.dirname(lock)), exist_ok=True)
        with open(os.path.join(out, lock), "w", encoding="utf-8") as stream:
            stream.write("fixed\\n")
    sys.exit(int(os.environ.get("FAKE_FIX_EXIT", "0")))
code = int(os.environ.get("FAKE_EXIT", "0"))
if code != 2:
    fmt, out = args[args.index("--format") + 1], args[args.index("-o") + 1]
    with open(out, "w", encoding="utf-8") as stream:
        if fmt == "json":
            json.dump({"schema": "pip-verify/report/v1",
                       "decision": os.environ.get("FAKE_DECISION", "allow")}, stream)
        elif fmt == "sarif":
            json.dump({"version": "2.1.0", "runs": []}, stream)
        else:
            stream.write("## pip-verify\\n")
sys.exit(code)
"""

FAKE_GH = """\
import json, os, subprocess, sys
args = sys.argv[1:]
record = {"args": args, "GH_TOKEN": os.environ.get("GH_TOKEN"),
          "GH_HOST": os.environ.get("GH_HOST")}
if "--input" in args:
    with open(args[args.index("--input") + 1], encoding="utf-8") as stream:
        record["payload"] = json.load(stream)
with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(record) + "\\n")
if "--paginate" in args:
    if os.environ.get("FAKE_GH_LIST_FAILS"):
        sys.exit(1)
    with open(os.environ["FAKE_GH_COMMENTS"], encoding="utf-8") as stream:
        pages = json.load(stream)
    jq = args[args.index("--jq") + 1]
    for page in pages:
        out = subprocess.run(["jq", "-r", jq], input=json.dumps(page), text=True,
                             capture_output=True, check=True)
        sys.stdout.write(out.stdout)
    sys.exit(0)
method = args[args.index("--method") + 1]
if method == "PATCH":
    failing = os.environ.get("FAKE_GH_PATCH_FAILS", "").split()
    sys.exit(1 if args[args.index("--method") + 2].rsplit("/", 1)[1] in failing else 0)
sys.exit(int(os.environ.get("FAKE_GH_POST_EXIT", "0")))
"""


class Runner:
    """Runs one ``run:`` step of the action the way the runner does, with stand-ins."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.venv = tmp_path / "venv"
        self.work = tmp_path / "work"
        self.bin = tmp_path / "bin"
        self.log = tmp_path / "pip-verify.log"
        self.gh_log = tmp_path / "gh.log"
        self.outputs = tmp_path / "github-output"
        self.summary = tmp_path / "step-summary.md"
        self.repo = tmp_path / "repo"
        (self.venv / "bin").mkdir(parents=True)
        self.bin.mkdir()
        self._script(self.venv / "bin" / "python", f'exec "{sys.executable}" "$@"\n')
        self._script(self.venv / "bin" / "pip-verify", f'exec "{sys.executable}" -c "$FAKE" "$@"\n')
        self._script(self.bin / "gh", f'exec "{sys.executable}" -c "$FAKE_GH" "$@"\n')
        self.repo.mkdir()
        self.head = self._init_repo()

    @staticmethod
    def _script(path: Path, body: str) -> None:
        path.write_text("#!/usr/bin/env bash\n" + body, encoding="utf-8")
        path.chmod(0o755)

    def _git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=self.repo,
            env=self._base_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def _init_repo(self) -> str:
        self._git("init", "-q")
        (self.repo / "requirements.txt").write_text("demo==1.0\n", encoding="utf-8")
        self._git("add", "requirements.txt")
        self._git("commit", "-q", "-m", "base")
        return self._git("rev-parse", "HEAD")

    def _base_env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.tmp),
            "GIT_CONFIG_NOSYSTEM": "1",
            "LC_ALL": "C.UTF-8",
        }

    def run(
        self, step: dict[str, Any], values: Mapping[str, str], **extra: str
    ) -> subprocess.CompletedProcess[str]:
        """Run ``step`` with its ``env:`` keys set to ``values`` (every key, no others)."""
        assert set(values) == set(step.get("env", {})), "the step's env changed"
        script = self.tmp / "step.sh"
        script.write_text(step["run"], encoding="utf-8")
        env = {
            **self._base_env(),
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(self.outputs),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "RUNNER_OS": "Linux",
            "RUNNER_TEMP": str(self.tmp),
            "FAKE": FAKE_PIP_VERIFY,
            "FAKE_GH": FAKE_GH,
            "FAKE_LOG": str(self.log),
            "FAKE_GH_LOG": str(self.gh_log),
            **values,
            **extra,
        }
        # As the runner does: bash --noprofile --norc -eo pipefail {0}
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def gh_calls(self) -> list[dict[str, Any]]:
        if not self.gh_log.exists():
            return []
        return [json.loads(line) for line in self.gh_log.read_text(encoding="utf-8").splitlines()]

    def step_outputs(self) -> dict[str, str]:
        lines = self.outputs.read_text(encoding="utf-8").splitlines()
        return {key: value for key, _, value in (line.partition("=") for line in lines)}

    def check_env(self, **values: str) -> dict[str, str]:
        env = {
            "PV_VENV": str(self.venv),
            "PV_WORK": str(self.work),
            "PV_LOCKFILES": "",
            "PV_POLICY": "",
            "PV_BASE": self.head,
            "PV_FAIL_ON": "deny",
            "PV_SARIF": "",
            "PV_OFFLINE": "false",
            "PV_COMMENT": "false",
            "PV_FIX": "off",
            "PV_FIX_ALLOW": "minor",
        }
        env.update(values)
        return env

    def fix_env(self, packages: list[tuple[str, str]] | None, **values: str) -> dict[str, str]:
        """The fix step's environment after a denial, with a report of ``packages`` (their
        decision and lock file; ``None``: no report)."""
        report = ""
        if packages is not None:
            self.work.mkdir(exist_ok=True)
            path = self.work / "report.json"
            rows: list[dict[str, Any]] = [
                {"name": f"p{n}", "decision": decision, "source": {"path": lock, "line": 1}}
                for n, (decision, lock) in enumerate(packages)
            ]
            rows.append({"name": "local", "decision": "deny", "source": None})
            path.write_text(json.dumps({"decision": "deny", "packages": rows}), encoding="utf-8")
            report = str(path)
        env = {
            "PV_VENV": str(self.venv),
            "PV_WORK": str(self.work),
            "PV_FIX": "suggest",
            "PV_FIX_ALLOW": "minor",
            "PV_FAIL_ON": "deny",
            "PV_POLICY": "",
            "PV_OFFLINE": "false",
            "PV_DECISION": "deny",
            "PV_REPORT": report,
            "PV_ARTIFACT": _step("fix")["env"]["PV_ARTIFACT"],
        }
        env.update(values)
        return env


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    return Runner(tmp_path)


@needs_bash
def test_check_compares_with_the_base_and_writes_json(runner: Runner) -> None:
    done = runner.run(_step("check"), runner.check_env())
    assert done.returncode == 0, done.stderr
    report = str(runner.work / "report.json")
    (call,) = runner.calls()
    assert call["args"] == ["check", f"--base={runner.head}", "--format", "json", "-o", report]
    assert call["github_actions"] == "true"
    assert call["summary"] == str(runner.summary)
    assert call["cache"] == str(runner.work / "cache")
    assert runner.step_outputs() == {
        "decision": "allow",
        "exit-code": "0",
        "report": report,
        "sarif": "",
        "comment": "",
    }
    assert f"$ pip-verify check --base={runner.head} --format json -o {report}" in done.stdout


@needs_bash
def test_check_passes_lockfiles_policy_and_offline(runner: Runner) -> None:
    env = runner.check_env(
        PV_BASE="",
        PV_LOCKFILES="  requirements.txt \n\nsub dir/pylock.toml\n",
        PV_POLICY="policy.toml",
        PV_OFFLINE="true",
    )
    done = runner.run(_step("check"), env, FAKE_DECISION="warn", PIP_VERIFY_CACHE_DIR="/c")
    assert done.returncode == 0, done.stderr
    (call,) = runner.calls()
    assert call["args"] == [
        "check",
        "--policy=policy.toml",
        "--offline",
        "--format",
        "json",
        "-o",
        str(runner.work / "report.json"),
        "--",
        "requirements.txt",
        "sub dir/pylock.toml",
    ]
    assert call["cache"] == "/c"
    assert runner.step_outputs()["decision"] == "warn"


@needs_bash
@pytest.mark.parametrize(
    ("exit_code", "json_decision", "decision"),
    [
        (0, "allow", "allow"),
        (0, "warn", "warn"),
        (0, "deny", "error"),
        (1, "deny", "deny"),
        (3, "deny", "incomplete"),
        (2, "", "error"),
        (70, "", "error"),
    ],
)
def test_check_maps_the_exit_code_to_a_decision(
    runner: Runner, exit_code: int, json_decision: str, decision: str
) -> None:
    done = runner.run(
        _step("check"),
        runner.check_env(),
        FAKE_EXIT=str(exit_code),
        FAKE_DECISION=json_decision,
    )
    assert done.returncode == 0, done.stderr
    outputs = runner.step_outputs()
    assert outputs["decision"] == decision
    assert outputs["exit-code"] == str(exit_code)
    assert outputs["report"] == ("" if exit_code == 2 else str(runner.work / "report.json"))


@needs_bash
def test_check_writes_sarif_and_markdown_without_repeating_annotations(runner: Runner) -> None:
    sarif = runner.tmp / "out" / "nested" / "pip-verify.sarif"
    env = runner.check_env(PV_SARIF=str(sarif), PV_COMMENT="true")
    done = runner.run(_step("check"), env, FAKE_EXIT="1")
    assert done.returncode == 0, done.stderr
    first, second, third = runner.calls()
    assert first["github_actions"] == "true"
    markdown = str(runner.work / "comment.md")
    for call, fmt, out in ((second, "sarif", str(sarif)), (third, "markdown", markdown)):
        assert call["github_actions"] is None
        assert call["summary"] is None
        assert call["args"] == [
            "check",
            f"--base={runner.head}",
            "--no-record",
            "--quiet",
            "--format",
            fmt,
            "-o",
            out,
        ]
    outputs = runner.step_outputs()
    assert outputs["decision"] == "deny"
    assert outputs["sarif"] == str(sarif)
    assert outputs["comment"] == markdown
    assert json.loads(sarif.read_text(encoding="utf-8"))["version"] == "2.1.0"


@needs_bash
def test_check_skips_sarif_after_a_usage_error(runner: Runner) -> None:
    env = runner.check_env(PV_SARIF=str(runner.tmp / "x.sarif"), PV_COMMENT="true")
    done = runner.run(_step("check"), env, FAKE_EXIT="2")
    assert done.returncode == 0, done.stderr
    assert len(runner.calls()) == 1
    outputs = runner.step_outputs()
    assert (outputs["decision"], outputs["sarif"], outputs["comment"]) == ("error", "", "")


@needs_bash
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"PV_FAIL_ON": "error"}, "fail-on must be"),
        ({"PV_OFFLINE": "yes"}, "offline must be"),
        ({"PV_COMMENT": "1"}, "comment must be"),
        ({"PV_FIX": "yes"}, "fix must be"),
        ({"PV_FIX_ALLOW": "any"}, "fix-allow must be"),
        ({"PV_BASE": "--upload-pack=x"}, "base must be"),
        ({"PV_SARIF": "a\nb"}, "sarif must be"),
        ({"PV_BASE": ""}, "nothing to check"),
        ({"PV_BASE": "0" * 40}, "cannot fetch the base commit"),
    ],
)
def test_check_rejects_bad_inputs(runner: Runner, values: dict[str, str], message: str) -> None:
    done = runner.run(_step("check"), runner.check_env(**values))
    assert done.returncode == 2
    assert f"::error title=pip-verify::{message}" in done.stdout
    assert runner.calls() == []


@needs_bash
@pytest.mark.parametrize(
    ("decision", "fail_on", "exit_code", "expected"),
    [
        ("allow", "deny", "0", 0),
        ("allow", "warn", "0", 0),
        ("warn", "deny", "0", 0),
        ("warn", "warn", "0", 1),
        ("deny", "deny", "1", 1),
        ("deny", "warn", "1", 1),
        ("incomplete", "deny", "3", 3),
        ("error", "deny", "2", 2),
        ("error", "deny", "0", 2),
        ("error", "deny", "70", 70),
        ("", "deny", "", 2),
    ],
)
def test_the_decision_fails_the_step(
    runner: Runner, decision: str, fail_on: str, exit_code: str, expected: int
) -> None:
    values = {"PV_DECISION": decision, "PV_FAIL_ON": fail_on, "PV_EXIT": exit_code}
    done = runner.run(_step("Apply the decision"), values)
    assert done.returncode == expected, done.stdout + done.stderr
    assert ("::error title=pip-verify::" in done.stdout) == (expected != 0)


def _comment_env(
    runner: Runner, body: str | None = "## pip-verify\n", pr: str = "7"
) -> dict[str, str]:
    path = ""
    if body is not None:
        runner.work.mkdir(exist_ok=True)
        path = str(runner.work / "comment.md")
        Path(path).write_text(body, encoding="utf-8")
    step_env = _step("Comment on the pull request")["env"]
    return {
        "GH_TOKEN": "token",
        "PV_VENV": str(runner.venv),
        "PV_WORK": str(runner.work),
        "PV_BODY": path,
        "PV_REPOSITORY": "acme/app",
        "PV_PR": pr,
        "PV_MARKER": step_env["PV_MARKER"],
        "PV_LIMIT": step_env["PV_LIMIT"],
    }


def _comments(runner: Runner, pages: list[list[dict[str, Any]]]) -> str:
    path = runner.tmp / "comments.json"
    path.write_text(json.dumps(pages), encoding="utf-8")
    return str(path)


def _methods(calls: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for call in calls:
        args = call["args"]
        if "--paginate" in args:
            out.append(("GET", args[args.index("--paginate") + 1]))
        else:
            out.append((args[args.index("--method") + 1], args[args.index("--method") + 2]))
    return out


@needs_bash
def test_comment_needs_a_pull_request(runner: Runner) -> None:
    done = runner.run(_step("Comment on the pull request"), _comment_env(runner, pr=""))
    assert done.returncode == 0, done.stderr
    assert runner.gh_calls() == []


@needs_bash
def test_comment_without_a_report_warns(runner: Runner) -> None:
    done = runner.run(_step("Comment on the pull request"), _comment_env(runner, body=None))
    assert done.returncode == 0, done.stderr
    assert "::warning title=pip-verify::" in done.stdout
    assert runner.gh_calls() == []


@needs_bash
@needs_jq
def test_comment_updates_the_marked_comment_in_place(runner: Runner) -> None:
    pages: list[list[dict[str, Any]]] = [
        [{"id": 1, "body": "looks good"}, {"id": 2, "body": None}],
        [{"id": 3, "body": f"{MARKER}\nold report"}, {"id": 4, "body": f"quoting {MARKER}"}],
    ]
    done = runner.run(
        _step("Comment on the pull request"),
        _comment_env(runner),
        FAKE_GH_COMMENTS=_comments(runner, pages),
        GITHUB_SERVER_URL="https://git.example",
    )
    assert done.returncode == 0, done.stderr
    calls = runner.gh_calls()
    assert _methods(calls) == [
        ("GET", "repos/acme/app/issues/7/comments"),
        ("PATCH", "repos/acme/app/issues/comments/3"),
    ]
    assert calls[1]["payload"] == {"body": f"{MARKER}\n## pip-verify\n"}
    assert {(c["GH_TOKEN"], c["GH_HOST"]) for c in calls} == {("token", "git.example")}


@needs_bash
@needs_jq
def test_comment_is_created_when_none_is_marked(runner: Runner) -> None:
    pages: list[list[dict[str, Any]]] = [[{"id": 1, "body": "hello"}], []]
    done = runner.run(
        _step("Comment on the pull request"),
        _comment_env(runner),
        FAKE_GH_COMMENTS=_comments(runner, pages),
    )
    assert done.returncode == 0, done.stderr
    assert _methods(runner.gh_calls()) == [
        ("GET", "repos/acme/app/issues/7/comments"),
        ("POST", "repos/acme/app/issues/7/comments"),
    ]


@needs_bash
@needs_jq
def test_comment_is_created_when_the_marked_one_cannot_be_edited(runner: Runner) -> None:
    pages = [[{"id": 5, "body": f"{MARKER} by someone else"}]]
    done = runner.run(
        _step("Comment on the pull request"),
        _comment_env(runner),
        FAKE_GH_COMMENTS=_comments(runner, pages),
        FAKE_GH_PATCH_FAILS="5",
    )
    assert done.returncode == 0, done.stderr
    assert [m for m, _ in _methods(runner.gh_calls())] == ["GET", "PATCH", "POST"]


@needs_bash
@needs_jq
@pytest.mark.parametrize("failure", ["FAKE_GH_LIST_FAILS", "FAKE_GH_POST_EXIT"])
def test_comment_failures_warn_but_do_not_fail(runner: Runner, failure: str) -> None:
    done = runner.run(
        _step("Comment on the pull request"),
        _comment_env(runner),
        FAKE_GH_COMMENTS=_comments(runner, [[]]),
        **{failure: "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "::warning title=pip-verify::" in done.stdout


@needs_bash
@needs_jq
def test_comment_is_cut_to_githubs_limit(runner: Runner) -> None:
    row = "| pkg | 1.0 | verified | ünïcödé publisher |\n"
    body = "## pip-verify\n<details><summary>packages</summary>\n\n" + row * 4000 + "</details>\n"
    assert len(body) > COMMENT_LIMIT
    done = runner.run(
        _step("Comment on the pull request"),
        _comment_env(runner, body=body),
        FAKE_GH_COMMENTS=_comments(runner, [[]]),
    )
    assert done.returncode == 0, done.stderr
    posted = runner.gh_calls()[-1]["payload"]["body"]
    assert len(posted) <= COMMENT_LIMIT
    assert posted.startswith(MARKER + "\n## pip-verify\n")
    assert posted.count("<details>") == posted.count("</details>")
    assert "left out" in posted
    kept = posted.split("<details><summary>packages</summary>\n\n", 1)[1]
    assert kept.startswith(row)
    assert all(line == row.rstrip("\n") for line in kept.split("\n</details>")[0].splitlines())


# --- fix: suggest -----------------------------------------------------------------------

LOCKS = [("deny", "b/pylock.toml"), ("warn", "a.txt"), ("deny", "a.txt"), ("allow", "c.txt")]


@needs_bash
def test_fix_runs_on_each_lock_file_with_a_denied_package(runner: Runner) -> None:
    env = runner.fix_env(LOCKS, PV_POLICY="policy.toml", PV_OFFLINE="true")
    done = runner.run(_step("fix"), env, FAKE_FIX_WRITES="a.txt b/pylock.toml")
    assert done.returncode == 0, done.stderr
    fixed = runner.work / "fixed-locks"
    common = ["fix", "--allow=minor", f"--output-dir={fixed}", "--no-record"]
    options = ["--policy=policy.toml", "--offline", "--"]
    assert [c["args"] for c in runner.calls()] == [
        [*common, *options, "a.txt"],
        [*common, *options, "b/pylock.toml"],
    ]
    assert {c["cache"] for c in runner.calls()} == {str(runner.work / "cache")}
    assert f"$ pip-verify {' '.join(common + options)} a.txt" in done.stdout
    assert runner.step_outputs() == {"fixed-locks-dir": str(fixed)}
    assert (fixed / "b" / "pylock.toml").read_text(encoding="utf-8") == "fixed\n"
    assert "artifact `pip-verify-fixed-locks`" in runner.summary.read_text(encoding="utf-8")


@needs_bash
@pytest.mark.parametrize(
    ("fail_on", "expected"), [("deny", []), ("warn", ["a.txt", "b/pylock.toml"])]
)
def test_fix_after_warnings_only_when_they_fail_the_check(
    runner: Runner, fail_on: str, expected: list[str]
) -> None:
    env = runner.fix_env(
        [("warn", "a.txt"), ("warn", "b/pylock.toml")], PV_DECISION="warn", PV_FAIL_ON=fail_on
    )
    done = runner.run(_step("fix"), env)
    assert done.returncode == 0, done.stderr
    assert [c["args"][-1] for c in runner.calls()] == expected
    assert runner.step_outputs() == {"fixed-locks-dir": ""}


@needs_bash
@pytest.mark.parametrize(
    "values",
    [
        {"PV_FIX": "off"},
        {"PV_DECISION": "allow"},
        {"PV_DECISION": "incomplete"},
        {"PV_DECISION": "error"},
    ],
)
def test_fix_stays_off_unless_asked_and_denied(runner: Runner, values: dict[str, str]) -> None:
    done = runner.run(_step("fix"), runner.fix_env(LOCKS, **values), FAKE_FIX_WRITES="a.txt")
    assert done.returncode == 0, done.stderr
    assert runner.calls() == []
    assert runner.step_outputs() == {"fixed-locks-dir": ""}
    assert not runner.summary.exists()


@needs_bash
def test_fix_without_a_report_does_nothing(runner: Runner) -> None:
    done = runner.run(_step("fix"), runner.fix_env(None))
    assert done.returncode == 0, done.stderr
    assert runner.calls() == []
    assert runner.step_outputs() == {"fixed-locks-dir": ""}


@needs_bash
@pytest.mark.parametrize(("exit_code", "warned"), [(1, False), (2, True), (3, True)])
def test_a_fix_that_fails_never_fails_the_step(
    runner: Runner, exit_code: int, warned: bool
) -> None:
    done = runner.run(_step("fix"), runner.fix_env(LOCKS), FAKE_FIX_EXIT=str(exit_code))
    assert done.returncode == 0, done.stderr
    assert len(runner.calls()) == 2
    assert ("::warning title=pip-verify::pip-verify fix did not finish" in done.stdout) == warned
    assert runner.step_outputs() == {"fixed-locks-dir": ""}
