"""``pip-verify shim``: route a virtual environment's ``pip install`` through ``pip-verify
install``, for the installs coding agents run in a terminal.

``install`` replaces the environment's ``pip`` console scripts (``bin/pip``, ``bin/pip3``,
``bin/pip3.X``) with small wrappers. A wrapper sends ``pip install ...`` to ``pip-verify
install --python <the environment> ...`` (the pip-verify that installed the shim) and every
other pip command to the environment's real pip (``python -m pip``), unchanged. The original
scripts are kept, byte for byte with their modes, under ``<venv>/.pip-verify-shim/``, and
``uninstall`` puts them back.

``python -m pip`` runs pip's module directly and no wrapper sees it. With ``proxy``, the
shim also writes the environment's own pip configuration (``<venv>/pip.conf``, which pip
reads for that environment only) so that every pip in it, ``python -m pip`` included, reads
only the verified index (``pip-verify proxy``); an existing ``pip.conf`` is kept and restored.
No ``.pth`` or ``sitecustomize`` hook is used: code run at interpreter start-up is exactly what
pip-verify warns about.

POSIX virtual environments only (``bin/``); Windows' ``Scripts\\pip.exe`` launchers are not
wrapped.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from verify.errors import UsageError

__all__ = [
    "SHIM_DIR",
    "ShimState",
    "agent_config",
    "environment_of",
    "install_shim",
    "uninstall_shim",
]

#: Where the originals and the record of what was changed are kept, inside the environment.
SHIM_DIR = ".pip-verify-shim"
_MANIFEST = "manifest.json"
_MARK = "# pip-verify shim"
_CONFIG = "pip.conf"


@dataclass(frozen=True, slots=True)
class ShimState:
    """What the shim changed in one environment."""

    venv: Path
    #: The scripts that are wrappers now (names under ``bin/``).
    wrapped: tuple[str, ...]
    #: The index every pip of the environment reads, when the shim set one.
    proxy: str | None = None


def _environment(venv: Path) -> Path:
    """``venv``'s interpreter; a usage error for anything but a POSIX virtual environment."""
    if not (venv / "pyvenv.cfg").is_file():
        raise UsageError(
            f"{venv} is not a virtual environment (it has no pyvenv.cfg)",
            hint="name one with --venv, or activate it",
        )
    python = venv / "bin" / "python"
    if not python.exists():
        raise UsageError(
            f"{venv} has no bin/python",
            hint="pip-verify shim wraps POSIX virtual environments only",
        )
    return python


def _wrapper(environment: Path, pip_verify: str) -> str:
    # The wrapper runs with the environment's own interpreter and imports nothing but os and
    # sys: it works whatever the environment holds.
    return f"""#!{environment}
{_MARK}: `pip install` is verified by pip-verify first; any other pip command is pip's.
# `pip-verify shim uninstall --venv {environment.parent.parent}` puts the original back.
import os
import sys

ENVIRONMENT = {str(environment)!r}
PIP_VERIFY = [{pip_verify!r}, "-m", "verify"]
args = sys.argv[1:]
command = next((arg for arg in args if not arg.startswith("-")), None)
if command == "install":
    at = args.index("install")
    # Options before the command go along: pip-verify refuses any it does not take (exit 2).
    rest = [*args[:at], *args[at + 1 :]]
    os.execv(PIP_VERIFY[0], [*PIP_VERIFY, "install", "--python", ENVIRONMENT, *rest])
os.execv(ENVIRONMENT, [ENVIRONMENT, "-m", "pip", *args])
"""


