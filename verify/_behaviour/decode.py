"""Hidden payloads, decoded: what an encoded literal or a decoding expression holds.

Threat model. Malware hides the code it runs under layers of encoding so that neither a reader
nor a pattern match sees it: base64, base32, base85, hex, zlib/gzip/bz2/lzma, marshal, rot13,
reversed strings, character-code lists, PowerShell ``-EncodedCommand``, Fernet or AES with the
key beside the ciphertext, nested in any order. This module takes the layers off, statically:
nothing is ever executed, imported, unmarshalled or evaluated (marshal data is read by
:mod:`verify._behaviour.marshal_reader`; ciphers are the ``cryptography`` package's).

- :func:`peel` guesses the encodings of a bare literal (a long string in source code) and
  takes them off one by one. Guessing must not fire on ordinary text, so every guess is gated
  by a length, a strict alphabet (with valid padding) and what it yields: another layer,
  compressed or marshal data with a valid header, an executable, or mostly printable text.
  rot13, reversal and character codes yield text from *any* text, so they count only when the
  result reads like code (``import``, ``exec(``, a URL, ``powershell``...).
- :func:`fold` evaluates an expression built only of literals and known decoders, the form
  ``exec(zlib.decompress(base64.b64decode(b"...")))`` takes (see
  :mod:`verify._behaviour.folding`).
- :func:`powershell_payload` reads the script a PowerShell command line hides.
- :func:`marshal_strings` lists the strings in marshal data.

Bounds. Every decode stops at ``max_size`` bytes of output (:data:`MAX_SIZE`); a decompression
bomb yields its first ``max_size`` bytes and ``truncated``. At most ``max_depth`` layers
(:data:`MAX_DEPTH`, never more than :data:`DEPTH_CEILING`) are taken off; data still encoded
at that depth is returned ``truncated``. :func:`peel` tries at most :data:`PEEL_MAX_ATTEMPTS`
decodings per literal, and rejects most literals before any decoding work with cheap tests:
length, printability, an anchored alphabet match, substring searches for keywords.
"""

from __future__ import annotations

import ast
import base64
import binascii
import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from verify._behaviour import folding
from verify._behaviour.decoders import (
    BINARY_MAGIC,
    Undecodable,
    compression_of,
    decompress,
    printable,
    text_of,
    utf16_text,
)
from verify._behaviour.marshal_reader import marshal_strings

__all__ = [
    "DEPTH_CEILING",
    "FOLD_MIN_LENGTH",
    "MAX_DEPTH",
    "MAX_SIZE",
    "PEEL_MAX_ATTEMPTS",
    "PEEL_MAX_TEXT",
    "PEEL_MIN_LENGTH",
    "Decoded",
    "fold",
    "marshal_strings",
    "peel",
    "powershell_payload",
]

#: Layers taken off by default, and the most any caller may ask for (recursion stays shallow).
MAX_DEPTH = 8
DEPTH_CEILING = 32
#: Bytes of output any one decoding may produce.
MAX_SIZE = 4 * 1024 * 1024
#: Characters a bare literal needs before :func:`peel` guesses at it: shorter base64 or hex
#: is mostly identifiers, hashes' prefixes and test data, and hides little.
PEEL_MIN_LENGTH = 40
#: The same for data an explicit decoder call already produced, and for layers below the first.
FOLD_MIN_LENGTH = 16
#: Decodings :func:`peel` tries per literal, over all layers.
PEEL_MAX_ATTEMPTS = 48
#: Text longer than this is not guessed at (scanning it costs time); of shorter text, at most
#: what decodes to ``max_size`` bytes is decoded.
PEEL_MAX_TEXT = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Decoded:
    """A payload with its encoding layers taken off."""

    #: The layers, outermost first: ``("base64", "zlib")``, ``("fernet",)``. Empty when
    #: :func:`fold` evaluated an expression of plain literals (a concatenation, say).
    layers: tuple[str, ...]
    #: The innermost payload (for ``marshal``: its strings, one a line).
    data: bytes
    #: The payload as text, when it is mostly printable UTF-8 or UTF-16LE, else ``None``.
    text: str | None
    #: A bound cut the payload short (size), or it is still encoded (depth).
    truncated: bool = False


