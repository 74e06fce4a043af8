"""Which files of an sdist run while pip builds it: from the build's entry files, transitively.

:func:`follow` starts from what the build runs (``setup.py``, the in-tree backend module,
hooks) and follows, through each file's AST, everything that makes more of the tree run:
``import``/``from ... import`` (each enclosing package's ``__init__.py`` runs too),
``importlib.import_module``/``__import__``/``runpy.run_module`` with a literal name,
``exec``/``eval``/``compile``/``execfile``/``runpy.run_path``/file loaders over a literal path
(``os.path.join`` and ``/`` of literals included), ``open(...)`` of a ``.py`` file in a file
that also calls ``exec`` or ``compile`` (``exec(open(p).read())`` split over two lines), and
literal paths handed to ``subprocess``/``os.system``. Names are looked up in the tree under
every directory the build may have on ``sys.path``; a module found there is taken to be the one
imported (a local ``setuptools/`` shadows the real one).

A reached file is install-time even when it does not parse; then, and for files too large to
parse, a linear text scan for ``import`` lines and quoted ``.py`` names stands in for the AST.
Build files in other languages are scanned as text for what they run: ``meson.build``
(``subdir()``, scripts in ``files()``/``run_command()``/``command:``, not ``install_sources``),
CMake (``add_subdirectory``, ``include``, ``execute_process``/custom commands), Cargo build
scripts (the scripts their string literals name) and shell scripts (the program of each
command and what follows an interpreter). A script run as a
program has its own directory on ``sys.path``. The walk is bounded in files, bytes and names
per file, stops on cycles, and never raises.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from verify._behaviour.sourcetree import (
    MAX_PARSE_BYTES,
    SourceTree,
    existing,
    normalize,
    parse_python,
    walk_code,
)

__all__ = ["MAX_FOLLOWED_FILES", "Reached", "follow", "static_attribute"]

#: Files parsed or scanned while following install-time code; the rest stay unread.
MAX_FOLLOWED_FILES: Final = 200
#: Source parsed into ASTs in one walk, in total; later files are scanned as text.
_MAX_PARSED_TOTAL: Final = 4 * 1024 * 1024
#: Python text scanned by the fallback, per file.
_MAX_SCAN_CHARS: Final = 8 * 1024 * 1024
#: Build scripts in other languages scanned, per file (real ones are kilobytes; their scans
#: walk brackets in Python).
_MAX_BUILD_SCRIPT_CHARS: Final = 1024 * 1024
#: Paths one file names that are looked up in the tree.
_MAX_NAMES: Final = 5000
_MAX_JOIN_DEPTH: Final = 8
#: Distinct imports looked up per file.
_MAX_IMPORTS: Final = 5000

_EXEC_CALLS: Final = frozenset({"exec", "eval", "compile", "execfile"})
_PATH_RUNNERS: Final = frozenset(
    {"run_path", "spec_from_file_location", "SourceFileLoader", "load_source", "load_module"}
)
_MODULE_LOADERS: Final = frozenset({"import_module", "__import__", "run_module"})
_PROCESS_CALLS: Final = frozenset(
    {"system", "popen", "call", "check_call", "check_output", "run", "Popen", "getoutput"}
    | {"getstatusoutput", "spawnl", "spawnv", "execv", "execl", "execvp", "execlp"}
)
#: ``sys.executable`` among a command's words.
_PYTHON: Final = "\x00python"
_INTERPRETERS: Final = frozenset(
    {"python", "py", "pythonw", "pypy", "sh", "bash", "zsh", "dash", "cmd", "powershell", "pwsh"}
    | {"node", "perl", "ruby", "wscript", "cscript", "source", "."}
)
_SCRIPT_SUFFIXES: Final = (
    *(".py", ".pyw", ".sh", ".bash", ".bat", ".cmd", ".ps1", ".pl", ".rb", ".js", ".vbs"),
    ".exe",
)
_SEPARATORS: Final = frozenset({";", "&&", "||", "|", "&"})
_OPENERS: Final = frozenset({"open", "read_text", "read_bytes", "Path", "FileIO"})
_JOINERS: Final = frozenset({"join", "Path", "PurePath", "joinpath", "abspath", "realpath"})
_JOINERS_1: Final = frozenset({"normpath", "str", "fspath"})

_IMPORT_LINE: Final = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.{0,50}(?:\w[\w.]{0,200})?)[ \t]+import[ \t]+\(?([\w, \t]{1,2000})"
    r"|import[ \t]+([\w., \t]{1,2000}))",
    re.MULTILINE,
)
_QUOTED_FILE: Final = re.compile(r"""['"]([^'"\\\n]{1,300}\.py)['"]""")
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


@dataclass(slots=True)
class Reached:
    """The install-time files found, each with why, and what stopped the walk early."""

    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Uses:
    """What one file makes run, before lookup in the tree."""

    #: (module, level, imported names): ``from ..a import b`` is ("a", 2, ("b",)).
    imports: list[tuple[str, int, tuple[str, ...]]] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    run: list[str] = field(default_factory=list)
    sys_path: list[str] = field(default_factory=list)


def follow(
    tree: SourceTree,
    start: Iterable[tuple[str, str]],
    roots: Sequence[str],
    *,
    parsed: Mapping[str, ast.Module] | None = None,
) -> Reached:
    """Every file reachable from the ``(path, why)`` files in ``start``, with why.

    ``roots`` are the directories (relative to the sdist root, "" for the root) the build may
    have on ``sys.path``; ``parsed`` holds ASTs the caller already has, by path.
    """
    reached = Reached()
    search = list(dict.fromkeys(roots))
    queue: deque[str] = deque()
    for path, why in start:
        if path in tree.files and path not in reached.files:
            reached.files[path] = why
            queue.append(path)
    parsed_total = 0
    followed = 0
    while queue:
        if followed >= MAX_FOLLOWED_FILES:
            reached.notes.append(
                f"install-time code followed through {MAX_FOLLOWED_FILES} files only"
            )
            break
        path = queue.popleft()
        followed += 1
        module = (parsed or {}).get(path)
        text = tree.text(path) if module is None else ""
        if text is None:
            continue
        kind = _language(path, reached.files[path])
        if kind != "python":
            uses = _SCANNERS[kind](text[:_MAX_BUILD_SCRIPT_CHARS])
        else:
            cost = min(len(text), MAX_PARSE_BYTES + 1)
            if module is None and parsed_total + cost <= _MAX_PARSED_TOTAL:
                module = parse_python(text)
                parsed_total += cost
            uses = _uses(module) if module is not None else _scan(text)
        for directory in existing_dirs(tree, uses.sys_path, path):
            if directory not in search:
                search.append(directory)
        why = reached.files[path]
        script = not why.startswith("imported by")
        for found, why in _lookup(tree, path, uses, search, script=script):
            if found not in reached.files:
                reached.files[found] = why
                queue.append(found)
    return reached


def existing_dirs(tree: SourceTree, candidates: Sequence[str], origin: str) -> list[str]:
    """Those of ``candidates`` that are directories, relative to ``origin``'s or the root."""
    here = origin.rpartition("/")[0]
    found = []
    for candidate in candidates:
        for base in (here, ""):
            clean = normalize(f"{base}/{candidate}" if base else candidate)
            if clean is not None and (clean in tree.dirs) and clean not in found:
                found.append(clean)
                break
        if candidate.strip() in (".", "") and "" not in found:
            found.append("")
    return found