def install_shim(
    venv: Path, *, pip_verify_python: str | None = None, proxy: str | None = None
) -> ShimState:
    """Wrap ``venv``'s pip scripts (and with ``proxy`` set its pip configuration to read only
    that index); ``pip_verify_python`` runs pip-verify (default: this interpreter).

    Raises :class:`~verify.errors.UsageError` when ``venv`` is not a virtual environment or
    already has the shim.
    """
    venv = venv.absolute()
    environment = _environment(venv)
    store = venv / SHIM_DIR
    if (store / _MANIFEST).exists():
        raise UsageError(
            f"{venv} already has the pip-verify shim",
            hint=f"pip-verify shim uninstall --venv {venv} first",
        )
    bin_dir = venv / "bin"
    existing = sorted(
        path.name
        for path in bin_dir.iterdir()
        if _is_pip_script(path.name) and path.is_file() and not path.is_symlink()
    )
    names = existing or ["pip", "pip3"]
    store.mkdir(mode=0o700, exist_ok=True)
    record: dict[str, object] = {"format": "pip-verify/shim/v1", "scripts": {}, "config": None}
    scripts: dict[str, object] = {}
    for name in names:
        path = bin_dir / name
        if path.exists():
            (store / name).write_bytes(path.read_bytes())
            scripts[name] = {"mode": stat.S_IMODE(path.stat().st_mode), "created": False}
        else:
            scripts[name] = {"mode": 0o755, "created": True}
    record["scripts"] = scripts
    if proxy is not None:
        config = venv / _CONFIG
        had = config.exists()
        if had:
            (store / _CONFIG).write_bytes(config.read_bytes())
        record["config"] = {"created": not had, "index-url": proxy}
    # The record first: an interrupted install can then always be undone.
    (store / _MANIFEST).write_text(json.dumps(record, indent=2), encoding="utf-8")
    wrapper = _wrapper(environment, pip_verify_python or sys.executable)
    for name in names:
        path = bin_dir / name
        path.write_text(wrapper, encoding="utf-8")
        path.chmod(0o755)
    if proxy is not None:
        (venv / _CONFIG).write_text(
            f"{_MARK}: every pip of this environment reads only the verified index.\n"
            f"[global]\nindex-url = {proxy}\n",
            encoding="utf-8",
        )
    return ShimState(venv, tuple(names), proxy)


def uninstall_shim(venv: Path) -> ShimState:
    """Put back what :func:`install_shim` changed in ``venv``, byte for byte.

    Raises :class:`~verify.errors.UsageError` when ``venv`` has no shim.
    """
    venv = venv.absolute()
    store = venv / SHIM_DIR
    try:
        record = json.loads((store / _MANIFEST).read_text("utf-8"))
        scripts = record["scripts"]
        config = record["config"]
    except FileNotFoundError:
        raise UsageError(f"{venv} has no pip-verify shim") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"the shim's record in {store} cannot be read: {exc}") from exc
    bin_dir = venv / "bin"
    for name, entry in scripts.items():
        path = bin_dir / name
        if entry["created"]:
            path.unlink(missing_ok=True)
            continue
        original = store / name
        path.write_bytes(original.read_bytes())
        path.chmod(entry["mode"])
        original.unlink()
    if config is not None:
        target = venv / _CONFIG
        if config["created"]:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes((store / _CONFIG).read_bytes())
            (store / _CONFIG).unlink()
    (store / _MANIFEST).unlink()
    store.rmdir()
    return ShimState(venv, tuple(scripts), config["index-url"] if config else None)


def _is_pip_script(name: str) -> bool:
    """``pip``, ``pip3``, ``pip3.12``: the console scripts pip installs."""
    rest = name.removeprefix("pip")
    return rest != name and all(c.isdigit() or c == "." for c in rest)


def environment_of(venv: Path) -> str:
    """``venv``'s interpreter, checked (for the configuration snippets)."""
    return str(_environment(venv.absolute()))


# The agent-runner snippets live beside the shim: the same choice of what to route.
def agent_config(venv: Path | None, proxy: str | None, pip_verify: str) -> dict[str, object]:
    """Configuration for agent runners that routes their installs through pip-verify: an MCP
    server entry (the ``mcpServers`` table MCP clients read), and a shell environment for
    agent sandboxes."""
    args = ["-m", "verify", "mcp", "--allow-install"]
    if venv is not None:
        args += ["--python", environment_of(venv)]
    if proxy is not None:
        args += ["--index-url", proxy]
    environment: dict[str, str] = {"PIP_REQUIRE_VIRTUALENV": "1"}
    if venv is not None:
        environment["VIRTUAL_ENV"] = str(venv.absolute())
        environment["PATH"] = f"{venv.absolute() / 'bin'}{os.pathsep}$PATH"
    if proxy is not None:
        environment["PIP_INDEX_URL"] = proxy
    return {
        "mcpServers": {"pip-verify": {"command": pip_verify, "args": args}},
        "environment": environment,
    }
