"""The strings inside marshal data (compiled Python), read without ``marshal.loads``.

Malware ships code as ``exec(marshal.loads(blob))`` so that no source is visible. Loading
hostile marshal data is unsafe (it builds code objects, and crafted data has crashed the
interpreter), so this module reads the format itself, keeping only what a reviewer needs: the
string constants, names, attribute names and file names, which is where ``exec``,
``urlopen``, ``system`` and URLs show up. Every length is checked against the data before it
is read, and nesting and object counts are bounded.

The format (CPython ``Python/marshal.c``): a type byte, whose high bit (``FLAG_REF``) adds the
object to a reference table that later ``r`` records point into, then a type-specific body.
Code objects differ between Python versions (number of leading int fields, fields after the
first line number), so the layouts are tried in turn and the first that reads the whole
object wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from verify._behaviour.decoders import text_of

__all__ = ["MARSHAL_MAX_NESTING", "MARSHAL_MAX_OBJECTS", "MARSHAL_MAX_STRINGS", "marshal_strings"]

#: Strings returned at most; the rest are dropped.
MARSHAL_MAX_STRINGS = 10_000
#: Total characters returned at most.
MARSHAL_MAX_CHARS = 1024 * 1024
#: Containers inside containers (CPython allows 2000; real modules nest a few dozen deep).
MARSHAL_MAX_NESTING = 100
#: Objects read at most from one blob.
MARSHAL_MAX_OBJECTS = 1_000_000

_FLAG_REF = 0x80
#: Types with no body, and types with a fixed-size body.
_EMPTY = frozenset(b"0NFTS.")
_FIXED = {ord("i"): 4, ord("I"): 8, ord("g"): 8, ord("y"): 16}
_STRINGS_32 = frozenset(b"stuaA")  # 4-byte length
_STRINGS_8 = frozenset(b"zZ")  # 1-byte length
_SEQUENCES = frozenset(b"([<>")


@dataclass(frozen=True, slots=True)
class _Layout:
    """How a code object is laid out: int fields, objects before the first line number, after."""

    ints: int
    before: int
    after: int


_LAYOUTS = (
    _Layout(5, 8, 2),  # 3.11+: ... qualname, firstlineno, linetable, exceptiontable
    _Layout(6, 8, 1),  # 3.8-3.10: posonlyargcount and nlocals both present
    _Layout(5, 8, 1),  # 3.0-3.7
    _Layout(4, 8, 1),  # 2.x
)


class _Malformed(Exception):
    """Not marshal data in this layout."""


def marshal_strings(data: bytes, *, limit: int = MARSHAL_MAX_STRINGS) -> list[str] | None:
    """The distinct non-empty strings in marshal ``data`` (text-like bytes constants too), in
    order of appearance, at most ``limit`` of them; ``None`` when ``data`` does not hold one
    well-formed marshal object. Trailing bytes after the object are ignored, as
    ``marshal.loads`` does."""
    if not data:
        return None
    for layout in _LAYOUTS:
        reader = _Reader(data, layout, limit)
        try:
            reader.read(0)
        except _Malformed:
            if not reader.saw_code:
                return None  # no code object: the layout was not the problem
            continue
        return list(reader.strings)
    return None


class _Reader:
    def __init__(self, data: bytes, layout: _Layout, limit: int) -> None:
        self.data = data
        self.pos = 0
        self.layout = layout
        self.limit = limit
        self.chars = 0
        self.objects = 0
        self.saw_code = False
        #: FLAG_REF objects in order; strings keep their value for ``r`` records.
        self.refs: list[str | None] = []
        #: Python 2 interned strings, for its ``R`` records.
        self.interned: list[str | None] = []
        self.strings: dict[str, None] = {}

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if size < 0 or end > len(self.data):
            raise _Malformed("truncated")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def int32(self) -> int:
        return int.from_bytes(self.take(4), "little", signed=True)

    def byte(self) -> int:
        return self.take(1)[0]

    def count(self, size: int) -> int:
        """A container's item count: each item takes at least one byte."""
        if size < 0 or size > len(self.data) - self.pos:
            raise _Malformed("impossible count")
        return size

    def read(self, depth: int, *, keep: bool = True) -> str | None:
        """Read one object; return its value when it is a string (listed when ``keep``)."""
        self.objects += 1
        if depth > MARSHAL_MAX_NESTING or self.objects > MARSHAL_MAX_OBJECTS:
            raise _Malformed("too deep or too many objects")
        code = self.byte()
        kind = code & ~_FLAG_REF
        slot = None
        if code & _FLAG_REF:
            # Containers and code take their slot before their children, as CPython does.
            slot = len(self.refs)
            self.refs.append(None)
        value = self.body(kind, depth, keep)
        if slot is not None:
            self.refs[slot] = value
        return value

    def body(self, kind: int, depth: int, keep: bool) -> str | None:
        if kind in _EMPTY:
            return None
        if kind in _FIXED:
            self.take(_FIXED[kind])
            return None
        if kind in _STRINGS_32 or kind in _STRINGS_8:
            size = self.int32() if kind in _STRINGS_32 else self.byte()
            return self.string(kind, self.take(size), keep)
        if kind == ord("l"):  # a long: signed digit count, 15-bit digits in 2 bytes each
            self.take(2 * abs(self.int32()))
        elif kind == ord("f"):  # float as text
            self.take(self.byte())
        elif kind == ord("x"):  # complex as two texts
            self.take(self.byte())
            self.take(self.byte())
        elif kind in _SEQUENCES or kind == ord(")"):
            size = self.byte() if kind == ord(")") else self.count(self.int32())
            for _ in range(size):
                self.read(depth + 1)
        elif kind == ord(":"):  # a slice (3.14): start, stop, step
            for _ in range(3):
                self.read(depth + 1)
        elif kind == ord("{"):
            while self.data[self.pos : self.pos + 1] not in (b"0", b""):
                self.read(depth + 1)
                self.read(depth + 1)
            self.take(1)  # the NULL that ends a dict (or "truncated")
        elif kind == ord("c"):
            self.code(depth)
        elif kind == ord("r"):
            return self.reference(self.refs)
        elif kind == ord("R"):
            return self.reference(self.interned)
        else:
            raise _Malformed(f"unknown type {kind:#x}")
        return None

    def reference(self, table: list[str | None]) -> str | None:
        index = self.int32()
        if not 0 <= index < len(table):
            raise _Malformed("bad reference")
        return table[index]

    def code(self, depth: int) -> None:
        self.saw_code = True
        layout = self.layout
        self.take(4 * layout.ints)
        for index in range(layout.before):
            if index == 4:
                # 3.11+ has the locals' kind bytes here, older versions the free variables'
                # tuple: a layout that reads the other cannot be this data's.
                kind = self.data[self.pos : self.pos + 1]
                expected = b"sr" if layout.after == 2 else b"()r"
                if not kind or (kind[0] & ~_FLAG_REF) not in expected:
                    raise _Malformed("not this version's code layout")
            # Bytecode, and (3.11+) the locals' kind bytes, are binary that can look like text.
            self.read(depth + 1, keep=index != 0 and not (index == 4 and layout.after == 2))
        self.take(4)  # first line number
        for _ in range(layout.after):
            self.read(depth + 1, keep=False)  # line and exception tables

    def string(self, kind: int, raw: bytes, keep: bool) -> str | None:
        if kind == ord("s"):
            value = text_of(raw) if raw and keep else None  # b"..." constants that are text
        else:
            value = raw.decode("utf-8" if kind in b"tu" else "latin-1", errors="replace")
        if kind == ord("t"):
            self.interned.append(value)
        room = len(self.strings) < self.limit and self.chars + len(value or "") <= MARSHAL_MAX_CHARS
        if keep and room and value and not value.isspace() and value not in self.strings:
            self.strings[value] = None
            self.chars += len(value)
        return value
