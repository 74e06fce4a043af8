"""What a Python file the build runs makes run: read from its AST, or its text if need be.

:func:`python_uses` reads imports (``importlib.import_module``/``__import__``/
``runpy.run_module`` with a literal name too), ``exec``/``eval``/``compile``/``execfile``/
``runpy.run_path``/file loaders over a literal path (``os.path.join`` and ``/`` of literals
included, through names assigned once), ``open(...)`` of a ``.py`` file in a file that also
calls ``exec`` or ``compile``, literal paths handed to ``subprocess``/``os.system``, and
``sys.path`` entries. :func:`scan_python_text` stands in for a file that does not parse or is
too large to: ``import`` lines and quoted ``.py`` names. :func:`static_attribute` tells
whether a module's version can be read without importing it.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterable, Sequence
from typing import Final

from verify._behaviour.buildtime_uses import MAX_IMPORTS, MAX_NAMES, PYTHON, Uses, note_command
from verify._behaviour.sourcetree import walk_code

__all__ = ["python_uses", "scan_python_text", "static_attribute"]


#: Python text scanned by the fallback, per file.
_MAX_SCAN_CHARS: Final = 8 * 1024 * 1024


_MAX_JOIN_DEPTH: Final = 8


_EXEC_CALLS: Final = frozenset({"exec", "eval", "compile", "execfile"})
_PATH_RUNNERS: Final = frozenset(
    {"run_path", "spec_from_file_location", "SourceFileLoader", "load_source", "load_module"}
)
_MODULE_LOADERS: Final = frozenset({"import_module", "__import__", "run_module"})
_PROCESS_CALLS: Final = frozenset(
    {"system", "popen", "call", "check_call", "check_output", "run", "Popen", "getoutput"}
    | {"getstatusoutput", "spawnl", "spawnv", "execv", "execl", "execvp", "execlp"}
)


_OPENERS: Final = frozenset({"open", "read_text", "read_bytes", "Path", "FileIO"})
_JOINERS: Final = frozenset({"join", "Path", "PurePath", "joinpath", "abspath", "realpath"})
_JOINERS_1: Final = frozenset({"normpath", "str", "fspath"})


_IMPORT_LINE: Final = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.{0,50}(?:\w[\w.]{0,200})?)[ \t]+import[ \t]+\(?([\w, \t]{1,2000})"
    r"|import[ \t]+([\w., \t]{1,2000}))",
    re.MULTILINE,
)
_QUOTED_FILE: Final = re.compile(r"""['"]([^'"\\\n]{1,300}\.py)['"]""")


def python_uses(module: ast.Module) -> Uses:
    uses = Uses()
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
                note_command(_command_words(node.args[:1], bindings), uses)
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

    ``sys.executable`` is :data:`PYTHON`; a word that is not a literal is "".
    """
    words: list[str] = []
    for arg in args:
        listed = isinstance(arg, (ast.List, ast.Tuple))
        for item in arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]:
            if isinstance(item, ast.Attribute) and item.attr == "executable":
                words.append(PYTHON)
                continue
            text = _literal_path(item, bindings, 0)
            if text is None:
                words.append("")
            else:
                words.extend([text] if listed else text.split())
    return words


def scan_python_text(text: str) -> Uses:
    """What a file that cannot be parsed appears to import or name: a linear text scan."""
    uses = Uses()
    head = text[:_MAX_SCAN_CHARS]
    for match in _IMPORT_LINE.finditer(head):
        if len(uses.imports) > MAX_IMPORTS:
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
    uses.executed.extend(match.group(1) for match in itertools.islice(found, MAX_NAMES))
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
