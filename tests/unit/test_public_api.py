"""The public API: ``import verify`` offers the commands, their settings, the policy, the
results and the errors, loaded on first use."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import verify
from verify import _version

ROOT = Path(__file__).resolve().parents[2]


def test_every_public_name_resolves_to_the_object_its_module_defines() -> None:
    for name in verify.__all__:
        value = getattr(verify, name)
        if name == "__version__":
            continue
        assert value is getattr(sys.modules[verify._EXPORTS[name]], name)
        assert not getattr(value, "__module__", "verify").startswith("pip_audit")


def test_all_lists_exactly_the_exports() -> None:
    assert sorted(verify.__all__) == sorted(["__version__", *verify._EXPORTS])
    assert set(verify._EXPORTS) <= set(dir(verify))


def test_the_commands_are_typed_functions_returning_data() -> None:
    for name in ("run_check", "run_screen", "run_diff", "run_install"):
        function = getattr(verify, name)
        signature = inspect.signature(function)
        assert signature.return_annotation not in (inspect.Signature.empty, "None"), name
        assert function.__doc__, name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = verify.nothing


def test_the_version_is_one_value() -> None:
    # flit reads verify/__init__.py; the rest of the package reads verify._version.
    assert verify.__version__ == _version.__version__


def test_importing_verify_loads_no_command() -> None:
    code = (
        "import sys, verify\n"
        "loaded = [m for m in ('verify.check', 'verify.models', 'verify._verifier') "
        "if m in sys.modules]\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"
