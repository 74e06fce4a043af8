"""Static evaluation of decoding expressions, for :func:`verify._behaviour.decode.fold`.

``exec(zlib.decompress(base64.b64decode(b"...")))`` hides its payload in plain sight: every
part is a literal or a pure, well-known function. This module evaluates such expressions
without running anything from them: literals, names (through the caller's ``lookup``),
concatenation, ``%`` and f-strings with plain conversions, slicing, comprehensions and
``map`` over literal data, a small set of builtins (``chr``, ``ord``, ``bytes``, ``int``...),
the decoders of ``base64``, ``binascii``, ``codecs``, ``zlib``, ``gzip``, ``bz2``, ``lzma``,
``marshal.loads`` (read as its strings, never loaded), string methods, and decryption with
Fernet and pycryptodome-style AES when the key is a literal. Anything else stops the fold.

Each value carries the decoding layers that produced it, in the order they were taken off.
The work is bounded: nodes evaluated (:data:`MAX_STEPS`), nesting (:data:`MAX_NESTING`),
items of sequences (:data:`MAX_ITEMS`), integer size (:data:`MAX_INT_BITS`), the size of every
string (the caller's ``max_size``, checked before building it) and the number of layers.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from typing import TypeAlias

from verify._behaviour.decoders import Undecodable
from verify._behaviour.folding_calls import CONSTANTS, ELEMENT_FUNCTIONS, FUNCTIONS
from verify._behaviour.folding_values import (
    MAX_INT_BITS,
    MAX_ITEMS,
    Data,
    Plain,
    Unfoldable,
    Value,
    Values,
    members,
    scalar,
)

__all__ = ["MAX_INT_BITS", "MAX_ITEMS", "MAX_NESTING", "MAX_STEPS", "Folded", "evaluate"]

#: Nodes evaluated per fold (a second or so of work at most); a comprehension or ``map``
#: counts its element once per item. Literal lists cost nothing.
MAX_STEPS = 250_000
#: Expression nesting, variable indirections included.
MAX_NESTING = 64

#: The folded value (a string or bytes), its layers outermost first, and whether a bound cut
#: a decompression short.
Folded: TypeAlias = "tuple[str | bytes, tuple[str, ...], bool]"

_FAILURES = (Unfoldable, Undecodable, ValueError, TypeError, ArithmeticError, LookupError)
_PERCENT = re.compile(r"%(.)", re.DOTALL)
#: f-string conversions: none, !s, !r, !a.
_CONVERSIONS: dict[int, Callable[[object], str]] = {-1: str, 115: str, 114: repr, 97: ascii}


def evaluate(
    node: ast.expr,
    qualname: Callable[[ast.expr], str | None],
    lookup: Callable[[str], ast.expr | None],
    *,
    max_depth: int,
    max_size: int,
) -> Folded | None:
    """The value of ``node`` if it folds to a string or bytes, else ``None``. A tuple of
    strings (a process's argument list) folds to them joined by spaces."""
    folder = _Folder(qualname, lookup, max_depth, max_size)
    try:
        result = folder.eval(node, {}, 0)
        value = result.value
        if isinstance(value, tuple) and value and all(isinstance(item, str) for item in value):
            value = folder.join(" ", value)
    except _FAILURES:
        return None
    if not isinstance(value, (str, bytes)):
        return None
    return value, result.layers, result.truncated


Handler: TypeAlias = "Callable[[_Folder, list[Value], dict[str, Value]], Value]"


class _Folder(Values):
    def __init__(
        self,
        qualname: Callable[[ast.expr], str | None],
        lookup: Callable[[str], ast.expr | None],
        max_depth: int,
        max_size: int,
    ) -> None:
        super().__init__(max_depth, max_size)
        self.qualnames = qualname
        self.known: dict[int, str | None] = {}
        self.lookup = lookup
        self.steps = MAX_STEPS
        self.resolving: set[str] = set()

    def qualname(self, node: ast.expr) -> str | None:
        """The caller's name for ``node``, asked once per node (comprehensions repeat them)."""
        key = id(node)
        if key not in self.known:
            self.known[key] = self.qualnames(node)
        return self.known[key]

    # -- Expressions -------------------------------------------------------------------------

    def eval(self, node: ast.expr, env: Mapping[str, Value], nesting: int) -> Value:
        self.steps -= 1
        if self.steps < 0 or nesting > MAX_NESTING:
            raise Unfoldable("bounds")
        deeper = nesting + 1
        match node:
            case ast.Constant(value=value) if isinstance(value, (str, bytes, int)):
                return Value(value)
            case ast.Name(id=name):
                return self.name(node, name, env, deeper)
            case ast.Call():
                return self.call(node, env, deeper)
            case ast.BinOp(left=left, op=op, right=right):
                return self.binary(op, self.eval(left, env, deeper), self.eval(right, env, deeper))
            case ast.Attribute():
                return Value(self.constant(node))
            case ast.List(elts=elements) | ast.Tuple(elts=elements):
                return self.sequence(elements, env, deeper)
            case ast.UnaryOp(op=op, operand=operand):
                return self.unary(op, self.eval(operand, env, deeper))
            case ast.Subscript(value=container, slice=index):
                return self.subscript(self.eval(container, env, deeper), index, env, deeper)
            case ast.JoinedStr(values=parts):
                return self.fstring(parts, env, deeper)
            case ast.GeneratorExp() | ast.ListComp():
                return self.comprehension(node, env, deeper)
        raise Unfoldable(f"cannot fold {type(node).__name__}")

    def name(self, node: ast.expr, name: str, env: Mapping[str, Value], nesting: int) -> Value:
        if name in env:
            return env[name]
        if name not in self.resolving:
            assigned = self.lookup(name)
            if assigned is not None:
                self.resolving.add(name)  # x = x + "a" refers to an earlier x: unknowable here
                try:
                    return self.eval(assigned, {}, nesting)
                finally:
                    self.resolving.discard(name)
        return Value(self.constant(node))

    def constant(self, node: ast.expr) -> int:
        value = CONSTANTS.get(self.qualname(node) or "")
        if value is None:
            raise Unfoldable("unknown name")
        return value

    def sequence(self, elements: list[ast.expr], env: Mapping[str, Value], nesting: int) -> Value:
        if len(elements) > MAX_ITEMS:
            raise Unfoldable("too many items")
        items: list[Plain] = []
        parts: list[Value] = []
        for element in elements:
            if type(element) is ast.Constant and isinstance(element.value, (str, bytes, int)):
                items.append(element.value)  # the common case, a literal list: no step spent
                continue
            part = self.eval(element, env, nesting)
            items.append(scalar(part))
            parts.append(part)
        return self.result(tuple(items), parts)

    def binary(self, op: ast.operator, left: Value, right: Value) -> Value:
        a, b = left.value, right.value
        sources = (left, right)
        if isinstance(op, ast.Add) and type(a) is type(b) and isinstance(a, (str, bytes, tuple)):
            self.check_size(len(a) + len(b))  # type: ignore[arg-type]
            return self.result(a + b, sources)  # type: ignore[operator]
        if isinstance(op, ast.Mult) and isinstance(a, int) and not isinstance(b, int):
            a, b = b, a  # 3 * "ab" as "ab" * 3
        if isinstance(op, ast.Mult) and isinstance(a, (str, bytes, tuple)) and isinstance(b, int):
            self.check_size(len(a) * max(b, 0))
            return self.result(a * b, sources)
        if isinstance(op, ast.Mod) and isinstance(a, str):
            return self.result(self.percent(a, b), sources)
        if not (isinstance(a, int) and isinstance(b, int)):
            raise Unfoldable("unsupported operands")
        if isinstance(op, (ast.LShift, ast.Pow)) and (b < 0 or b > MAX_INT_BITS):
            raise Unfoldable("integer too large")
        if isinstance(op, ast.Pow) and a.bit_length() * b > MAX_INT_BITS:
            raise Unfoldable("integer too large")
        operation = _INT_OPERATIONS.get(type(op))
        if operation is None:
            raise Unfoldable("unsupported operator")
        return self.result(operation(a, b), sources, "xor" if isinstance(op, ast.BitXor) else None)

    def unary(self, op: ast.unaryop, operand: Value) -> Value:
        value = operand.value
        if not isinstance(value, int):
            raise Unfoldable("unsupported operand")
        if isinstance(op, ast.USub):
            return self.result(-value, [operand])
        if isinstance(op, ast.Invert):
            return self.result(~value, [operand])
        if isinstance(op, ast.UAdd):
            return operand
        raise Unfoldable("unsupported operator")

    def percent(self, template: str, arguments: Data) -> str:
        values = list(arguments) if isinstance(arguments, tuple) else [arguments]
        pieces: list[str] = []
        position = used = 0
        # Only bare conversions: a width ("%999999999s") would build any size of string.
        for match in _PERCENT.finditer(template):
            pieces.append(template[position : match.start()])
            position = match.end()
            kind = match[1]
            if kind == "%":
                pieces.append("%")
                continue
            value = values[used]
            used += 1
            if (isinstance(value, int) and kind in "sdi") or (
                isinstance(value, str) and kind == "s"
            ):
                pieces.append(str(value))
            elif kind == "c" and isinstance(value, int):
                pieces.append(chr(value))
            else:
                raise Unfoldable("unsupported conversion")
        if used != len(values) or "%" in template[position:]:
            raise Unfoldable("arguments do not match the template")
        pieces.append(template[position:])
        self.check_size(sum(map(len, pieces)))
        return "".join(pieces)

    def subscript(
        self, container: Value, index: ast.expr, env: Mapping[str, Value], nesting: int
    ) -> Value:
        value = container.value
        if not isinstance(value, (str, bytes, tuple)):
            raise Unfoldable("not subscriptable")
        if not isinstance(index, ast.Slice):
            return self.result(value[self.integer(index, env, nesting)], [container])
        bounds = [
            None if part is None else self.integer(part, env, nesting)
            for part in (index.lower, index.upper, index.step)
        ]
        step = bounds[2]
        layer = (
            "reversed" if step is not None and step < 0 and not isinstance(value, tuple) else None
        )
        return self.result(value[slice(*bounds)], [container], layer)

    def integer(self, node: ast.expr, env: Mapping[str, Value], nesting: int) -> int:
        value = self.eval(node, env, nesting).value
        if not isinstance(value, int):
            raise Unfoldable("not an integer")
        return value

    def fstring(self, parts: list[ast.expr], env: Mapping[str, Value], nesting: int) -> Value:
        pieces: list[str] = []
        sources: list[Value] = []
        for part in parts:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                pieces.append(part.value)
                continue
            if not isinstance(part, ast.FormattedValue) or part.format_spec is not None:
                raise Unfoldable("formatted value with a format spec")
            folded = self.eval(part.value, env, nesting)
            value = scalar(folded)
            sources.append(folded)
            conversion = _CONVERSIONS.get(part.conversion)
            if conversion is None:
                raise Unfoldable("unknown conversion")
            self.check_size(4 * len(value) if not isinstance(value, int) else 0)
            pieces.append(conversion(value))
        self.check_size(sum(map(len, pieces)))
        return self.result("".join(pieces), sources)

    def comprehension(
        self, node: ast.GeneratorExp | ast.ListComp, env: Mapping[str, Value], nesting: int
    ) -> Value:
        if len(node.generators) != 1:
            raise Unfoldable("nested comprehension")
        generator = node.generators[0]
        if generator.ifs or generator.is_async or not isinstance(generator.target, ast.Name):
            raise Unfoldable("filtered or unpacking comprehension")
        source = self.eval(generator.iter, env, nesting)
        scope = dict(env)
        variable = generator.target.id

        def element(item: Plain) -> Value:
            scope[variable] = Value(item, source.layers, source.truncated)
            return self.eval(node.elt, scope, nesting)

        return self.each(element, members(source), source)

    def each(
        self, function: Callable[[Plain], Value], items: tuple[Plain, ...], source: Value
    ) -> Value:
        """``function`` applied to every item, as a sequence with their layers merged."""
        values: list[Plain] = []
        layers: dict[tuple[str, ...], Value] = {source.layers: source}
        for item in items:
            result = function(item)
            values.append(scalar(result))
            layers.setdefault(result.layers, result)
        return self.result(tuple(values), layers.values())

    # -- Calls -------------------------------------------------------------------------------

    def call(self, node: ast.Call, env: Mapping[str, Value], nesting: int) -> Value:
        if any(isinstance(arg, ast.Starred) for arg in node.args) or any(
            kw.arg is None for kw in node.keywords
        ):
            raise Unfoldable("unpacked arguments")
        function = node.func
        name = None if isinstance(function, ast.Lambda) else self.qualname(function)
        if name == "map" and len(node.args) == 2 and not node.keywords:
            return self.map(node.args[0], self.eval(node.args[1], env, nesting), nesting)
        args = [self.eval(arg, env, nesting) for arg in node.args]
        kwargs = {kw.arg: self.eval(kw.value, env, nesting) for kw in node.keywords if kw.arg}
        if isinstance(function, ast.Lambda):
            return self.apply_lambda(function, args, nesting)
        handler = FUNCTIONS.get(name or "")
        if handler is not None:
            return handler(self, args, kwargs)
        if isinstance(function, ast.Attribute):
            return self.method(self.eval(function.value, env, nesting), function.attr, args, kwargs)
        raise Unfoldable(f"unknown function {name}")

    def map(self, function: ast.expr, source: Value, nesting: int) -> Value:
        if isinstance(function, ast.Lambda):
            return self.each(
                lambda item: self.apply_lambda(function, [Value(item, source.layers)], nesting),
                members(source),
                source,
            )
        handler = FUNCTIONS.get(self.qualname(function) or "")
        if handler not in ELEMENT_FUNCTIONS:
            raise Unfoldable("unknown mapped function")

        def element(item: Plain) -> Value:
            self.steps -= 1
            if self.steps < 0:
                raise Unfoldable("bounds")
            return handler(self, [Value(item, source.layers)], {})

        return self.each(element, members(source), source)

    def apply_lambda(self, function: ast.Lambda, args: list[Value], nesting: int) -> Value:
        parameters = function.args
        if (
            parameters.posonlyargs
            or parameters.vararg
            or parameters.kwonlyargs
            or parameters.kwarg
            or parameters.defaults
        ):
            raise Unfoldable("lambda with a complex signature")
        if len(parameters.args) != len(args):
            raise Unfoldable("wrong number of arguments")
        scope = {parameter.arg: arg for parameter, arg in zip(parameters.args, args, strict=True)}
        return self.eval(function.body, scope, nesting)


_INT_OPERATIONS: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
    ast.LShift: lambda a, b: a << b,
    ast.RShift: lambda a, b: a >> b,
    ast.BitXor: lambda a, b: a ^ b,
    ast.BitAnd: lambda a, b: a & b,
    ast.BitOr: lambda a, b: a | b,
}
