"""The functions and names :mod:`verify._behaviour.folding` can evaluate.

Decoders of ``base64``, ``binascii``, ``codecs``, ``zlib``, ``gzip``, ``bz2`` and ``lzma``;
``marshal.loads`` (read as its strings by :mod:`verify._behaviour.marshal_reader`, never
loaded); builtins that build strings (``chr``, ``ord``, ``bytes``, ``int``, ``reversed``...);
and decryption with Fernet and pycryptodome-style AES when the key is a literal. Each is a
pure function of folded values: nothing from the package is called. Every value carries the
layers that produced it. The values, and the string methods that may be called on them, are
in :mod:`verify._behaviour.folding_values`.
"""

from __future__ import annotations

import base64
import binascii
import codecs
from collections.abc import Callable
from typing import TypeAlias

from cryptography.hazmat.primitives import padding

from verify._behaviour.decoders import AES_MODES, AesSpec, compression_of, decompress
from verify._behaviour.folding_values import (
    DECODING_CODECS,
    ERROR_HANDLERS,
    MAX_ITEMS,
    TEXT_ENCODINGS,
    Datum,
    FernetKey,
    Table,
    Unfoldable,
    Value,
    Values,
    codec_key,
    datum,
    members,
    option,
    scalar,
)
from verify._behaviour.marshal_reader import marshal_strings

__all__ = ["CONSTANTS", "ELEMENT_FUNCTIONS", "FUNCTIONS", "Handler"]


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


Handler: TypeAlias = "Callable[[Values, list[Value], dict[str, Value]], Value]"


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
    key = codec_key(option(args, kwargs, 1, "encoding", "utf-8"))
    errors = option(args, kwargs, 2, "errors", "strict")
    if not isinstance(value, str) or errors not in ERROR_HANDLERS:
        raise Unfoldable("unsupported encode")
    if DECODING_CODECS.get(key) == "rot13":
        return folder.result(codecs.encode(value, "rot13"), _sources(args, kwargs), "rot13")
    encoding = TEXT_ENCODINGS.get(key)
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
