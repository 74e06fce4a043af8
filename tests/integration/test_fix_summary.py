"""``pip-verify fix --output-dir`` and, in GitHub Actions, the job summary ``fix`` appends:
what the Action's ``fix: suggest`` shows (see tests/integration/test_action_e2e.py for the
Action itself). In-process, on the loopback index of tests/helpers/fix_scenario.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.fix_scenario import (
    ADVISORY,
    add_foo_releases,
    lock,
    options,
    pylock_text,
    run,
    write_osv_database,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def index(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    add_foo_releases(package_index, dist_factory)
    return package_index


@pytest.fixture
def osv(tmp_path: Path) -> Path:
    return write_osv_database(tmp_path / "osv")


@pytest.fixture
def summary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A GitHub Actions job summary file, as the runner provides it."""
    path = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    return path


def test_output_dir_mirrors_the_lock_path_and_the_summary_shows_the_diff(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
    summary: Path,
) -> None:
    # Relative paths, as the Action passes them from the repository's root.
    Path("deps").mkdir()
    requirements = lock(index, Path("deps/requirements.txt"))
    before = requirements.read_text(encoding="utf-8")
    given = options(index, osv, tmp_path)

    code, out = run(capsys, "fix", "deps/requirements.txt", "--output-dir", "fixed", *given)

    assert code == 0, out
    fixed = Path("fixed/deps/requirements.txt")
    assert f"wrote {fixed}" in out
    digest = index.files["foo-1.2-py3-none-any.whl"].sha256
    assert f"foo==1.2 \\\n    --hash=sha256:{digest}\n" in fixed.read_text(encoding="utf-8")
    assert requirements.read_text(encoding="utf-8") == before
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## pip-verify fix: `deps/requirements.txt`\n")
    assert "| foo | 1.0 | **1.2** | \\[vulnerability\\] GHSA-aaaa-bbbb-cccc" in text
    assert "<summary>releases tried</summary>" in text
    assert "- foo 1.1: foo 1.1: \\[download-exec\\]" in text
    old = index.files["foo-1.0-py3-none-any.whl"].sha256
    diff = (
        "```diff\n--- a/deps/requirements.txt\n+++ b/deps/requirements.txt\n"
        "@@ -1,4 +1,4 @@\n # pinned by hand\n bar==1.0 --hash=sha256:"
    )
    assert diff in text
    assert (
        f"-foo==1.0 \\\n-    --hash=sha256:{old}\n+foo==1.2 \\\n+    --hash=sha256:{digest}\n```\n"
        in (text)
    )
    assert "The fixed lock checks allow:" in text


def test_a_pylock_diff_moves_the_version_and_the_wheel(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
    summary: Path,
) -> None:
    Path("pylock.toml").write_text(pylock_text(index), encoding="utf-8")
    given = options(index, osv, tmp_path)

    code, out = run(capsys, "fix", "pylock.toml", "--output-dir", "fixed", *given)

    assert code == 0, out
    fixed = Path("fixed/pylock.toml").read_text(encoding="utf-8")
    assert fixed == pylock_text(index, foo="1.2")
    assert Path("pylock.toml").read_text(encoding="utf-8") == pylock_text(index)
    text = summary.read_text(encoding="utf-8")
    assert '-version = "1.0"  # pinned by hand\n+version = "1.2"  # pinned by hand\n' in text
    assert "+wheels = [{ url = " in text
    assert index.files["foo-1.2-py3-none-any.whl"].sha256 in text


def test_for_a_lock_its_tool_owns_the_summary_shows_the_commands(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
    summary: Path,
) -> None:
    entry = index.files["foo-1.0-py3-none-any.whl"]
    wheel = (
        f'{{ url = "{index.file_url(entry.filename)}", hash = "sha256:{entry.sha256}", '
        f"size = {entry.size} }}"
    )
    registry = index.url.rstrip("/")
    Path("uv.lock").write_text(
        f'version = 1\n\n[[package]]\nname = "foo"\nversion = "1.0"\n'
        f'source = {{ registry = "{registry}" }}\nwheels = [\n    {wheel},\n]\n',
        encoding="utf-8",
    )

    code, out = run(
        capsys, "fix", "uv.lock", "--output-dir", "fixed", *options(index, osv, tmp_path)
    )

    assert code == 0, out
    assert not Path("fixed").exists()
    text = summary.read_text(encoding="utf-8")
    assert "| foo | 1.0 | **1.2** |" in text
    assert (
        "uv owns this lock; make the change with:\n\n```sh\nuv lock --upgrade-package foo==1.2\n```"
        in (text)
    )
    assert "then check the new lock: `pip-verify check uv.lock`" in text
    assert "```diff" not in text


def test_with_no_passing_lock_the_summary_says_so_without_a_diff(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
    summary: Path,
) -> None:
    lock(index, Path("requirements.txt"))
    given = options(index, osv, tmp_path)

    code, out = run(
        capsys, "fix", "requirements.txt", "--allow", "patch", "--output-dir", "fixed", *given
    )

    assert code == 1, out
    assert not Path("fixed").exists()
    text = summary.read_text(encoding="utf-8")
    assert "No lock within patch updates passes the policy" in text
    assert "| foo | 1.0 | kept |" in text
    assert ADVISORY in text
    assert "```" not in text


def test_a_lock_that_passes_has_nothing_to_fix(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
    summary: Path,
) -> None:
    bar = index.files["bar-1.0-py3-none-any.whl"].sha256
    Path("requirements.txt").write_text(f"bar==1.0 --hash=sha256:{bar}\n", encoding="utf-8")

    code, out = run(capsys, "fix", "requirements.txt", *options(index, osv, tmp_path))

    assert code == 0, out
    assert summary.read_text(encoding="utf-8") == (
        "## pip-verify fix: `requirements.txt`\n\n"
        "Nothing to fix: no package of this lock is denied or known vulnerable.\n\n"
    )


def test_outside_github_actions_no_summary_is_written(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    lock(index, Path("requirements.txt"))

    code, out = run(capsys, "fix", "requirements.txt", "--dry-run", *options(index, osv, tmp_path))

    assert code == 0, out
    assert not summary.exists()


def test_a_summary_that_cannot_be_written_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))  # a directory
    lock(index, Path("requirements.txt"))

    code, out = run(capsys, "fix", "requirements.txt", "--dry-run", *options(index, osv, tmp_path))

    assert code == 2
    assert "cannot append to $GITHUB_STEP_SUMMARY" in out


def test_the_output_dir_never_writes_over_the_lock(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, osv: Path, tmp_path: Path
) -> None:
    requirements = lock(index, Path("requirements.txt"))
    before = requirements.read_text(encoding="utf-8")

    code, out = run(
        capsys, "fix", "requirements.txt", "--output-dir", ".", *options(index, osv, tmp_path)
    )

    assert code == 2
    assert "the fixed lock would be written over requirements.txt" in out
    assert requirements.read_text(encoding="utf-8") == before


def test_output_and_output_dir_exclude_each_other(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(capsys, "fix", "requirements.txt", "-o", "a.txt", "--output-dir", "b")
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
