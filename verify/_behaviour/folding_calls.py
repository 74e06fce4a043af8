"""The functions, methods and names :mod:`verify._behaviour.folding` can evaluate.

Decoders of ``base64``, ``binascii``, ``codecs``, ``zlib``, ``gzip``, ``bz2`` and ``lzma``;
``marshal.loads`` (read as its strings by :mod:`verify._behaviour.marshal_reader`, never
loaded); builtins that build strings (``chr``, ``ord``, ``bytes``, ``int``, ``reversed``...);
string methods whose output is no larger than their input; and decryption with Fernet and
pycryptodome-style AES when the key is a literal. Each is a pure function of folded values:
nothing from the package is called. Every value carries the layers that produced it.
"""

from __future__ import annotations

import base64
import binascii
import codecs
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

from cryptography.hazmat.primitives import padding

from verify._behaviour.decoders import (
    AES_MODES,
    AesSpec,
    aes_decrypt,
    compression_of,
    decompress,
    fernet_decrypt,
)
from verify._behaviour.marshal_reader import marshal_strings

__all__ = [
    "CONSTANTS",
    "ELEMENT_FUNCTIONS",
    "FUNCTIONS",
    "MAX_INT_BITS",
    "MAX_ITEMS",
    "Data",
    "Datum",
    "FernetKey",
    "Handler",
    "Plain",
    "Table",
    "Unfoldable",
    "Value",
    "Values",
    "datum",
    "members",
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


CONSTANTS: dict[str, int] = {
    "zlib.MAX_WBITS": 15,
    "lzma.FORMAT_AUTO": 0,
    **{
        f"{package}.Cipher.AES.{name}": value
        for package in ("Crypto", "Cryptodome")
        for name, value in (
            ("block_size", 16),
            *((f"MODE_{m.upper()}", n) for n, m in AES_MODES.items()),
        )
    },
}
_TEXT_ENCODINGS = {
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
_DECODING_CODECS = {
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
_ERROR_HANDLERS = frozenset(
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


Handler: TypeAlias = "Callable[[Values, list[Value], dict[str, Value]], Value]"


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
            encoding = _TEXT_ENCODINGS.get(_codec_key(option(args, kwargs, 0, "encoding", "utf-8")))
            errors = option(args, kwargs, 1, "errors", "strict")
            if encoding is None or errors not in _ERROR_HANDLERS:
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
        key = _codec_key(encoding_name)
        if errors not in _ERROR_HANDLERS:
            raise Unfoldable("unknown error handler")
        assert isinstance(errors, str)  # noqa: S101  (members of _ERROR_HANDLERS are)
        encoding = _TEXT_ENCODINGS.get(key)
        if encoding is not None:
            if not isinstance(value, bytes):
                raise Unfoldable("decoding text")
            return self.result(value.decode(encoding, errors), sources)
        codec = _DECODING_CODECS.get(key)
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


def _codec_key(name: Plain) -> str:
    if not isinstance(name, str):
        raise Unfoldable("codec name is not a string")
    return name.strip().lower().replace("-", "_").replace(" ", "_")


# -- Functions ---------------------------------------------------------------------------------


def _arguments(args: list[Value], kwargs: dict[str, Value]) -> tuple[list[Datum], dict[str, Datum]]:
    return [datum(arg) for arg in args], {key: datum(arg) for key, arg in kwargs.items()}


def _sources(args: list[Value], kwargs: dict[str, Value]) -> list[Value]:
    return [*args, *kwargs.values()]


def _pure(function: Callable[..., bytes], layer: str) -> Handler:
    """A decoder from the standard library whose output is never larger than its input."""

    def handler(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
        plain, options = _arguments(args, kwargs)
        return folder.result(bytes(function(*plain, **options)), _sources(args, kwargs), layer)

    return handler


def _data(args: list[Value]) -> bytes:
    if not args or not isinstance(args[0].value, bytes):
        raise Unfoldable("not bytes")
    return args[0].value


def _zlib(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    data = _data(args)
    wbits = option(args, kwargs, 1, "wbits", 15)
    if not isinstance(wbits, int):
        raise Unfoldable("wbits is not an integer")
    layer = "gzip" if wbits >= 16 and compression_of(data) == "gzip" else "zlib"
    output, truncated = decompress("zlib", data, folder.max_size, wbits=wbits)
    return folder.result(output, _sources(args, kwargs), layer, truncated)


def _decompressor(kind: str) -> Handler:
    def handler(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
        if len(args) != 1 or kwargs:
            raise Unfoldable("decompression options")
        output, truncated = decompress(kind, _data(args), folder.max_size)
        return folder.result(output, args, kind, truncated)

    return handler


def _marshal(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    strings = marshal_strings(_data(args))
    if strings is None:
        raise Unfoldable("not marshal data")
    return folder.result("\n".join(strings), _sources(args, kwargs), "marshal")


def _codecs_decode(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    value = scalar(args[0]) if args else scalar(kwargs["obj"])
    if isinstance(value, int):
        raise Unfoldable("decoding a number")
    encoding = option(args, kwargs, 1, "encoding", "utf-8")
    errors = option(args, kwargs, 2, "errors", "strict")
    return folder.text_codec(value, encoding, errors, _sources(args, kwargs))


def _codecs_encode(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    value = scalar(args[0]) if args else scalar(kwargs["obj"])
    key = _codec_key(option(args, kwargs, 1, "encoding", "utf-8"))
    errors = option(args, kwargs, 2, "errors", "strict")
    if not isinstance(value, str) or errors not in _ERROR_HANDLERS:
        raise Unfoldable("unsupported encode")
    if _DECODING_CODECS.get(key) == "rot13":
        return folder.result(codecs.encode(value, "rot13"), _sources(args, kwargs), "rot13")
    encoding = _TEXT_ENCODINGS.get(key)
    if encoding is None:
        raise Unfoldable("unsupported encoding")
    return folder.result(value.encode(encoding, str(errors)), _sources(args, kwargs))


def _chr(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    (code,), _ = _arguments(args, kwargs)
    if not isinstance(code, int):
        raise Unfoldable("chr of a non-integer")
    return folder.result(chr(code), args, "chr")


def _ord(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    (character,), _ = _arguments(args, kwargs)
    if not isinstance(character, str):
        raise Unfoldable("ord of a non-string")
    return folder.result(ord(character), args)


def _int(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    number = scalar(args[0]) if args else 0
    base = option(args, kwargs, 1, "base", 10)
    if isinstance(number, int):
        return folder.result(number, args)
    if len(number) > 64 or not isinstance(base, int):
        raise Unfoldable("integer too long")  # and int() of a long digit string is quadratic
    return folder.result(int(number, base), _sources(args, kwargs))


def _str(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    if len(args) == 1 and not kwargs:
        value = scalar(args[0])
        folder.check_size(4 * len(value) if isinstance(value, bytes) else 0)
        return folder.result(value if isinstance(value, str) else str(value), args)
    value = scalar(args[0]) if args else b""
    encoding = option(args, kwargs, 1, "encoding", "utf-8")
    errors = option(args, kwargs, 2, "errors", "strict")
    if not isinstance(value, bytes):
        raise Unfoldable("str() of a non-bytes value with an encoding")
    return folder.text_codec(value, encoding, errors, _sources(args, kwargs))


def _bytes(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    plain, _ = _arguments(args, kwargs)
    if not plain:
        return folder.result(b"", [])
    value = args[0].value
    if isinstance(value, tuple) and len(plain) == 1:
        return folder.result(bytes(value), args, "bytes-list")  # type: ignore[arg-type]
    if isinstance(value, bytes) and len(plain) == 1:
        return folder.result(value, args)
    if isinstance(value, str) and len(plain) >= 2:
        return _codecs_encode(folder, args, kwargs)
    raise Unfoldable("unsupported bytes() call")


def _reversed(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    items = members(args[0])
    layer = None if isinstance(args[0].value, tuple) else "reversed"
    return folder.result(items[::-1], args, layer)


def _sequence(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    return folder.result(members(args[0]) if args else (), args)


def _range(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    plain, _ = _arguments(args, kwargs)
    if not all(isinstance(bound, int) for bound in plain):
        raise Unfoldable("range of non-integers")
    numbers = range(*plain)  # type: ignore[arg-type]
    if len(numbers) > MAX_ITEMS:
        raise Unfoldable("range too long")
    return folder.result(tuple(numbers), args)


def _len(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    return folder.result(len(members(args[0])), args)


def _source(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    """``compile(source, ...)``: the source (only read here, of course)."""
    if not args or not isinstance(args[0].value, (str, bytes)):
        raise Unfoldable("compile() of a non-literal")
    return args[0]


def _maketrans(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    plain, _ = _arguments(args, kwargs)
    if all(isinstance(arg, str) for arg in plain):
        return folder.result(Table(str.maketrans(*plain)), args)  # type: ignore[arg-type]
    return folder.result(bytes.maketrans(*plain), args)  # type: ignore[arg-type]


def _fernet(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    key = option(args, kwargs, 0, "key", "")
    if not isinstance(key, (str, bytes)) or not key:
        raise Unfoldable("not a key")
    return folder.result(FernetKey(key), _sources(args, kwargs))


def _aes(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    plain, options = _arguments(args, kwargs)
    key = plain[0] if plain else options.get("key")
    mode = plain[1] if len(plain) > 1 else options.get("mode")
    extra = plain[2] if len(plain) > 2 else None
    name = AES_MODES.get(mode) if isinstance(mode, int) else None
    iv = options.get("iv", options.get("IV", extra if name in ("cbc", "cfb", "ofb") else None))
    nonce = options.get("nonce", extra if name in ("ctr", "gcm") else None)
    initial, segment = options.get("initial_value", 0), options.get("segment_size", 8)
    if not (isinstance(key, bytes) and isinstance(mode, int) and name is not None):
        raise Unfoldable("unsupported AES call")
    if not (
        _optional_bytes(iv)
        and _optional_bytes(nonce)
        and isinstance(initial, int)
        and isinstance(segment, int)
    ):
        raise Unfoldable("unsupported AES parameters")
    spec = AesSpec(key, mode, iv, nonce, initial, segment)  # type: ignore[arg-type]
    return folder.result(spec, _sources(args, kwargs))


def _optional_bytes(value: object) -> bool:
    return value is None or isinstance(value, bytes)


def _unpad(folder: Values, args: list[Value], kwargs: dict[str, Value]) -> Value:
    data = _data(args)
    size = option(args, kwargs, 1, "block_size", "")
    style = option(args, kwargs, 2, "style", "pkcs7")
    if not isinstance(size, int) or not 0 < size < 256 or style != "pkcs7":
        raise Unfoldable("unsupported padding")
    unpadder = padding.PKCS7(8 * size).unpadder()
    return folder.result(unpadder.update(data) + unpadder.finalize(), _sources(args, kwargs))


def _base64_names(*names: str) -> tuple[str, ...]:
    return tuple(f"base64.{name}" for name in names)


FUNCTIONS: dict[str, Handler] = {
    **dict.fromkeys(
        _base64_names("b64decode", "standard_b64decode"), _pure(base64.b64decode, "base64")
    ),
    **dict.fromkeys(
        _base64_names("decodebytes", "decodestring"), _pure(base64.decodebytes, "base64")
    ),
    "base64.urlsafe_b64decode": _pure(base64.urlsafe_b64decode, "base64"),
    "binascii.a2b_base64": _pure(binascii.a2b_base64, "base64"),
    "base64.b32decode": _pure(base64.b32decode, "base32"),
    "base64.b32hexdecode": _pure(base64.b32hexdecode, "base32"),
    "base64.b16decode": _pure(base64.b16decode, "base16"),
    "base64.a85decode": _pure(base64.a85decode, "ascii85"),
    "base64.b85decode": _pure(base64.b85decode, "base85"),
    **dict.fromkeys(
        ("binascii.unhexlify", "binascii.a2b_hex", "bytes.fromhex", "bytearray.fromhex"),
        _pure(binascii.unhexlify, "hex"),
    ),
    "binascii.a2b_uu": _pure(binascii.a2b_uu, "uu"),
    "binascii.a2b_qp": _pure(binascii.a2b_qp, "quoted-printable"),
    "zlib.decompress": _zlib,
    "gzip.decompress": _decompressor("gzip"),
    "bz2.decompress": _decompressor("bz2"),
    "lzma.decompress": _decompressor("lzma"),
    "marshal.loads": _marshal,
    "codecs.decode": _codecs_decode,
    "codecs.encode": _codecs_encode,
    "chr": _chr,
    "ord": _ord,
    "int": _int,
    "str": _str,
    **dict.fromkeys(("bytes", "bytearray"), _bytes),
    "reversed": _reversed,
    **dict.fromkeys(("list", "tuple"), _sequence),
    "range": _range,
    "len": _len,
    "compile": _source,
    **dict.fromkeys(("str.maketrans", "bytes.maketrans"), _maketrans),
    "cryptography.fernet.Fernet": _fernet,
    **dict.fromkeys(("Crypto.Cipher.AES.new", "Cryptodome.Cipher.AES.new"), _aes),
    **dict.fromkeys(("Crypto.Util.Padding.unpad", "Cryptodome.Util.Padding.unpad"), _unpad),
}
if hasattr(base64, "z85decode"):  # Python 3.13+
    FUNCTIONS["base64.z85decode"] = _pure(base64.z85decode, "z85")
#: Functions ``map`` may apply.
ELEMENT_FUNCTIONS = frozenset({_chr, _ord, _int, _str})