def _lookup(
    tree: SourceTree, origin: str, uses: _Uses, roots: Sequence[str], *, script: bool
) -> list[tuple[str, str]]:
    """The tree's files behind what ``origin`` uses. A ``script`` (run as a program, not
    imported) has its own directory first on ``sys.path``."""
    here = origin.rpartition("/")[0]
    if script and here not in roots:
        roots = [here, *roots]
    bases = [here, ""] if here else [""]
    executed = list(dict.fromkeys(uses.executed))[:_MAX_NAMES]
    run = list(dict.fromkeys(uses.run))[:_MAX_NAMES]
    results = [(path, f"executed by {origin}") for path in existing(tree, executed, bases)]
    results += [(path, f"run by {origin}") for path in existing(tree, run, bases)]
    # A hostile file can import a million names; the first ones are what real code has.
    for module, level, names in list(dict.fromkeys(uses.imports))[:_MAX_IMPORTS]:
        if level:
            # Relative: from the importing module's package, `level - 1` directories up.
            base = here
            for _ in range(level - 1):
                base = base.rpartition("/")[0]
            search = [base]
        else:
            # Whichever root comes first on sys.path wins; not knowing the order, take all.
            search = list(roots)
        dotted = [module] if module else []
        dotted += [f"{module}.{name}" if module else name for name in names if name != "*"]
        for root in search:
            for candidate in dotted:
                results += [
                    (found, f"imported by {origin}")
                    for found in tree.module_files(candidate, root) or ()
                ]
    return results


