"""An sdist's files as its build sees them: paths, directories, bounded reads, module lookup.

:class:`SourceTree` is the read-only view :mod:`verify._behaviour.buildconfig` and
:mod:`verify._behaviour.buildtime` share: which files and directories exist (paths relative to
the sdist root), which directories are regular packages, which files a module name stands
for, and each file's bytes through the caller's reader, within a byte budget. Nothing here
executes or imports what it reads; :func:`parse_python` only builds an AST, and refuses input
too large to do that in bounded time.
"""

from __future__ import annotations

import ast
import io
import posixpath
import tokenize
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final

__all__ = [
    "MAX_PARSE_BYTES",
    "MAX_READ_BYTES",
    "SourceTree",
    "decode_source",
    "existing",
    "join_root",
    "normalize",
    "parse_python",
    "walk_code",
]

#: Files larger than this are not read at all (real build scripts are kilobytes).
MAX_READ_BYTES: Final = 8 * 1024 * 1024
#: Everything read from one tree, in total; beyond it files count as unreadable.
MAX_TREE_BYTES: Final = 64 * 1024 * 1024
#: Source larger than this is not parsed into an AST: the parser's time and memory grow with
#: it, and hostile files are built to exhaust both. Such files are scanned as text instead.
MAX_PARSE_BYTES: Final = 1024 * 1024


def normalize(path: str) -> str | None:
    """``path`` as a clean relative POSIX path, or ``None`` if it leaves the tree."""
    text = path.replace("\\", "/").strip()
    if not text or text.startswith("/") or "\x00" in text:
        return None
    clean = posixpath.normpath(text)
    if clean == "." or clean == ".." or clean.startswith("../"):
        return None
    return clean


def decode_source(data: bytes) -> str:
    """Python source bytes as text, honouring a PEP 263 coding cookie; never raises."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding, errors="replace")
    except (SyntaxError, LookupError):
        return data.decode("utf-8", errors="replace")


def parse_python(text: str) -> ast.Module | None:
    """The module's AST, or ``None`` when it is too large or does not parse."""
    if len(text) > MAX_PARSE_BYTES:
        return None
    try:
        # The parser warns about invalid escapes; hostile input must neither print that nor
        # fail under warnings-as-errors.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def walk_code(node: ast.AST) -> Iterator[ast.AST]:
    """Like :func:`ast.walk`, without constants and load/store contexts.

    Those make up most nodes of hostile files (a megabyte-long literal list) and say nothing
    about what code runs; leaving them out keeps a walk several times cheaper.
    """
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for name in current._fields:
            value = getattr(current, name, None)
            if isinstance(value, list):
                stack.extend(
                    item
                    for item in value
                    if isinstance(item, ast.AST) and not isinstance(item, _SKIPPED)
                )
            elif isinstance(value, ast.AST) and not isinstance(value, _SKIPPED):
                stack.append(value)


_SKIPPED: Final = (ast.Constant, ast.expr_context)


class SourceTree:
    """The regular files of an sdist (relative to its root) and bounded access to them."""

    def __init__(self, paths: Iterable[str], read: Callable[[str], bytes]) -> None:
        #: Clean path -> the name the caller's reader knows it by.
        self.original: dict[str, str] = {}
        for path in paths:
            clean = normalize(path)
            if clean is not None:
                self.original.setdefault(clean, path)
        self.files: frozenset[str] = frozenset(self.original)
        dirs: set[str] = set()
        for path in self.files:
            parent = path.rpartition("/")[0]
            while parent and parent not in dirs:
                dirs.add(parent)
                parent = parent.rpartition("/")[0]
        children: dict[str, set[str]] = {}
        for directory in dirs:
            grand, _, name = directory.rpartition("/")
            children.setdefault(grand, set()).add(name)
        #: Every directory that holds a file ("" is the root and is not listed).
        self.dirs: frozenset[str] = frozenset(dirs)
        #: Directories holding an ``__init__.py``: regular packages.
        self.packages: frozenset[str] = frozenset(
            path.rpartition("/")[0] for path in self.files if path.endswith("/__init__.py")
        )
        self._children = {key: tuple(sorted(value)) for key, value in children.items()}
        self._read = read
        self._spent = 0
        self._cache: dict[str, bytes | None] = {}
        #: Why some file could not be read, one phrase each (for the report's notes).
        self.problems: list[str] = []

    def subdirs(self, directory: str) -> tuple[str, ...]:
        """Names of the directories directly under ``directory`` ("" is the root)."""
        return self._children.get(directory, ())

    def under(self, directory: str) -> Iterable[str]:
        """Every file inside ``directory`` ("" is the whole tree)."""
        if not directory:
            return self.files
        prefix = directory + "/"
        return (path for path in self.files if path.startswith(prefix))

    def read(self, path: str) -> bytes | None:
        """The bytes of file ``path``; ``None`` if absent, too large, over budget or unreadable."""
        if path in self._cache:
            return self._cache[path]
        data: bytes | None = None
        name = self.original.get(path)
        if name is not None and self._spent < MAX_TREE_BYTES:
            try:
                data = self._read(name)
            # The reader is the caller's: whatever it raises, the file is just unreadable.
            except Exception as exc:
                self.problems.append(f"{path}: not readable ({type(exc).__name__})")
                data = None
            if data is not None and len(data) > MAX_READ_BYTES:
                self.problems.append(f"{path}: {len(data):,} bytes, over the reading limit")
                data = None
            self._spent += len(data) if data is not None else 0
        elif name is not None:
            self.problems.append(f"{path}: not read, the tree's reading budget is spent")
        self._cache[path] = data
        return data

    def text(self, path: str) -> str | None:
        data = self.read(path)
        return None if data is None else decode_source(data)

    def module_files(self, dotted: str, root: str) -> list[str] | None:
        """The files importing ``dotted`` runs when ``root`` is on ``sys.path``.

        Each enclosing package's ``__init__.py`` runs before the module itself. ``None`` when
        the top-level name is not in the tree at ``root``; when only a leading part is found
        (``from pkg import name`` where ``name`` is an attribute), that part's files.
        """
        parts = dotted.split(".")
        if not parts or not all(part.isidentifier() for part in parts):
            return None
        executed: list[str] = []
        base = root
        for index, part in enumerate(parts):
            here = posixpath.join(base, part) if base else part
            last = index == len(parts) - 1
            if f"{here}/__init__.py" in self.files:
                executed.append(f"{here}/__init__.py")
            elif f"{here}.py" in self.files:
                executed.append(f"{here}.py")
                # A module, not a package: nothing deeper can be imported from it.
                return executed
            elif here not in self.dirs:
                # Not here. A missing top-level name means another root (or an installed
                # distribution) provides it.
                return executed if index else None
            if last:
                return executed
            base = here
        return executed

    def package_of(self, path: str) -> str:
        """The directory a module's relative imports start from."""
        return path.rpartition("/")[0]


def join_root(root: str, path: str) -> str:
    """``path`` under directory ``root`` ("" is the tree's root)."""
    return f"{root}/{path}" if root else path


def existing(tree: SourceTree, candidates: Sequence[str], bases: Sequence[str]) -> list[str]:
    """Those of ``candidates`` (relative paths) that name a file, tried under each of ``bases``."""
    found: dict[str, None] = {}
    for candidate in dict.fromkeys(candidates):
        for base in bases:
            clean = normalize(join_root(base, candidate))
            if clean is not None and clean in tree.files:
                found[clean] = None
                break
    return list(found)
