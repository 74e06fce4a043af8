"""``pip-verify fix`` on a hashed requirements file and on a ``pylock.toml``, on a loopback
index where ``foo 1.0`` has a known vulnerability (an offline OSV database), ``1.1`` adds an
install hook, and ``1.2`` and ``2.0`` are clean: the smallest passing upgrade, ``1.2``, is
written with its hash, whatever ``--allow`` permits beyond it, and the written lock checks
clean. For ``uv.lock``, ``poetry.lock`` and ``Pipfile.lock``, the commands that make the
change are printed and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.fix_scenario import (
    MODULE,
    add_foo_releases,
    lock,
    options,
    pylock_text,
    run,
    tool_lock,
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


@pytest.mark.parametrize("allow", ["minor", "major"])
def test_fix_writes_the_smallest_passing_upgrade_and_it_checks_clean(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
    allow: str,
) -> None:
    requirements = lock(index, tmp_path / "requirements.txt")
    fixed = tmp_path / "fixed.txt"
    given = options(index, osv, tmp_path)
    code, out = run(capsys, "fix", requirements, "--allow", allow, "-o", fixed, *given)
    assert code == 0, out
    assert "foo: 1.0 -> 1.2" in out
    assert "GHSA-aaaa-bbbb-cccc" in out  # why it needed a fix
    assert "1.1: foo 1.1: [" in out  # the release tried first, and why it did not pass
    text = fixed.read_text()
    digest = index.files["foo-1.2-py3-none-any.whl"].sha256
    assert f"foo==1.2 \\\n    --hash=sha256:{digest}\n" in text
    assert text.startswith("# pinned by hand\nbar==1.0 --hash=sha256:")  # the rest kept
    assert requirements.read_text() == lock(index, tmp_path / "again.txt").read_text()

    code, out = run(capsys, "check", "-r", fixed, *given)
    assert code == 0, out


def test_dry_run_writes_nothing_and_json_says_what_would_change(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, osv: Path, tmp_path: Path
) -> None:
    requirements = lock(index, tmp_path / "requirements.txt")
    before = requirements.read_text()
    code, out = run(
        capsys,
        "fix",
        requirements,
        "--dry-run",
        "--format",
        "json",
        *options(index, osv, tmp_path),
    )
    assert code == 0, out
    document = json.loads(out)
    (change,) = document["changes"]
    assert (change["name"], change["from"], change["to"]) == ("foo", "1.0", "1.2")
    assert change["tried"][0]["version"] == "1.1"
    assert document["written"] is None
    assert requirements.read_text() == before


def test_a_package_with_no_passing_release_is_kept_and_said_why(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, osv: Path, tmp_path: Path
) -> None:
    requirements = lock(index, tmp_path / "requirements.txt")
    before = requirements.read_text()
    code, out = run(
        capsys,
        "fix",
        requirements,
        "--allow",
        "patch",
        *options(index, osv, tmp_path),
    )
    assert code == 1
    assert "foo: 1.0 kept, no release within the limits passes" in out
    assert requirements.read_text() == before


def test_fix_needs_a_hashed_lock(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    loose = tmp_path / "requirements.in"
    loose.write_text("foo>=1\n", encoding="utf-8")
    code, out = run(capsys, "fix", loose)
    assert code == 2
    assert "is not pinned with hashes" in out


def test_for_uv_lock_fix_prints_uvs_command(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, osv: Path, tmp_path: Path
) -> None:
    entry = index.files["foo-1.0-py3-none-any.whl"]
    uv_lock = tmp_path / "uv.lock"
    uv_lock.write_text(
        "\n".join(
            [
                "version = 1",
                'requires-python = ">=3.10"',
                "",
                "[[package]]",
                'name = "foo"',
                'version = "1.0"',
                f'source = {{ registry = "{index.url.rstrip("/")}" }}',
                "wheels = [",
                f'    {{ url = "{index.file_url(entry.filename)}", hash = "sha256:{entry.sha256}", '
                f"size = {entry.size} }},",
                "]",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    before = uv_lock.read_text()
    code, out = run(
        capsys,
        "fix",
        uv_lock,
        *options(index, osv, tmp_path),
    )
    assert code == 0, out
    assert "foo: 1.0 -> 1.2" in out
    assert "  uv lock --upgrade-package foo==1.2\n" in out
    assert uv_lock.read_text() == before  # uv owns the file


@pytest.mark.parametrize("allow", ["minor", "major"])
def test_fix_rewrites_a_pylock_in_its_own_layout_and_it_checks_clean(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
    allow: str,
) -> None:
    lock_file = tmp_path / "pylock.toml"
    lock_file.write_text(pylock_text(index), encoding="utf-8")
    fixed = tmp_path / "fixed" / "pylock.toml"
    fixed.parent.mkdir()
    given = options(index, osv, tmp_path)
    code, out = run(capsys, "fix", lock_file, "--allow", allow, "-o", fixed, *given)
    assert code == 0, out
    assert "foo: 1.0 -> 1.2" in out
    assert "1.1: foo 1.1: [" in out
    # foo's version and wheel are 1.2's; every other byte is as it was.
    assert fixed.read_text(encoding="utf-8") == pylock_text(index, foo="1.2")
    assert lock_file.read_text(encoding="utf-8") == pylock_text(index)

    code, out = run(capsys, "check", fixed, *given)
    assert code == 0, out


def test_fix_on_a_pylock_dry_run_writes_nothing(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, osv: Path, tmp_path: Path
) -> None:
    lock_file = tmp_path / "pylock.toml"
    lock_file.write_text(pylock_text(index), encoding="utf-8")
    code, out = run(
        capsys, "fix", lock_file, "--dry-run", "--format", "json", *options(index, osv, tmp_path)
    )
    assert code == 0, out
    document = json.loads(out)
    assert [(c["name"], c["to"]) for c in document["changes"]] == [("foo", "1.2")]
    assert document["written"] is None
    assert document["decision"] == "allow"
    assert lock_file.read_text(encoding="utf-8") == pylock_text(index)


def test_fix_on_a_pylock_that_passes_writes_nothing(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, osv: Path, tmp_path: Path
) -> None:
    lock_file = tmp_path / "pylock.toml"
    lock_file.write_text(pylock_text(index, foo="1.2"), encoding="utf-8")
    code, out = run(capsys, "fix", lock_file, *options(index, osv, tmp_path))
    assert code == 0, out
    assert out == "pip-verify fix: nothing to fix; every package passes\n"
    assert lock_file.read_text(encoding="utf-8") == pylock_text(index, foo="1.2")


def test_fix_on_pips_pylock_layout_moves_the_wheels_and_the_sdist(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    osv: Path,
    tmp_path: Path,
) -> None:
    """``[[packages.wheels]]`` and ``[packages.sdist]`` tables with their own ``hashes``
    tables, CRLF line ends and no newline at the end: written back the same way, with the
    size and upload time the index gives. A release without the sdist the entry has is passed
    over."""
    for version in ("1.0", "1.1", "1.2"):
        package_index.add(dist_factory.wheel("foo", version, files=MODULE))
    for version in ("1.0", "1.2"):
        package_index.add(dist_factory.sdist("foo", version, files=MODULE))

    def entry(version: str, *, sized: bool) -> str:
        wheel = package_index.files[f"foo-{version}-py3-none-any.whl"]
        sdist = package_index.files[f"foo-{version}.tar.gz"]
        size = ["upload-time = 2024-01-01T00:00:00Z", f"size = {sdist.size}"] if sized else []
        return "\r\n".join(
            [
                "[[packages]]",
                'name = "foo"',
                f'version = "{version}"',
                "",
                "[packages.sdist]",
                f'name = "{sdist.filename}"',
                f'url = "{package_index.file_url(sdist.filename)}"',
                *size,
                "",
                "[packages.sdist.hashes]",
                f'sha256 = "{sdist.sha256}"',
                "",
                "[[packages.wheels]]",
                f'name = "{wheel.filename}"',
                f'url = "{package_index.file_url(wheel.filename)}"',
                "upload-time = 2024-01-01T00:00:00Z",
                f"size = {wheel.size}",
                "",
                "[packages.wheels.hashes]",
                f'sha256 = "{wheel.sha256}"',
            ]
        )

    lock_file = tmp_path / "pylock.toml"
    head = 'lock-version = "1.0"\r\ncreated-by = "pip"\r\n\r\n'
    lock_file.write_bytes(f"{head}{entry('1.0', sized=False)}".encode())
    code, out = run(capsys, "fix", lock_file, *options(package_index, osv, tmp_path))
    assert code == 0, out
    assert "1.1: no sdist on the index, and the lock's entry has one" in out
    assert lock_file.read_bytes().decode() == f"{head}{entry('1.2', sized=True)}"


def test_fix_uses_only_the_index_a_pylock_entry_names(
    capsys: pytest.CaptureFixture[str], index: PackageIndex, osv: Path, tmp_path: Path
) -> None:
    lock_file = tmp_path / "pylock.toml"
    foo = f'\nwheels = [{{ url = "{index.file_url("foo-1.0-py3-none-any.whl")}'
    text = pylock_text(index).replace(
        f'index = "{index.url}"{foo}', f'index = "https://other.example/simple/"{foo}'
    )
    assert text != pylock_text(index)
    lock_file.write_text(text, encoding="utf-8")
    code, out = run(capsys, "fix", lock_file, *options(index, osv, tmp_path))
    assert code == 2, out
    assert "names the index https://other.example/simple/" in out
    assert lock_file.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    ("name", "group", "command"),
    [
        ("poetry.lock", "main", "poetry add --lock foo==1.2"),
        ("poetry.lock", "dev", "poetry add --lock --group dev foo==1.2"),
        ("Pipfile.lock", "default", "pipenv upgrade --lock-only foo==1.2"),
        ("Pipfile.lock", "develop", "pipenv upgrade --lock-only --dev foo==1.2"),
    ],
)
def test_for_poetry_and_pipenv_locks_fix_prints_their_commands(
    capsys: pytest.CaptureFixture[str],
    index: PackageIndex,
    osv: Path,
    tmp_path: Path,
    name: str,
    group: str,
    command: str,
) -> None:
    lock_file = tool_lock(index, tmp_path, name, group)
    before = lock_file.read_bytes()
    code, out = run(capsys, "fix", lock_file, *options(index, osv, tmp_path))
    assert code == 0, out
    assert "foo: 1.0 -> 1.2" in out
    assert f"owns {name}; make the change with:\n  {command}\n" in out
    assert f"then check the new lock: pip-verify check {lock_file}\n" in out
    assert lock_file.read_bytes() == before  # the tool owns the file
