"""Names in a walked Python module: what an expression refers to, and what it spells.

Imports and aliases are resolved (``import subprocess as sp; sp.Popen`` is
``subprocess.Popen``, ``run = subprocess.run`` is an alias too), as are ``getattr`` with a
constant, ``__import__("os")``, ``importlib.import_module("os")``, ``sys.modules[...]`` and
names pulled in by ``from x import *`` that the tables know. Strings built only from constants
(concatenated, joined, reversed, formatted) are read as the value they spell.
"""

from __future__ import annotations

import ast

from verify._behaviour import patterns
from verify._behaviour.profile import Phase
from verify._behaviour.pywalk import MAX_DEPTH, ModuleWalk, Visit
from verify.models import Severity

_BUILTINS_NAMES = frozenset({"builtins", "__builtins__"})
#: Qualified names the tables know, for resolving names pulled in by ``from x import *``.
_KNOWN_CALLS = frozenset(
    {
        *patterns.PROCESS_CALLS,
        *patterns.NETWORK_CALLS,
        *patterns.DECODERS,
        *patterns.CODE_SINKS,
        *patterns.IMPORT_SINKS,
        *patterns.THREAD_CALLS,
        *patterns.CREDENTIAL_CALLS,
        *patterns.ENVIRON_NAMES,
        *patterns.REDIRECT_CALLS,
    }
)


def starts_process(name: str) -> bool:
    return name in patterns.PROCESS_CALLS or name.startswith(patterns.PROCESS_PREFIXES)


def root_name(node: ast.AST) -> str | None:
    for _ in range(MAX_DEPTH):
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id
        else:
            return None
    return None


def _attribute_tail(node: ast.AST) -> str:
    """``.b.c`` for ``a.b.c``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute) and len(parts) < MAX_DEPTH:
        parts.append(node.attr)
        node = node.value
    return "".join(f".{part}" for part in reversed(parts))


def call_keyword(call: ast.Call, *names: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg in names), None)


def call_argument(call: ast.Call, index: int, *names: str) -> ast.expr | None:
    if len(call.args) > index and not isinstance(call.args[index], ast.Starred):
        return call.args[index]
    return call_keyword(call, *names)


def is_reverse_slice(node: ast.expr) -> bool:
    if not (isinstance(node, ast.Slice) and node.lower is None and node.upper is None):
        return False
    step = node.step
    if isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub):
        step = step.operand
        return isinstance(step, ast.Constant) and step.value == 1
    return isinstance(step, ast.Constant) and step.value == -1


class ModuleIndex(ModuleWalk):
    """A walked module with its names resolved through its imports and aliases.

    The checks built on this class ask :meth:`qualname` and :meth:`const_str` what an
    expression names or spells, and report through :meth:`_add` at the phase
    :meth:`_phase` gives the node.
    """

    def _resolve_aliases(self) -> None:
        """``run = subprocess.run`` and ``sp = subprocess`` are aliases too; two rounds follow
        an alias of an alias."""
        for _ in range(2):
            for (_scope, name), values in self.assigned.items():
                if name in self.aliases:
                    continue
                for value in values:
                    root = root_name(value)
                    if root is None or not isinstance(value, (ast.Name, ast.Attribute)):
                        continue
                    if root in self.aliases or root in patterns.BUILTIN_NAMES:
                        resolved = self.qualname(value)
                        if resolved is not None and resolved != name:
                            self.aliases[name] = resolved
                            break
        for visit in self.visits:
            if isinstance(visit.node, ast.ClassDef):
                bases = (self.qualname(base) for base in visit.node.bases)
                if any(base in patterns.THREAD_CALLS for base in bases):
                    self.thread_classes.add(visit.node.name)

    def _resolve(self, name: str) -> str:
        if name in self.aliases:
            return self.aliases[name]
        if name in _BUILTINS_NAMES:
            return "builtins"
        for module in self.star_modules:
            candidate = f"{module}.{name}"
            if candidate in _KNOWN_CALLS:
                return candidate
        return name

    def qualname(self, node: ast.AST, depth: int = 0) -> str | None:
        """The dotted name an expression refers to, through imports, aliases, ``getattr`` with
        a constant, ``__import__("os")`` and ``importlib.import_module("os")``."""
        tail = _attribute_tail(node)
        while isinstance(node, ast.Attribute):
            node = node.value
        base: str | None = None
        if isinstance(node, ast.Name):
            base = self._resolve(node.id)
        elif isinstance(node, ast.Call) and depth < 8:
            base = self._call_result(node, depth + 1)
        elif isinstance(node, ast.Subscript) and depth < 8:
            container = self.qualname(node.value, depth + 1)
            key = self.const_str(node.slice)
            if key is not None and container == "builtins":
                base = f"builtins.{key}"
            elif key is not None and container == "sys.modules":
                base = key
        if base is None:
            return None
        return (base + tail).removeprefix("builtins.")

    def _call_result(self, call: ast.Call, depth: int) -> str | None:
        function = self.qualname(call.func, depth)
        if function in patterns.IMPORT_SINKS and call.args:
            module = self.const_str(call.args[0])
            if module and function == "__import__":
                return module.split(".", 1)[0]
            return module
        if function == "getattr" and len(call.args) >= 2:
            owner = self.qualname(call.args[0], depth)
            attribute = self.const_str(call.args[1])
            if owner is not None and attribute is not None:
                return f"{owner}.{attribute}"
        return None

    def const_str(self, node: ast.AST | None, depth: int = 0) -> str | None:
        """The value of a string expression built only from constants, else ``None``."""
        if node is None or depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.const_str(node.left, depth + 1)
            right = self.const_str(node.right, depth + 1) if left is not None else None
            return left + right if left is not None and right is not None else None
        if isinstance(node, ast.JoinedStr):
            parts = [self.const_str(value, depth + 1) for value in node.values]
            return "".join(p for p in parts if p is not None) if None not in parts else None
        if isinstance(node, ast.Subscript) and is_reverse_slice(node.slice):
            value = self.const_str(node.value, depth + 1)
            return value[::-1] if value is not None else None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "join"
            and len(node.args) == 1
            and isinstance(node.args[0], (ast.List, ast.Tuple))
        ):
            separator = self.const_str(node.func.value, depth + 1)
            items = [self.const_str(item, depth + 1) for item in node.args[0].elts]
            if separator is not None and None not in items:
                return separator.join(item for item in items if item is not None)
        return None

    def _patched(self, node: ast.expr) -> str | None:
        """The imported module or object (or builtins) an expression names, else ``None``."""
        root = root_name(node)
        if root is None:
            return None
        if root in _BUILTINS_NAMES and self.aliases.get(root, "builtins") == "builtins":
            return "builtins" + _attribute_tail(node)
        if root not in self.imported:
            return None
        return self.qualname(node)

    def _phase(self, visit: Visit) -> Phase:
        if self.forced is not None:
            return self.forced
        return Phase.RUNTIME if visit.deferred else self.c.load_phase

    def _add(
        self,
        rule: str,
        key: str,
        message: str,
        node: ast.AST,
        visit: Visit,
        *,
        severity: Severity | None = None,
        specific: bool | None = None,
        concealed: str | None = None,
        routine: bool = False,
        snippet: str | None = None,
    ) -> None:
        line = getattr(node, "lineno", 1)
        column = getattr(node, "col_offset", None)
        self.c.add(
            rule,
            key,
            message,
            line,
            self._phase(visit),
            severity=severity,
            specific=specific,
            column=column,
            concealed=concealed,
            routine=routine,
            snippet=snippet,
        )
