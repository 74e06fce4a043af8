"""The values :mod:`verify._behaviour.folding` works with, and what it does with them.

A :class:`Value` is a folded string, bytes, integer or sequence (or a Fernet key, an AES
cipher, a ``maketrans`` table) with the decoding layers that produced it. :class:`Values`
builds values within the fold's bounds, decodes them with text encodings and decoding codecs,
and calls the str and bytes methods whose output is no larger than their input. Nothing from
the package is ever called.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

from verify._behaviour.decoders import AesSpec, aes_decrypt, decompress, fernet_decrypt

__all__ = [
    "DECODING_CODECS",
    "ERROR_HANDLERS",
    "MAX_INT_BITS",
    "MAX_ITEMS",
    "TEXT_ENCODINGS",
    "Data",
    "Datum",
    "FernetKey",
    "Plain",
    "Table",
    "Unfoldable",
    "Value",
    "Values",
    "codec_key",
    "datum",
    "members",
    "option",
    "scalar",
]


#: Items in one list, range or comprehension (a ``chr`` list of a 1 MiB script fits).
MAX_ITEMS = 1 << 20
#: Integers stay below 2**64 (shifts and powers could otherwise build huge numbers).
MAX_INT_BITS = 64

Plain: TypeAlias = "str | bytes | int"


@dataclass(frozen=True, slots=True)
class FernetKey:
    key: str | bytes


@dataclass(frozen=True, slots=True, eq=False)
class Table:
    """A ``str.maketrans`` table."""

    mapping: dict[int, int | None]


#: What an argument may be: a plain value or a sequence of them.
Datum: TypeAlias = "Plain | tuple[Plain, ...]"
Data: TypeAlias = "Datum | FernetKey | AesSpec | Table"


class Value(NamedTuple):
    """A folded value and the decoding layers that produced it, outermost first."""

    value: Data
    layers: tuple[str, ...] = ()
    truncated: bool = False


class Unfoldable(Exception):
    """The expression cannot be folded (or a bound was hit)."""


TEXT_ENCODINGS = {
    **dict.fromkeys(("utf_8", "utf8", "u8"), "utf-8"),
    **dict.fromkeys(("ascii", "us_ascii"), "ascii"),
    **dict.fromkeys(("latin_1", "latin1", "iso_8859_1", "iso8859_1", "l1"), "latin-1"),
    **dict.fromkeys(("cp1252", "windows_1252"), "cp1252"),
    **dict.fromkeys(("utf_16", "utf16"), "utf-16"),
    **dict.fromkeys(("utf_16_le", "utf_16le"), "utf-16-le"),
    **dict.fromkeys(("utf_16_be", "utf_16be"), "utf-16-be"),
    **dict.fromkeys(("utf_32", "utf32"), "utf-32"),
}
#: Codecs that decode: canonical name and layer. Their output is never larger than the input,
#: except zlib and bz2, which go through the bounded decompressor.
DECODING_CODECS = {
    **dict.fromkeys(("rot13", "rot_13"), "rot13"),
    **dict.fromkeys(("hex", "hex_codec"), "hex"),
    **dict.fromkeys(("base64", "base_64", "base64_codec"), "base64"),
    **dict.fromkeys(("zlib", "zip", "zlib_codec"), "zlib"),
    **dict.fromkeys(("bz2", "bz2_codec"), "bz2"),
    **dict.fromkeys(("uu", "uu_codec"), "uu"),
    **dict.fromkeys(("quopri", "quopri_codec", "quotedprintable"), "quopri"),
    **dict.fromkeys(("unicode_escape",), "unicode_escape"),
    **dict.fromkeys(("raw_unicode_escape",), "raw_unicode_escape"),
}
ERROR_HANDLERS = frozenset(
    {"strict", "ignore", "replace", "backslashreplace", "surrogateescape", "surrogatepass"}
)
#: str and bytes methods whose output is no larger than their input (``replace`` is checked).
_METHODS = frozenset(
    {
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "swapcase",
        "split",
        "rsplit",
        "replace",
        "translate",
    }
)


class Values:
    """What a fold has to hand: bounds, and how to build, decode and call methods on values."""

    def __init__(self, max_depth: int, max_size: int) -> None:
        self.max_depth = max_depth
        self.max_size = max_size

    def result(
        self,
        value: Data,
        sources: Iterable[Value],
        layer: str | None = None,
        truncated: bool = False,
    ) -> Value:
        """``value`` with the layers of what it was made from (and ``layer``), within bounds."""
        # One source's layers stay in order, repeats included (base64 of base64); the layers of
        # further sources (concatenated parts) are added when new.
        merged: tuple[str, ...] = ()
        for source in sources:
            if not merged:
                merged = source.layers
            elif source.layers != merged:
                merged += tuple(name for name in source.layers if name not in merged)
            truncated = truncated or source.truncated
        merged += (layer,) if layer else ()
        if len(merged) > self.max_depth:
            raise Unfoldable("too many layers")
        if isinstance(value, (str, bytes, tuple)) and len(value) > self.max_size:
            raise Unfoldable("too large")
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise Unfoldable("integer too large")
        return Value(value, merged, truncated)

    def check_size(self, size: int) -> None:
        if size > self.max_size:
            raise Unfoldable("too large")

    def join(self, separator: str | bytes, items: tuple[Plain, ...]) -> str | bytes:
        self.check_size(sum(len(item) for item in items if not isinstance(item, int)))
        return separator.join(items)  # type: ignore[arg-type]  # TypeError for mixed types

    def method(
        self, target: Value, name: str, args: list[Value], kwargs: dict[str, Value]
    ) -> Value:
        value = target.value
        sources = [target, *args, *kwargs.values()]
        plain = [arg.value for arg in args]
        if isinstance(value, FernetKey) and name == "decrypt" and plain:
            token = plain[0]
            if not isinstance(token, (str, bytes)):
                raise Unfoldable("not a token")
            return self.result(fernet_decrypt(value.key, token), sources, "fernet")
        if isinstance(value, AesSpec) and name in ("decrypt", "decrypt_and_verify") and plain:
            data, tag = (
                plain[0],
                plain[1] if name == "decrypt_and_verify" and len(plain) > 1 else None,
            )
            if not isinstance(data, bytes) or (tag is not None and not isinstance(tag, bytes)):
                raise Unfoldable("not bytes")
            return self.result(aes_decrypt(value, data, tag), sources, value.layer)
        if isinstance(value, bytes) and name == "decode":
            return self.text_codec(
                value,
                option(args, kwargs, 0, "encoding", "utf-8"),
                option(args, kwargs, 1, "errors", "strict"),
                sources,
            )
        if isinstance(value, str) and name == "encode":
            encoding = TEXT_ENCODINGS.get(codec_key(option(args, kwargs, 0, "encoding", "utf-8")))
            errors = option(args, kwargs, 1, "errors", "strict")
            if encoding is None or errors not in ERROR_HANDLERS:
                raise Unfoldable("unsupported encoding")
            return self.result(value.encode(encoding, errors), sources)
        if isinstance(value, (str, bytes)) and name == "join" and len(plain) == 1 and not kwargs:
            return self.result(self.join(value, members(args[0])), sources)
        if isinstance(value, (str, bytes)) and name in _METHODS:
            if name == "replace" and len(plain) >= 2:
                old, new = plain[0], plain[1]
                if not isinstance(old, (str, bytes)) or not isinstance(new, (str, bytes)):
                    raise Unfoldable("not strings")
                count = value.count(old) if old else len(value) + 1  # type: ignore[arg-type]
                self.check_size(len(value) + count * len(new))
            # translate() takes a maketrans table; nothing else but plain values goes in.
            arguments = [
                arg.mapping if isinstance(arg, Table) else datum(Value(arg)) for arg in plain
            ]
            options = {key: scalar(arg) for key, arg in kwargs.items()}
            output = getattr(value, name)(*arguments, **options)
            return self.result(tuple(output) if isinstance(output, list) else output, sources)
        raise Unfoldable(f"unknown method {name}")

    def text_codec(
        self, value: bytes | str, encoding_name: Plain, errors: Plain, sources: list[Value]
    ) -> Value:
        """``value`` decoded with a text encoding or a decoding codec."""
        key = codec_key(encoding_name)
        if errors not in ERROR_HANDLERS:
            raise Unfoldable("unknown error handler")
        assert isinstance(errors, str)  # noqa: S101  (members of ERROR_HANDLERS are)
        encoding = TEXT_ENCODINGS.get(key)
        if encoding is not None:
            if not isinstance(value, bytes):
                raise Unfoldable("decoding text")
            return self.result(value.decode(encoding, errors), sources)
        codec = DECODING_CODECS.get(key)
        if codec in ("zlib", "bz2"):
            if not isinstance(value, bytes):
                raise Unfoldable("decompressing text")
            output, truncated = decompress(codec, value, self.max_size)
            return self.result(output, sources, codec, truncated)
        if codec is None:
            raise Unfoldable("unsupported codec")
        layer = {
            "unicode_escape": "unicode-escape",
            "raw_unicode_escape": "unicode-escape",
            "quopri": "quoted-printable",
        }.get(codec, codec)
        if codec == "rot13":
            if not isinstance(value, str):
                raise Unfoldable("rot13 of bytes")
            return self.result(codecs.decode(value, "rot13"), sources, layer)
        data = value.encode("ascii") if isinstance(value, str) else value
        return self.result(codecs.decode(data, codec, errors), sources, layer)


def scalar(value: Value) -> Plain:
    if isinstance(value.value, (str, bytes, int)):
        return value.value
    raise Unfoldable("not a plain value")


def datum(value: Value) -> Datum:
    if isinstance(value.value, (str, bytes, int, tuple)):
        return value.value
    raise Unfoldable("not a plain value")


def members(value: Value) -> tuple[Plain, ...]:
    items = value.value
    if isinstance(items, str):
        return tuple(items)
    if isinstance(items, (bytes, tuple)):
        return tuple(items)
    raise Unfoldable("not iterable")


def option(
    args: list[Value], kwargs: dict[str, Value], index: int, name: str, default: Plain
) -> Plain:
    if len(args) > index:
        return scalar(args[index])
    if name in kwargs:
        return scalar(kwargs[name])
    return default


def codec_key(name: Plain) -> str:
    if not isinstance(name, str):
        raise Unfoldable("codec name is not a string")
    return name.strip().lower().replace("-", "_").replace(" ", "_")
