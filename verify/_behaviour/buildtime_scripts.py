"""What build files in other languages than Python run, read as text.

``meson.build`` (``subdir()``, scripts in ``files()``/``run_command()``/``command:``, not
``install_sources``), CMake (``add_subdirectory``, ``include``, ``execute_process``/custom
commands), Cargo build scripts (the scripts their string literals name) and shell scripts (the
program of each command and what follows an interpreter). :func:`build_language` tells which
reader a file the build runs gets; the scans are linear whatever a file holds.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Final

from verify._behaviour.buildtime_uses import MAX_NAMES, SCRIPT_SUFFIXES, Uses, note_command

__all__ = ["SCANNERS", "build_language"]


_QUOTED: Final = re.compile(r"""['"]([^'"\\\n]{1,300})['"]""")
_MESON_SUBDIR: Final = re.compile(r"""\bsubdir\(\s*['"]([^'"\n]{1,300})['"]""")
_MESON_RUNNERS: Final = re.compile(
    r"\b(?:files|find_program|run_command|generator)\s*\(|\bcommand\s*:\s*\["
)
_MAX_CALL_SPAN: Final = 2000
_BRACKETS: Final = re.compile(r"[()\[\]]")
_CMAKE_SUBDIR: Final = re.compile(r"\badd_subdirectory\(\s*\"?([^\s\")]{1,300})", re.IGNORECASE)
_CMAKE_INCLUDE: Final = re.compile(r"\binclude\(\s*\"?([^\s\")]{1,300}\.cmake)", re.IGNORECASE)
#: A process a CMake file starts, and the text after it (parentheses nest, so a fixed span).
_CMAKE_COMMAND: Final = re.compile(
    r"\b(?:execute_process|add_custom_command|add_custom_target)\s*\(([^\x00]{0,1000})",
    re.IGNORECASE,
)
_CMAKE_VARIABLE: Final = re.compile(r"^(?:\$\{[^}]{0,100}\}/)+")
_MAX_SHELL_LINES: Final = 20_000


def build_language(path: str, why: str) -> str:
    """How to read a file the build runs: ``python``, ``meson``, ``cmake``, ``shell``, ``rust``
    or ``other`` (a compiled or unknown program: nothing to follow)."""
    name = path.rpartition("/")[2].lower()
    if name.endswith((".py", ".pyw")) or why.startswith(("executed by", "imported by")):
        return "python"
    if name in ("meson.build", "meson.options", "meson_options.txt"):
        return "meson"
    if name == "cmakelists.txt" or name.endswith(".cmake"):
        return "cmake"
    if name.endswith((".sh", ".bash")):
        return "shell"
    if name.endswith(".rs"):
        return "rust"
    return "python" if "." not in name else "other"


def _scan_meson(text: str) -> Uses:
    """What a ``meson.build`` runs: its ``subdir()`` files, and the scripts named in
    ``files()``, ``find_program()``, ``run_command()``, ``generator()`` and ``command:``
    (generators are usually bound to a variable through ``files()`` first). Files it only
    installs (``install_sources``) do not run."""
    uses = Uses()
    uses.run.extend(f"{d}/meson.build" for d in _MESON_SUBDIR.findall(text))
    kept = _without_calls(text, "install_sources")
    position = 0
    while (match := _MESON_RUNNERS.search(kept, position)) is not None:
        span = _call_span(kept, match.end() - 1)
        # Spans never overlap, so the scan stays linear whatever the file holds.
        position = match.end() - 1 + len(span)
        uses.run.extend(q for q in _QUOTED.findall(span) if q.lower().endswith(SCRIPT_SUFFIXES))
    return uses


def _call_span(text: str, start: int) -> str:
    """From the bracket at ``start`` to its match, at most :data:`_MAX_CALL_SPAN` long."""
    depth = 0
    end = min(len(text), start + _MAX_CALL_SPAN)
    for bracket in _BRACKETS.finditer(text, start, end):
        depth += 1 if bracket.group() in "([" else -1
        if depth <= 0:
            return text[start : bracket.end()]
    return text[start:end]


def _without_calls(text: str, name: str) -> str:
    """``text`` without the calls to ``name`` (see :func:`_call_span`); linear time."""
    pieces: list[str] = []
    position = 0
    while (start := text.find(f"{name}(", position)) >= 0:
        pieces.append(text[position:start])
        position = start + len(name) + len(_call_span(text, start + len(name)))
    pieces.append(text[position:])
    return "".join(pieces)


def _scan_cmake(text: str) -> Uses:
    """What a CMake file runs: ``add_subdirectory`` and ``include`` files, and the scripts its
    processes and custom commands name."""
    uses = Uses()
    uses.run.extend(f"{d}/CMakeLists.txt" for d in _CMAKE_SUBDIR.findall(text))
    uses.run.extend(_CMAKE_INCLUDE.findall(text))
    for span in _CMAKE_COMMAND.findall(text):
        for word in span.replace('"', " ").replace(")", " ").split():
            word = _CMAKE_VARIABLE.sub("", word)
            if word.lower().endswith(SCRIPT_SUFFIXES):
                uses.run.append(word)
    return uses


def _scan_shell(text: str) -> Uses:
    """What a shell script runs, command by command (see :func:`note_command`)."""
    uses = Uses()
    for line in text.splitlines()[:_MAX_SHELL_LINES]:
        note_command(line.split("#", 1)[0].replace(";", " ; ").split(), uses)
    return uses


def _scan_rust(text: str) -> Uses:
    """What a Cargo build script runs: the scripts its string literals name (it starts them
    with ``Command::new``, often through an interpreter found at build time)."""
    uses = Uses()
    quoted = itertools.islice(_QUOTED.finditer(text), MAX_NAMES * 4)
    uses.run.extend(q.group(1) for q in quoted if q.group(1).lower().endswith(SCRIPT_SUFFIXES))
    return uses


def _scan_other(text: str) -> Uses:
    """A compiled or unknown program: what it runs cannot be read."""
    return Uses()


SCANNERS: Final[dict[str, Callable[[str], Uses]]] = {
    "meson": _scan_meson,
    "cmake": _scan_cmake,
    "shell": _scan_shell,
    "rust": _scan_rust,
    "other": _scan_other,
}
