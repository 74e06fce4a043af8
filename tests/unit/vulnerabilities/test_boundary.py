"""pip-audit's private modules are imported in one module of ``verify``, and the rest of
pip-verify speaks its own :class:`~verify._vulnerabilities.VulnerabilitySource`."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from pip_audit._service.interface import VulnerabilityService

import verify
from verify._verifier import Verifier
from verify._vulnerabilities import (
    OsvApiService,
    OsvOfflineService,
    PipAuditSource,
    VulnerabilitySource,
)
from verify.check import vulnerability_service

PACKAGE = Path(verify.__file__).resolve().parent
BOUNDARY = PACKAGE / "_vulnerabilities" / "pip_audit_boundary.py"


def _private_pip_audit_imports(path: Path) -> list[str]:
    """The ``pip_audit._...`` modules ``path`` imports (``import``, ``from ... import``)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("pip_audit._")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith("pip_audit._"):
                found.append(node.module)
            elif node.module == "pip_audit":
                found += [
                    f"pip_audit.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    return found


def test_only_the_boundary_module_imports_pip_audit_private_modules() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): imports
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != BOUNDARY and (imports := _private_pip_audit_imports(path))
    }
    assert offenders == {}
    # The check sees the imports it is looking for: the boundary module has them.
    assert _private_pip_audit_imports(BOUNDARY)


def test_the_import_check_sees_every_form(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        "import pip_audit._cli\n"
        "from pip_audit._service import osv\n"
        "from pip_audit import _fix, __version__\n"
        "import pip_audit\n"
        "from . import _service\n"
        "def inner() -> None:\n"
        "    from pip_audit._service.interface import ServiceError\n"
    )
    assert sorted(_private_pip_audit_imports(module)) == [
        "pip_audit._cli",
        "pip_audit._fix",
        "pip_audit._service",
        "pip_audit._service.interface",
    ]


def test_the_osv_sources_are_ours_and_still_pip_audit_services() -> None:
    for source in (OsvApiService, OsvOfflineService):
        assert issubclass(source, VulnerabilitySource)
        assert issubclass(source, VulnerabilityService)
    assert issubclass(PipAuditSource, VulnerabilitySource)


def test_the_engine_and_check_take_our_interface() -> None:
    parameter = inspect.signature(Verifier).parameters["vulnerabilities"]
    assert parameter.annotation == "VulnerabilitySource | None"
    assert inspect.signature(vulnerability_service).return_annotation == "VulnerabilitySource"
