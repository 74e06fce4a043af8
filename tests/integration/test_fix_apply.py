"""``pip-verify fix --apply``: the real uv (from the test extra) runs the commands ``fix``
prints for a ``uv.lock`` of a project on the loopback index of tests/helpers/fix_scenario.py,
and the lock it writes is checked; when a command fails or the new lock is not what ``fix``
verified, the files are put back. Poetry and Pipenv are not installed here: for them, the
usage error when the tool is not on PATH (their commands are built in-process in
tests/unit/resolve/test_lock_commands.py). In-process, the check of a new lock against what
``fix`` verified."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.cli import check_json
from tests.helpers.fix_scenario import add_foo_releases, options, run, tool_lock, write_osv_database
from tests.helpers.policies import without_provenance_requirement
from verify._resolve.lockfiles import read_lock
from verify.check import CheckSettings
from verify.fix import FixChange, FixOutcome, FixSettings, check_applied
from verify.models import Decision, Report
from verify.settings import NetworkSettings, ResolutionSettings, VerificationSettings

pytestmark = pytest.mark.integration


def uv_executable() -> Path | None:
    found = shutil.which("uv")
    beside = Path(sys.executable).parent / "uv"
    return Path(found) if found else (beside if beside.is_file() else None)


UV = uv_executable()
needs_uv = pytest.mark.skipif(UV is None, reason="needs uv (pip install -e '.[test]')")


@pytest.fixture
def index(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    add_foo_releases(package_index, dist_factory)
    return package_index


@pytest.fixture
def osv(tmp_path: Path) -> Path:
    return write_osv_database(tmp_path / "osv")


@pytest.fixture
def uv_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """uv alone on PATH, with its cache and interpreter private to the test and no
    configuration or downloads of its own."""
    assert UV is not None
    for key in list(os.environ):
        if key.upper().startswith("UV_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PATH", str(UV.parent))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("UV_PYTHON", sys.executable)
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("UV_NO_PROGRESS", "1")


def project(tmp_path: Path, index: PackageIndex, requires: str = "foo>=1.0") -> Path:
    """A uv project needing ``requires`` and bar, locked by uv with foo at 1.0."""
    directory = tmp_path / "app"
    directory.mkdir()
    (directory / "pyproject.toml").write_text(
        "\n".join(
            [
                "[project]",
                'name = "app"',
                'version = "0.1"',
                'requires-python = ">=3.10"',
                f'dependencies = ["{requires}", "bar"]',
                "",
            ]
        ),
        encoding="utf-8",
    )
    assert UV is not None
    subprocess.run(
        [UV, "lock", "--default-index", index.url, "--upgrade-package", "foo==1.0"],
        cwd=directory,
        check=True,
        capture_output=True,
    )
    return directory / "uv.lock"


def versions(lock: Path) -> dict[str, tuple[str, str | None]]:
    return {
        p.candidate.name: (str(p.candidate.version), p.candidate.index_url)
        for p in read_lock(lock)
        if p.candidate.version is not None
    }


@needs_uv
@pytest.mark.usefixtures("uv_env")
def test_apply_runs_uv_and_the_new_lock_checks_clean(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
) -> None:
    uv_lock = project(tmp_path, index)
    assert versions(uv_lock)["foo"] == ("1.0", index.url)
    # Index settings in the environment would send uv elsewhere: --apply leaves them out.
    monkeypatch.setenv("UV_INDEX", "http://127.0.0.1:9/simple/")
    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://127.0.0.1:9/simple/")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")
    given = options(index, osv, tmp_path)

    code, out = run(capsys, "fix", uv_lock, "--apply", *given)

    assert code == 0, out
    assert "foo: 1.0 -> 1.2" in out
    assert "  uv lock --upgrade-package foo==1.2\n" in out  # the command to run by hand
    assert (
        f"pip-verify fix --apply: in {uv_lock.parent.as_posix()}, without the environment's "
        "index settings:\n"
        f"  $ uv lock --upgrade-package foo==1.2 --default-index {index.url}\n"
        "pip-verify fix --apply: the new uv.lock checks warn\n" in out
    )
    assert versions(uv_lock) == {
        "app": ("0.1", None),
        "bar": ("1.0", index.url),
        "foo": ("1.2", index.url),
    }
    # The new lock checks clean: its packages pass; the project itself (uv's virtual entry)
    # has no published bytes, a warning every uv project's lock gets.
    code, report = check_json(capsys, tmp_path, str(uv_lock), *map(str, given))
    assert code == 0
    decisions = {(p["name"], p["version"]): p["decision"] for p in report["packages"]}
    assert decisions == {("app", "0.1"): "warn", ("bar", "1.0"): "allow", ("foo", "1.2"): "allow"}


@needs_uv
@pytest.mark.usefixtures("uv_env")
def test_when_uv_fails_the_files_are_as_they_were(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, osv: Path, tmp_path: Path
) -> None:
    """The project keeps foo below 1.2, which fix cannot know: uv refuses foo==1.2."""
    uv_lock = project(tmp_path, index, requires="foo>=1.0,<1.2")
    before = uv_lock.read_bytes()
    given = options(index, osv, tmp_path)

    code, out = run(capsys, "fix", uv_lock, "--apply", *given)
    assert code == 3, out
    command = f"uv lock --upgrade-package foo==1.2 --default-index {index.url}"
    assert f"\npip-verify fix --apply: {command} exited 1\n" in out
    assert "we can conclude that your project's requirements are unsatisfiable" in out
    assert out.endswith("\npip-verify fix --apply: uv.lock is not changed\n")
    assert uv_lock.read_bytes() == before

    code, out = run(capsys, "fix", uv_lock, "--apply", "--format", "json", *given)
    assert code == 3, out
    applied = json.loads(out)["applied"]
    assert applied["error"].startswith(f"{command} exited 1\n")
    assert (applied["passed"], applied["decision"], applied["restored"]) == (False, None, [])
    assert applied["commands"] == [command.split()]
    assert uv_lock.read_bytes() == before


@needs_uv
@pytest.mark.usefixtures("uv_env")
def test_nothing_is_run_when_a_package_has_no_release_that_passes(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, osv: Path, tmp_path: Path
) -> None:
    uv_lock = project(tmp_path, index)
    before = uv_lock.read_bytes()
    given = options(index, osv, tmp_path)
    code, out = run(capsys, "fix", uv_lock, "--apply", "--allow", "patch", *given)
    assert code == 1, out
    assert out.endswith("\npip-verify fix --apply: nothing run, not every package passes\n")
    assert uv_lock.read_bytes() == before


@needs_uv
@pytest.mark.usefixtures("uv_env")
def test_a_lock_not_as_verified_is_put_back(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
) -> None:
    """The project's own uv.toml puts another index first, which serves its own foo 1.2: uv
    takes it from there, and the new lock is not what fix verified."""
    uv_lock = project(tmp_path, index)
    before = uv_lock.read_bytes()
    with PackageIndex(tmp_path / "other") as other:
        other.add(dist_factory.wheel("foo", "1.2", files={"foo/__init__.py": "# another\n"}))
        (uv_lock.parent / "uv.toml").write_text(
            f'[[index]]\nurl = "{other.url}"\n', encoding="utf-8"
        )
        code, out = run(capsys, "fix", uv_lock, "--apply", *options(index, osv, tmp_path))
        assert code == 1, out
        assert (
            f"  not as verified: foo 1.2 comes from {other.url}, not from {index.url} as "
            "before\n" in out
        )
    assert "pip-verify fix --apply: the new uv.lock does not pass" in out
    assert out.endswith("; put back as they were: uv.lock\n")
    assert uv_lock.read_bytes() == before


@pytest.mark.parametrize(
    ("name", "group", "tool"),
    [("poetry.lock", "main", "poetry"), ("Pipfile.lock", "default", "pipenv")],
)
def test_apply_needs_the_tool_on_path(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
    name: str,
    group: str,
    tool: str,
) -> None:
    lock_file = tool_lock(index, tmp_path, name, group)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, out = run(capsys, "fix", lock_file, "--apply", *options(index, osv, tmp_path))
    assert code == 2
    assert f"--apply needs {tool} on PATH to change {name}, and there is none" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--dry-run",), "--apply runs the tool's commands and --dry-run changes nothing"),
        (("-o", "out.lock"), "-o and --output-dir do not apply"),
        (("--output-dir", "fixed"), "-o and --output-dir do not apply"),
    ],
)
def test_apply_does_not_go_with_dry_run_or_an_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: tuple[str, ...], message: str
) -> None:
    code, out = run(capsys, "fix", tmp_path / "uv.lock", "--apply", *extra)
    assert code == 2
    assert message in out


def test_apply_is_for_the_locks_a_tool_owns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out = run(capsys, "fix", tmp_path / "requirements.txt", "--apply")
    assert code == 2
    assert "fix rewrites requirements.txt itself" in out


def uv_lock_text(index: PackageIndex, *pins: tuple[str, str]) -> str:
    """A uv.lock as uv writes it, with the given (name, version) from the index."""
    tables = []
    for name, version in pins:
        entry = index.files[f"{name}-{version}-py3-none-any.whl"]
        tables += [
            "",
            "[[package]]",
            f'name = "{name}"',
            f'version = "{version}"',
            f'source = {{ registry = "{index.url}" }}',
            f'wheels = [{{ url = "{index.file_url(entry.filename)}", '
            f'hash = "sha256:{entry.sha256}", size = {entry.size} }}]',
        ]
    return "\n".join(["version = 1", 'requires-python = ">=3.10"', *tables, ""])


def test_the_new_lock_is_held_to_what_fix_verified(
    index: PackageIndex, osv: Path, tmp_path: Path
) -> None:
    """In-process, on locks written by hand (what a tool could have written)."""
    settings = FixSettings(
        CheckSettings(
            resolution=ResolutionSettings(index_url=index.url),
            verification=VerificationSettings(
                policy_path=without_provenance_requirement(), vulnerability_db=osv, record=False
            ),
            network=NetworkSettings(cache_dir=tmp_path / "cache"),
        )
    )
    change = FixChange(canonicalize_name("foo"), Version("1.0"), Version("1.2"), "why")
    lock = tmp_path / "uv.lock"

    def held(old: str, new: str) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
        outcome = FixOutcome((change,), old, Report(Decision.DENY, ()), original=old)
        lock.write_text(new, encoding="utf-8")
        checked = check_applied(settings, outcome, lock)
        return checked.problems, checked.also, checked.passes

    both = uv_lock_text(index, ("bar", "1.0"), ("foo", "1.0"))
    assert held(both, uv_lock_text(index, ("foo", "1.1"))) == (
        ("foo is at 1.1, not at 1.2 as fix verified",),
        ("bar 1.0 removed",),
        False,
    )
    assert held(both, uv_lock_text(index, ("bar", "1.0"))) == (
        ("foo is out of the lock, not at 1.2 as fix verified",),
        (),
        False,
    )
    foo = uv_lock_text(index, ("foo", "1.0"))
    assert held(foo, uv_lock_text(index, ("bar", "1.0"), ("foo", "1.2"))) == (
        (),
        ("bar 1.0 added",),
        True,
    )