# Tokens that make text read as code or a command: the evidence a rot13, reversed or
# character-code literal needs, since those transforms turn any text into other text.
_KEYWORDS = (
    "import ", "exec(", "eval(", "__import__", "os.system", "subprocess", "powershell",
    "http://", "https://", "/bin/sh", "/bin/bash", "socket.socket", "urlopen", "urllib",
    "requests.get", "requests.post", "b64decode", "cmd.exe", "chmod +x", "curl ", "wget ",
)  # fmt: skip
# Their reversed and rot13 forms are searched in the literal itself, so nothing is transformed
# until there is reason to. Substring tests: far faster than one regular expression of them.
_REVERSED_KEYWORDS = tuple(word[::-1] for word in _KEYWORDS)
_ROT13_KEYWORDS = tuple(codecs.encode(word, "rot13") for word in _KEYWORDS)

_WRAPPED = re.compile(r"[A-Za-z0-9+/=_\-\s]+")  # base64 or hex, possibly over several lines
_WHITESPACE = re.compile(r"\s+")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_BASE64_URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_BASE32 = re.compile(r"[A-Z2-7]+={0,6}")
_BASE85 = re.compile(r"[0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]+")
_ASCII85 = re.compile(r"(?:<~)?[!-uz]+(?:~>)?")
_ESCAPES = re.compile(r"(?:\\x[0-9A-Fa-f]{2})+")
_CHAR_CODES = re.compile(r"[\[(]?\d{1,3}(?:\s*,\s*\d{1,3}){7,}\s*,?[\])]?")

#: marshal type bytes of a code object: Python 3 (with FLAG_REF) and Python 2.
_CODE_TYPES = (0xE3, 0x63)
#: Where marshal data starts in a .pyc: after 16 header bytes (3.7+), 12 (3.3-3.6), 8 (2.x).
_PYC_HEADERS = (16, 12, 8)

# PowerShell takes any unambiguous prefix of -EncodedCommand (-e, -en, -enc...), -ec, and
# "/" or a typographic dash in place of "-"; a colon may join the value to the name.
_PS_NAMES = sorted({"ec", *("encodedcommand"[:n] for n in range(1, 15))}, key=len, reverse=True)
_PS_ENCODED = re.compile(
    r"(?:^|\s)(?:--?|/|[\u2013\u2014\u2015])(?:" + "|".join(_PS_NAMES) + r")(?:\s+|:)"
    r"[\"']?([A-Za-z0-9+/]{4,}={0,2})(?![\w+/=])",
    re.IGNORECASE,
)


_PS_LAYER = "powershell-encodedcommand"


def powershell_payload(command: str) -> Decoded | None:
    """The script a PowerShell command line hides with ``-EncodedCommand`` (or ``-enc``,
    ``-e``, ``-ec``, any case, any unambiguous prefix): base64 of UTF-16LE text.

    ``data`` is the UTF-16LE bytes, ``text`` the script. ``None`` without such an option, or
    when its value is not base64 of mostly-Latin UTF-16LE text.
    """
    for match in _PS_ENCODED.finditer(command):
        try:
            raw = base64.b64decode(match[1], validate=True)
        except (binascii.Error, ValueError):
            continue
        script = utf16_text(raw)
        if script is not None and script.strip():
            return Decoded((_PS_LAYER,), raw, script)
    return None


def peel(
    value: str | bytes, *, max_depth: int = MAX_DEPTH, max_size: int = MAX_SIZE
) -> Decoded | None:
    """Guess and take off the encodings of a bare literal until plain text is left or nothing
    more decodes; ``None`` when no layer decodes at all (most literals)."""
    return _peel(value, max_depth, max_size, PEEL_MIN_LENGTH)


def fold(
    node: ast.expr,
    *,
    qualname: Callable[[ast.expr], str | None],
    lookup: Callable[[str], ast.expr | None],
    max_depth: int = MAX_DEPTH,
    max_size: int = MAX_SIZE,
) -> Decoded | None:
    """Statically evaluate an expression built only of literals and known decoders, never
    running anything: ``zlib.decompress(base64.b64decode(b"..."))``, ``"..."[::-1]``,
    ``"".join(chr(c) for c in [...])``, ``bytes([...]).decode()``, ``codecs.decode(s,
    "rot13")``, ``Fernet(key).decrypt(token)``, ``AES.new(key, AES.MODE_CBC, iv).decrypt(ct)``,
    concatenations, f-strings and ``%`` of literal parts, and variables through ``lookup``.

    ``qualname`` maps a callee expression to its dotted imported name (``"base64.b64decode"``,
    ``"cryptography.fernet.Fernet"``, ``"Crypto.Cipher.AES.new"``) or ``None``; methods of
    folded values (``.decode()``, ``.decrypt()``) need no name. ``lookup`` maps a variable to
    the expression last assigned to it in the same scope, or ``None``. Returns ``None`` when
    anything in the expression cannot be folded or a bound is hit; ``layers`` is empty for an
    expression of plain literals. A list of strings (a process's arguments) folds to them
    joined by spaces. What the expression leaves encoded (bytes no call decompresses, base64
    text, a PowerShell command line) is peeled as by :func:`peel`.
    """
    max_depth = min(max_depth, DEPTH_CEILING)
    folded = folding.evaluate(node, qualname, lookup, max_depth=max_depth, max_size=max_size)
    if folded is None:
        return None
    value, layers, truncated = folded
    data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    text = text_of(data) if isinstance(value, bytes) else value if printable(value) else None
    # What the expression leaves encoded (bytes no call decompressed, base64 text, a command
    # line) is peeled like a literal; the shorter minimum once a decoder has been called.
    minimum = FOLD_MIN_LENGTH if layers else PEEL_MIN_LENGTH
    rest = _peel(data, max_depth - len(layers), max_size, minimum)
    if rest is not None:
        return Decoded(layers + rest.layers, rest.data, rest.text, truncated or rest.truncated)
    return Decoded(layers, data, text, truncated)


