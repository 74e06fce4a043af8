"""Data flow within a Python module: what feeds an expression, and what it reads as.

Simple and bounded: an expression's origin (a decoder, a network call) is looked for in it and
in the assignments of the names it uses, in the same scope or else at module level, and from a
function's parameter to what the module's own calls of that function pass it, within
:data:`~verify._behaviour.pywalk.TAINT_BUDGET` steps. That follows ``code = b64decode(s);
exec(code)``, the lambdas obfuscators define and ``def run(c): subprocess.run(c, shell=True)``
called as ``run(requests.get(url).text)``, not data passed between files.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator

from verify._behaviour import patterns
from verify._behaviour.decode import Decoded, fold
from verify._behaviour.pyindex import ModuleIndex, call_argument, is_reverse_slice
from verify._behaviour.pywalk import MAX_DEPTH, TAINT_BUDGET

#: Methods that read a file's text; attributes that hold a function's own code.
_READ_METHODS = frozenset({"read", "read_text", "read_bytes", "readlines", "get_data"})
_CODE_ATTRIBUTES = frozenset({"__code__", "func_code", "co_code"})
_DECRYPT_METHODS = frozenset({"decrypt", "decrypt_and_verify", "decrypt_at_time"})


class DataFlow(ModuleIndex):
    """The data-flow questions the checks ask of a module's expressions."""

    #: The module's calls of plain names, by name; gathered when first asked for.
    _local_calls: dict[str, list[tuple[ast.Call, int]]] | None = None

    # -- Data flow ------------------------------------------------------------------------------

    def _origin(self, node: ast.expr, scope: int) -> tuple[str | None, str | None]:
        """What feeds an expression: the first decoder and the first network call found in it
        or in the assignments of the names it uses (same scope, else module scope)."""
        decoded: str | None = None
        fetched: str | None = None
        queue: deque[tuple[ast.AST, int]] = deque([(node, scope)])
        seen: set[tuple[int, str]] = set()
        budget = TAINT_BUDGET
        while queue and budget and not (decoded and fetched):
            budget -= 1
            current, where = queue.popleft()
            if isinstance(current, ast.Name):
                queue.extend(self._definitions(current.id, where, seen))
                queue.extend(self._passed_to(current.id, where, seen))
                continue
            if isinstance(current, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            decoded = decoded or self._decoder(current, where)
            if fetched is None and isinstance(current, ast.Call):
                fetched = patterns.NETWORK_CALLS.get(self.qualname(current.func) or "")
            if isinstance(current, ast.Call) and isinstance(current.func, ast.Name):
                # ``_ = lambda s: zlib.decompress(b64decode(s[::-1])); exec(_(b"..."))``:
                # what a local lambda does to its argument is part of the data's origin.
                queue.extend(
                    (value.body, where)
                    for value in self._definitions_of(current.func.id, where)
                    if isinstance(value, ast.Lambda)
                )
            queue.extend((child, where) for child in ast.iter_child_nodes(current))
        return decoded, fetched

    def _passed_to(
        self, name: str, scope: int, seen: set[tuple[int, str]]
    ) -> Iterator[tuple[ast.AST, int]]:
        """What the module's own calls of a function pass as its parameter ``name``.

        Only a value passed as it is (a name, an attribute, a subscript or a call's result):
        a command line or list built around the value (``run(["git", "clone", url])``) is a
        program the caller chose, given downloaded data as an argument, not downloaded code.
        """
        function = self.functions.get(scope)
        if (
            function is None
            or name not in self.parameters.get(scope, ())
            or (scope, name) in self.assigned
            or (scope, f"({name}") in seen
        ):
            return
        seen.add((scope, f"({name}"))
        positional = [arg.arg for arg in (*function.args.posonlyargs, *function.args.args)]
        index = positional.index(name) if name in positional else None
        for call, where in self._calls_of(function.name):
            if index is not None and index < len(call.args):
                value: ast.expr | None = call.args[index]
                if any(isinstance(arg, ast.Starred) for arg in call.args[: index + 1]):
                    value = None
            else:
                value = next((kw.value for kw in call.keywords if kw.arg == name), None)
            if isinstance(value, (ast.Name, ast.Attribute, ast.Subscript, ast.Call)):
                yield value, where

    def _calls_of(self, name: str) -> list[tuple[ast.Call, int]]:
        """The calls ``name(...)`` in the module, with the scope each is in."""
        if self._local_calls is None:
            calls: dict[str, list[tuple[ast.Call, int]]] = {}
            for visit in self.visits:
                node = visit.node
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    calls.setdefault(node.func.id, []).append((node, visit.scope))
            self._local_calls = calls
        return self._local_calls.get(name, [])

    def _definitions_of(self, name: str, scope: int) -> list[ast.expr]:
        """The expressions assigned to ``name`` in ``scope``, else at module level."""
        return self.assigned.get((scope, name)) or self.assigned.get((0, name)) or []

    def _definitions(
        self, name: str, scope: int, seen: set[tuple[int, str]]
    ) -> Iterator[tuple[ast.AST, int]]:
        for where in (scope, 0):
            if (where, name) in seen:
                return
            seen.add((where, name))
            values = self.assigned.get((where, name))
            if values:
                yield from ((value, where) for value in values)
                return
            if name in self.parameters.get(where, ()):
                return  # a parameter shadows the module-level name

    def _is_string_data(self, node: ast.AST, scope: int) -> bool:
        """A string or bytes constant, directly or through a name assigned one."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, (str, bytes))
        if isinstance(node, ast.Name):
            values = self.assigned.get((scope, node.id)) or self.assigned.get((0, node.id), [])
            return any(
                isinstance(value, ast.Constant) and isinstance(value.value, (str, bytes))
                for value in values
            )
        return self.const_str(node) is not None

    def _decoder(self, node: ast.AST, scope: int) -> str | None:
        """The decoding an expression performs itself, if any."""
        if isinstance(node, ast.Subscript) and is_reverse_slice(node.slice):
            # Reversing a string hides it; reversing a list is an everyday idiom.
            return "reversed-string" if self._is_string_data(node.value, scope) else None
        if not isinstance(node, ast.Call):
            return None
        function = self.qualname(node.func) or ""
        if function in patterns.DECODERS:
            return function
        if isinstance(node.func, ast.Attribute) and node.func.attr in _DECRYPT_METHODS:
            # Fernet(key).decrypt(token), AES.new(key, mode).decrypt(data): whatever the
            # cipher, code that decrypts what it then executes is hiding it.
            return function or f"{node.func.attr}()"
        if function in ("codecs.decode", "codecs.encode"):
            codec = self.const_str(call_argument(node, 1, "encoding"))
            if codec and codec.lower().replace("-", "_") in patterns.OBFUSCATING_CODECS:
                return function
        if function in ("bytes", "bytearray") and node.args:
            literal = node.args[0]
            return "bytes-list" if isinstance(literal, (ast.List, ast.Tuple)) else None
        if isinstance(node.func, ast.Attribute) and node.func.attr == "join" and node.args:
            stream = node.args[0]
            if isinstance(stream, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
                element = stream.elt
                if isinstance(element, ast.Call) and self.qualname(element.func) == "chr":
                    return "chr-join"
            if (
                isinstance(stream, ast.Call)
                and self.qualname(stream.func) == "map"
                and stream.args
                and self.qualname(stream.args[0]) == "chr"
            ):
                return "chr-join"
        return None

    def _reads_a_file(self, node: ast.expr, scope: int) -> bool:
        """Whether code handed to exec comes from reading a file or is the code object of a
        function (``exec(open("pkg/version.py").read())``, ``exec(compile(src, path,
        "exec"))`` of a read file, ``exec(func.__code__)``): ordinary in build scripts."""
        queue: deque[ast.AST] = deque([node])
        seen: set[tuple[int, str]] = set()
        budget = TAINT_BUDGET
        while queue and budget:
            budget -= 1
            current = queue.popleft()
            if isinstance(current, ast.Name):
                queue.extend(value for value, _ in self._definitions(current.id, scope, seen))
                continue
            if isinstance(current, ast.Attribute) and current.attr in _CODE_ATTRIBUTES:
                return True
            if isinstance(current, ast.Call):
                callee = self.qualname(current.func) or ""
                method = current.func.attr if isinstance(current.func, ast.Attribute) else ""
                if callee in patterns.OPEN_CALLS or method in _READ_METHODS:
                    return True
            if isinstance(current, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            queue.extend(ast.iter_child_nodes(current))
        return False

    def _fold(self, node: ast.expr, scope: int) -> Decoded | None:
        """The value an expression of literals and decoders folds to, never running it."""

        def lookup(name: str) -> ast.expr | None:
            for where in (scope, 0):
                values = self.assigned.get((where, name))
                if values:
                    return values[-1]
            return None

        return fold(node, qualname=self.qualname, lookup=lookup)

    def _path_text(self, node: ast.AST, constants: list[ast.Constant], depth: int) -> str:
        """A path expression as text, ``*`` for the parts only known at run time:
        ``Path.home() / ".aws" / "credentials"`` reads ``~/.aws/credentials``."""
        if depth > MAX_DEPTH:
            return "*"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            constants.append(node)
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Add)):
            separator = "/" if isinstance(node.op, ast.Div) else ""
            left = self._path_text(node.left, constants, depth + 1)
            return left + separator + self._path_text(node.right, constants, depth + 1)
        if isinstance(node, ast.JoinedStr):
            return "".join(self._path_text(part, constants, depth + 1) for part in node.values)
        if not isinstance(node, ast.Call):
            return "*"
        name = self.qualname(node.func) or ""
        parts = [self._path_text(arg, constants, depth + 1) for arg in node.args]
        if name in patterns.PATH_CALLS:
            return "/".join(parts) or "*"
        if name in patterns.PATH_PASSTHROUGH_CALLS and parts:
            return parts[0]
        if isinstance(node.func, ast.Attribute):
            if node.func.attr == "home":
                return "~"
            receiver = self._path_text(node.func.value, constants, depth + 1)
            if node.func.attr == "joinpath":
                return "/".join([receiver, *parts])
            if node.func.attr in ("expanduser", "resolve", "absolute"):
                return receiver
        return "*"
