"""What one file the build runs makes run in turn, before it is looked up in the tree.

:class:`Uses` is what the readers of :mod:`verify._behaviour.buildtime_python` and
:mod:`verify._behaviour.buildtime_scripts` find in a file: imports, executed files, programs
run and ``sys.path`` entries. :func:`note_command` reads a command line the same way for both:
its program, what follows an interpreter, and any word naming a script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

__all__ = ["MAX_IMPORTS", "MAX_NAMES", "PYTHON", "SCRIPT_SUFFIXES", "Uses", "note_command"]


#: Paths one file names that are looked up in the tree.
MAX_NAMES: Final = 5000
#: Distinct imports looked up per file.
MAX_IMPORTS: Final = 5000

#: ``sys.executable`` among a command's words.
PYTHON: Final = "\x00python"
_INTERPRETERS: Final = frozenset(
    {"python", "py", "pythonw", "pypy", "sh", "bash", "zsh", "dash", "cmd", "powershell", "pwsh"}
    | {"node", "perl", "ruby", "wscript", "cscript", "source", "."}
)
SCRIPT_SUFFIXES: Final = (
    *(".py", ".pyw", ".sh", ".bash", ".bat", ".cmd", ".ps1", ".pl", ".rb", ".js", ".vbs"),
    ".exe",
)
_SEPARATORS: Final = frozenset({";", "&&", "||", "|", "&"})


@dataclass(slots=True)
class Uses:
    """What one file makes run, before lookup in the tree."""

    #: (module, level, imported names): ``from ..a import b`` is ("a", 2, ("b",)).
    imports: list[tuple[str, int, tuple[str, ...]]] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    run: list[str] = field(default_factory=list)
    sys_path: list[str] = field(default_factory=list)


def note_command(words: Sequence[str], uses: Uses) -> None:
    """The files and modules a command runs: its program, what follows an interpreter
    (``python x.py``, ``sh build.sh``, ``python -m pkg.tool``), and any word naming a script.
    A file a command only reads or writes (``env > LICENSE``, ``cat NOTES``) is not run."""
    for index, word in enumerate(words):
        previous = words[index - 1] if index else ";"
        if not word or word == PYTHON:
            continue
        if previous == "-m" and index >= 2 and _interpreter(words[index - 2]):
            uses.imports.append((word, 0, ()))
        elif (
            previous in _SEPARATORS
            or _interpreter(previous)
            or word.lower().endswith(SCRIPT_SUFFIXES)
        ):
            uses.run.append(word)


def _interpreter(word: str) -> bool:
    program = word.replace("\\", "/").rpartition("/")[2].lower().removesuffix(".exe")
    return word == PYTHON or program.rstrip("0123456789.") in _INTERPRETERS
