"""How risky a newly added entry point is: a script named like a system command, a plugin in
a group other tools load on their own, or a reference straight into the standard library."""

from __future__ import annotations

import re
from typing import Final

from verify._rules.behaviour import BEHAVIOUR_RULES
from verify.models import Severity

__all__ = ["entry_point_risk"]

# Console scripts with these names shadow a command people run every day (and often with
# sudo): a classic way to get code run without anyone importing the package.
_SYSTEM_COMMANDS: Final = frozenset(
    {
        "apt",
        "apt-get",
        "bash",
        "brew",
        "cat",
        "cd",
        "cp",
        "curl",
        "docker",
        "env",
        "git",
        "gpg",
        "kubectl",
        "ls",
        "make",
        "mv",
        "node",
        "npm",
        "pip",
        "python",
        "rm",
        "scp",
        "sh",
        "ssh",
        "su",
        "sudo",
        "wget",
        "zsh",
    }
)
_SCRIPT_GROUPS: Final = frozenset({"console_scripts", "gui_scripts"})
# Entry-point groups other tools load on their own, without the user naming the package: a
# plugin here runs inside every pytest run, every setuptools build of any project, and so on.
_AUTOLOAD_GROUPS: Final = frozenset(
    {
        "distutils.commands",
        "distutils.setup_keywords",
        "egg_info.writers",
        "flake8.extension",
        "flake8.report",
        "pytest11",
        "setuptools.file_finders",
        "setuptools.finalize_distribution_options",
        "tox",
        "virtualenv.activate",
        "virtualenv.create",
        "virtualenv.discovery",
        "virtualenv.seed",
    }
)
# An entry point naming one of these modules runs a standard-library primitive directly
# (``os:system``), not the package's own code: nothing legitimate needs that.
_RISKY_MODULES: Final = frozenset(
    {"base64", "builtins", "codecs", "ctypes", "importlib", "marshal", "os", "pty", "runpy"}
    | {"socket", "subprocess", "sys", "urllib"}
)
# ``module.path[:attr.path] [extras]``, as the entry points specification defines an object
# reference; anything else is not a reference an installer can load.
_OBJECT_REFERENCE: Final = re.compile(
    r"[A-Za-z_][\w.]*(?:\s*:\s*[A-Za-z_][\w.]*)?(?:\s*\[[^\]\n]*\])?", re.ASCII
)


def entry_point_risk(
    group: str, name: str, value: str, project: str | None
) -> tuple[Severity, str]:
    """The severity of a new entry point, and why it is more than low (``""`` if it is not)."""
    if group in _SCRIPT_GROUPS:
        # "python3.12" and "pip3" shadow "python" and "pip" just the same.
        command = name.strip().lower().rstrip("0123456789.")
        # pip's "pip3" is pip's own command; anyone else's "pip" is not.
        if command in _SYSTEM_COMMANDS and command != project:
            return Severity.HIGH, f", a script named like the system command {command!r}"
    if group in _AUTOLOAD_GROUPS:
        return Severity.MEDIUM, f", in a group other tools load automatically ({group!r})"
    if not _OBJECT_REFERENCE.fullmatch(value.strip()):
        return Severity.MEDIUM, ", whose value is not a module:attribute reference"
    module = value.strip().split(":", 1)[0].split(".", 1)[0].strip()
    if module in _RISKY_MODULES:
        return Severity.MEDIUM, f", pointing straight into the standard library's {module!r}"
    return BEHAVIOUR_RULES["entry-point-added"].severity, ""