def _uses(module: ast.Module) -> _Uses:
    uses = _Uses()
    # One walk: a hostile file can hold hundreds of thousands of nodes.
    nodes = list(walk_code(module))
    bindings = _bindings(nodes)
    opened: list[str] = []
    executes = False
    for node in nodes:
        if isinstance(node, ast.Import):
            uses.imports.extend((alias.name, 0, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names)
            uses.imports.append((node.module or "", node.level, names))
        elif isinstance(node, ast.Call):
            name = _callee(node.func)
            if name in _MODULE_LOADERS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    uses.imports.append((first.value.lstrip("."), 0, ()))
            elif name in _EXEC_CALLS and _builtin(node.func):
                executes = True
                uses.executed.extend(_paths_in(node.args, bindings))
            elif name in _PATH_RUNNERS:
                uses.executed.extend(_paths_in(node.args, bindings))
            elif name in _PROCESS_CALLS:
                _commands(_command_words(node.args[:1], bindings), uses)
            elif name in ("insert", "append") and _is_sys_path(node.func):
                uses.sys_path.extend(_paths_in(node.args[-1:], bindings))
            if name in _OPENERS:
                opened.extend(p for p in _paths_in(node.args[:1], bindings) if p.endswith(".py"))
            if isinstance(node.func, ast.Attribute) and node.func.attr in _OPENERS:
                opened.extend(
                    p for p in _paths_in([node.func.value], bindings) if p.endswith(".py")
                )
    if executes:
        # exec(open(p).read()) is often written as `with open(p) as f: exec(f.read())`.
        uses.executed.extend(opened)
    return uses


def _builtin(func: ast.expr) -> bool:
    """``exec(...)`` or ``builtins.exec(...)``, not ``re.compile(...)``."""
    if isinstance(func, ast.Name):
        return True
    return isinstance(func, ast.Attribute) and _callee(func.value) in ("builtins", "__builtins__")


def _command_words(args: Sequence[ast.expr], bindings: dict[str, ast.expr]) -> list[str]:
    """A command's words: a list argument item by item, a string split on white space.

    ``sys.executable`` is :data:`_PYTHON`; a word that is not a literal is "".
    """
    words: list[str] = []
    for arg in args:
        listed = isinstance(arg, (ast.List, ast.Tuple))
        for item in arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]:
            if isinstance(item, ast.Attribute) and item.attr == "executable":
                words.append(_PYTHON)
                continue
            text = _literal_path(item, bindings, 0)
            if text is None:
                words.append("")
            else:
                words.extend([text] if listed else text.split())
    return words


def _commands(words: Sequence[str], uses: _Uses) -> None:
    """The files and modules a command runs: its program, what follows an interpreter
    (``python x.py``, ``sh build.sh``, ``python -m pkg.tool``), and any word naming a script.
    A file a command only reads or writes (``env > LICENSE``, ``cat NOTES``) is not run."""
    for index, word in enumerate(words):
        previous = words[index - 1] if index else ";"
        if not word or word == _PYTHON:
            continue
        if previous == "-m" and index >= 2 and _interpreter(words[index - 2]):
            uses.imports.append((word, 0, ()))
        elif (
            previous in _SEPARATORS
            or _interpreter(previous)
            or word.lower().endswith(_SCRIPT_SUFFIXES)
        ):
            uses.run.append(word)


def _interpreter(word: str) -> bool:
    program = word.replace("\\", "/").rpartition("/")[2].lower().removesuffix(".exe")
    return word == _PYTHON or program.rstrip("0123456789.") in _INTERPRETERS


def _language(path: str, why: str) -> str:
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


def _scan_meson(text: str) -> _Uses:
    """What a ``meson.build`` runs: its ``subdir()`` files, and the scripts named in
    ``files()``, ``find_program()``, ``run_command()``, ``generator()`` and ``command:``
    (generators are usually bound to a variable through ``files()`` first). Files it only
    installs (``install_sources``) do not run."""
    uses = _Uses()
    uses.run.extend(f"{d}/meson.build" for d in _MESON_SUBDIR.findall(text))
    kept = _without_calls(text, "install_sources")
    position = 0
    while (match := _MESON_RUNNERS.search(kept, position)) is not None:
        span = _call_span(kept, match.end() - 1)
        # Spans never overlap, so the scan stays linear whatever the file holds.
        position = match.end() - 1 + len(span)
        uses.run.extend(q for q in _QUOTED.findall(span) if q.lower().endswith(_SCRIPT_SUFFIXES))
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


def _scan_cmake(text: str) -> _Uses:
    """What a CMake file runs: ``add_subdirectory`` and ``include`` files, and the scripts its
    processes and custom commands name."""
    uses = _Uses()
    uses.run.extend(f"{d}/CMakeLists.txt" for d in _CMAKE_SUBDIR.findall(text))
    uses.run.extend(_CMAKE_INCLUDE.findall(text))
    for span in _CMAKE_COMMAND.findall(text):
        for word in span.replace('"', " ").replace(")", " ").split():
            word = _CMAKE_VARIABLE.sub("", word)
            if word.lower().endswith(_SCRIPT_SUFFIXES):
                uses.run.append(word)
    return uses