def _peel(value: str | bytes, max_depth: int, max_size: int, min_length: int) -> Decoded | None:
    if len(value) < min_length or max_depth <= 0:
        return None
    if isinstance(value, str):
        data, text = value.encode("utf-8", "surrogatepass"), value if printable(value) else None
    else:
        data, text = value, text_of(value)
    return _Peeler(min(max_depth, DEPTH_CEILING), max_size, min_length).peel(data, text, 0)


class _Candidate(NamedTuple):
    """One way to decode a layer: the layers it takes off, the result, what accepts it."""

    layers: tuple[str, ...]
    data: bytes
    #: ``any``: the format itself is the evidence (compressed, marshal); ``text``: text or an
    #: executable; ``code``: text that reads like code (rot13, reversal, character codes).
    accept: str
    truncated: bool = False


class _Peeler:
    def __init__(self, max_depth: int, max_size: int, min_length: int) -> None:
        self.max_depth = max_depth
        self.max_size = max_size
        self.min_length = min_length
        self.attempts = PEEL_MAX_ATTEMPTS

    def peel(self, data: bytes, text: str | None, depth: int) -> Decoded | None:
        """The first candidate that decodes further, or is acceptable as the payload.
        ``text`` is ``data`` as printable text, if it is that."""
        for candidate in self.candidates(data, text, depth):
            below = depth + len(candidate.layers)
            result = text_of(candidate.data)
            # Only text and marked formats can decode further: random bytes are not tried.
            if below < self.max_depth and (result is not None or _encoded(candidate.data)):
                deeper = self.peel(candidate.data, result, below)
                if deeper is not None:
                    return Decoded(
                        candidate.layers + deeper.layers,
                        deeper.data,
                        deeper.text,
                        candidate.truncated or deeper.truncated,
                    )
            accepted = self.accept(candidate, result, below)
            if accepted is not None:
                return accepted
            if self.attempts <= 0:
                break
        return None

    def accept(self, candidate: _Candidate, text: str | None, depth: int) -> Decoded | None:
        data = candidate.data
        if candidate.accept == "code":
            ok = text is not None and _has_any(text, _KEYWORDS)
        else:
            ok = candidate.accept == "any" or text is not None or data.startswith(BINARY_MAGIC)
        bounded = depth >= self.max_depth and _encoded(data)  # still encoded at the last layer
        if ok or bounded:
            return Decoded(candidate.layers, data, text, candidate.truncated or bounded)
        return None

    def candidates(self, data: bytes, text: str | None, depth: int) -> Iterator[_Candidate]:
        """Decodings of ``data`` worth trying, cheapest and most specific first; each costs
        an attempt, and a failed decoding yields nothing."""
        for candidate in self._guesses(data, text, depth):
            if self.attempts <= 0:
                return
            self.attempts -= 1
            if candidate is not None and len(candidate.data) <= self.max_size:
                yield candidate

    def _guesses(self, data: bytes, text: str | None, depth: int) -> Iterator[_Candidate | None]:
        kind = compression_of(data)
        if kind is not None:
            yield self._decompress(kind, data)
        if data[:1] and data[0] in _CODE_TYPES:
            yield _marshal(("marshal",), data)
        if len(data) > 17 and data[2:4] == b"\r\n":
            for offset in _PYC_HEADERS:
                if data[offset] in _CODE_TYPES:
                    yield _marshal(("pyc", "marshal"), data[offset:])
        minimum = self.min_length if depth == 0 else FOLD_MIN_LENGTH
        if text is not None and minimum <= len(text) <= PEEL_MAX_TEXT:
            yield from self._text_guesses(text)

    def _decompress(self, kind: str, data: bytes) -> _Candidate | None:
        try:
            output, truncated = decompress(kind, data, self.max_size)
        except Undecodable:
            return None
        return _Candidate((kind,), output, "any", truncated)

    def _text_guesses(self, text: str) -> Iterator[_Candidate | None]:
        if _mentions_powershell(text):
            hidden = powershell_payload(text)
            yield _Candidate(hidden.layers, hidden.data, "text") if hidden else None
        compact = _WHITESPACE.sub("", text) if _WRAPPED.fullmatch(text) else text
        size = self.max_size
        if _HEX.fullmatch(compact):
            yield _decoded(("hex",), bytes.fromhex, compact, 2 * size)
        if len(compact) % 4 == 0:
            chars = 4 * (size // 3)
            if _BASE64.fullmatch(compact):
                yield _decoded(("base64",), _b64, compact, chars)
            elif _BASE64_URL.fullmatch(compact):
                yield _decoded(("base64",), base64.urlsafe_b64decode, compact, chars)
            if _BASE64.fullmatch(backwards := compact[::-1]):
                yield _decoded(("reversed", "base64"), _b64, backwards, chars)
            if _BASE64.fullmatch(compact):  # rot13 keeps the alphabet: a common pairing
                yield _decoded(("rot13", "base64"), _rot13_b64, compact, chars)
        if len(compact) % 8 == 0 and _BASE32.fullmatch(compact):
            yield _decoded(("base32",), base64.b32decode, compact, 8 * (size // 5))
        # Both alphabets hold punctuation that a real encoding of 40 characters or more all but
        # surely uses; plain alphanumerics (hex digests) are spared the slow pure-Python decoders.
        if not compact.isalnum():
            if _BASE85.fullmatch(compact):
                yield _decoded(("base85",), base64.b85decode, compact, 5 * (size // 4))
            if _ASCII85.fullmatch(compact):
                yield _decoded(("ascii85",), _a85, compact, 5 * (size // 4))
        if _ESCAPES.fullmatch(text):
            yield _decoded(("hex-escape",), bytes.fromhex, text.replace("\\x", ""), 2 * size)
        if _CHAR_CODES.fullmatch(text):
            codes = [int(code) for code in re.findall(r"\d+", text)]
            if max(codes) < 256:
                yield _Candidate(("char-codes",), bytes(codes), "code")
        if _has_any(text, _REVERSED_KEYWORDS) and not _has_any(text, _KEYWORDS):
            yield _Candidate(("reversed",), text[::-1].encode("utf-8", "surrogatepass"), "code")
        if _has_any(text, _ROT13_KEYWORDS) and not _has_any(text, _KEYWORDS):
            rotated = codecs.encode(text, "rot13")
            yield _Candidate(("rot13",), rotated.encode("utf-8", "surrogatepass"), "code")


def _has_any(text: str, words: tuple[str, ...]) -> bool:
    return any(map(text.__contains__, words))


def _mentions_powershell(text: str) -> bool:
    lowered = text.lower()
    return "powershell" in lowered or "pwsh" in lowered


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _a85(text: str) -> bytes:
    return base64.a85decode(text, adobe=text.startswith("<~"))


def _rot13_b64(text: str) -> bytes:
    return _b64(codecs.encode(text, "rot13"))


def _decoded(
    layers: tuple[str, ...], decoder: Callable[[str], bytes], text: str, chars: int
) -> _Candidate | None:
    """``text`` decoded; beyond ``chars`` characters (the input of ``max_size`` bytes of
    output, a multiple of the encoding's group) only that much, marked truncated."""
    try:
        return _Candidate(layers, decoder(text[:chars]), "text", len(text) > chars)
    except (binascii.Error, ValueError):
        return None


def _marshal(layers: tuple[str, ...], data: bytes) -> _Candidate | None:
    if data[0] == 0x63 and b"\x00" not in data[:32]:
        return None  # "c" starts much text; Python 2 code objects have NUL bytes up front
    strings = marshal_strings(data)
    if not strings:
        return None
    return _Candidate(layers, "\n".join(strings).encode("utf-8", "surrogatepass"), "any")


def _encoded(data: bytes) -> bool:
    """Whether ``data`` is plainly still encoded: compressed, marshal code or a .pyc."""
    return (
        compression_of(data) is not None
        or data[:1] in (b"\xe3", b"c")
        or (len(data) > 17 and data[2:4] == b"\r\n")
    )