def _scan_shell(text: str) -> _Uses:
    """What a shell script runs, command by command (see :func:`_commands`)."""
    uses = _Uses()
    for line in text.splitlines()[:_MAX_SHELL_LINES]:
        _commands(line.split("#", 1)[0].replace(";", " ; ").split(), uses)
    return uses


def _scan_rust(text: str) -> _Uses:
    """What a Cargo build script runs: the scripts its string literals name (it starts them
    with ``Command::new``, often through an interpreter found at build time)."""
    uses = _Uses()
    quoted = itertools.islice(_QUOTED.finditer(text), _MAX_NAMES * 4)
    uses.run.extend(q.group(1) for q in quoted if q.group(1).lower().endswith(_SCRIPT_SUFFIXES))
    return uses


def _scan_other(text: str) -> _Uses:
    """A compiled or unknown program: what it runs cannot be read."""
    return _Uses()


_SCANNERS: Final[dict[str, Callable[[str], _Uses]]] = {
    "meson": _scan_meson,
    "cmake": _scan_cmake,
    "shell": _scan_shell,
    "rust": _scan_rust,
    "other": _scan_other,
}


def _scan(text: str) -> _Uses:
    """What a file that cannot be parsed appears to import or name: a linear text scan."""
    uses = _Uses()
    head = text[:_MAX_SCAN_CHARS]
    for match in _IMPORT_LINE.finditer(head):
        if len(uses.imports) > _MAX_IMPORTS:
            break
        source, names, plain = match.groups()
        if plain is not None:
            for item in plain.split(","):
                words = item.split()
                if words:
                    uses.imports.append((words[0], 0, ()))
        else:
            level = len(source) - len(source.lstrip("."))
            listed = tuple(n.split()[0] for n in names.replace("(", "").split(",") if n.split())
            uses.imports.append((source.lstrip("."), level, listed))
    # Any .py file an unreadable install-time file names may be what it runs.
    found = _QUOTED_FILE.finditer(head)
    uses.executed.extend(match.group(1) for match in itertools.islice(found, _MAX_NAMES))
    return uses


def _callee(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_sys_path(func: ast.expr) -> bool:
    owner = func.value if isinstance(func, ast.Attribute) else None
    return (
        isinstance(owner, ast.Attribute) and owner.attr == "path" and _callee(owner.value) == "sys"
    )


def _bindings(nodes: Iterable[ast.AST]) -> dict[str, ast.expr]:
    """Names assigned exactly once, to their value (paths are often built in a variable)."""
    counts: dict[str, int] = {}
    values: dict[str, ast.expr] = {}
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            counts[node.id] = counts.get(node.id, 0) + 1
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                values[target.id] = node.value
    return {name: value for name, value in values.items() if counts.get(name) == 1}


def _paths_in(nodes: Iterable[ast.AST], bindings: dict[str, ast.expr]) -> list[str]:
    """Literal strings and literal path joins anywhere inside ``nodes``."""
    found: list[str] = []
    for top in nodes:
        for node in ast.walk(top):
            if isinstance(node, (ast.Constant, ast.Name, ast.Call, ast.BinOp)):
                path = _literal_path(node, bindings, 0)
                if path and path not in found:
                    found.append(path)
    return found


def _literal_path(node: ast.AST, bindings: dict[str, ast.expr], depth: int) -> str | None:
    """The path ``node`` builds from literals, skipping non-literal parts (``here``)."""
    if depth > _MAX_JOIN_DEPTH:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) and len(node.value) < 4096 else None
    if isinstance(node, ast.Name):
        bound = bindings.get(node.id)
        return None if bound is None else _literal_path(bound, bindings, depth + 1)
    parts: list[ast.expr] = []
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        parts = [node.left, node.right]
    elif isinstance(node, ast.Call):
        name = _callee(node.func)
        if name in _JOINERS:
            owner = node.func.value if isinstance(node.func, ast.Attribute) else None
            parts = ([owner] if name == "joinpath" and owner is not None else []) + list(node.args)
        elif name in _JOINERS_1 and node.args:
            parts = [node.args[0]]
    pieces = [p for p in (_literal_path(part, bindings, depth + 1) for part in parts) if p]
    return "/".join(pieces) if pieces else None


def static_attribute(module: ast.Module, attribute: str) -> bool:
    """Whether the module's top level assigns ``attribute`` a literal value.

    Build tools (setuptools ``attr:``, flit) read such a value from the source and import the
    module only when there is none.
    """
    for node in module.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = list(node.targets), node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        if value is None or not any(isinstance(t, ast.Name) and t.id == attribute for t in targets):
            continue
        try:
            ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            return False
        return True
    return False
