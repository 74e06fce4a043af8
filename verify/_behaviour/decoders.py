"""Bounded primitive decoders behind :mod:`verify._behaviour.decode`.

Every function here is pure: it takes bytes, returns bytes (or text) and raises
:class:`Undecodable` for anything it cannot decode. Nothing is ever executed. Decompression
stops at a caller-given output size, so a bomb costs at most that much memory and time; the
ciphers are the ``cryptography`` package's (never hand-rolled), used only to decrypt with
keys found as literals beside the ciphertext.
"""

from __future__ import annotations

import bz2
import lzma
import re
import zlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "AES_MODES",
    "BINARY_MAGIC",
    "LZMA_MEMLIMIT",
    "TEXT_SAMPLE",
    "AesSpec",
    "Undecodable",
    "aes_decrypt",
    "compression_of",
    "decompress",
    "fernet_decrypt",
    "printable",
    "text_of",
    "utf16_text",
]

#: The printable share of a payload's first :data:`TEXT_SAMPLE` characters that makes it text.
PRINTABLE_RATIO = 0.95
#: How much of a payload the printable test reads: a bounded cost even on megabytes.
TEXT_SAMPLE = 64 * 1024
#: Memory the LZMA decoder may allocate: a crafted header can ask for a 1.5 GiB dictionary.
LZMA_MEMLIMIT = 64 * 1024 * 1024

#: Control characters other than tab, line feed and carriage return (C0, DEL and C1).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Executables and archives a decoded blob may be: worth reporting although not text.
BINARY_MAGIC: tuple[bytes, ...] = (
    b"\x7fELF",
    b"MZ",
    b"PK\x03\x04",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)

#: pycryptodome's ``AES.MODE_*`` numbers, to the names used in layer names ("aes-cbc").
AES_MODES: dict[int, str] = {1: "ecb", 2: "cbc", 3: "cfb", 5: "ofb", 6: "ctr", 11: "gcm"}


class Undecodable(Exception):
    """The data is not in the format tried (or decoding it would break a bound)."""


def text_of(data: bytes) -> str | None:
    """``data`` read as text when it is mostly printable UTF-8, or UTF-16LE when every other
    byte is NUL (PowerShell's encoding), else ``None``."""
    text = utf16_text(data)
    if text is not None:
        return text
    text = _decode(data, "utf-8")
    return text if text is not None and printable(text) else None


def utf16_text(data: bytes) -> str | None:
    """``data`` read as UTF-16LE text of mostly Latin characters (every other byte NUL)."""
    if len(data) < 4 or len(data) % 2:
        return None
    high = data[1 : 2 * TEXT_SAMPLE : 2]
    if high.count(0) < 0.9 * len(high):
        return None
    text = _decode(data, "utf-16-le")
    return text if text is not None and printable(text) else None


def printable(text: str) -> bool:
    """Whether nearly all of the first :data:`TEXT_SAMPLE` characters are printable."""
    sample = text[:TEXT_SAMPLE]
    if sample.isprintable():
        return True
    return len(_CONTROL.findall(sample)) <= (1 - PRINTABLE_RATIO) * len(sample)


def _decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def compression_of(data: bytes) -> str | None:
    """The compression format ``data`` opens with (``zlib``, ``gzip``, ``bz2``, ``lzma``)."""
    if len(data) < 6:
        return None
    if data[0] & 0x0F == 8 and data[0] >> 4 <= 7 and (data[0] << 8 | data[1]) % 31 == 0:
        return "zlib"  # deflate, window <= 32 KiB, header checksum (RFC 1950)
    if data.startswith(b"\x1f\x8b\x08"):
        return "gzip"
    if (
        data.startswith(b"BZh")
        and data[3:4].isdigit()
        and data[4:10] in (b"1AY&SY", b"\x17rE8P\x90")
    ):
        return "bz2"
    if data.startswith((b"\xfd7zXZ\x00", b"\x5d\x00\x00")):
        return "lzma"  # .xz, or the legacy .lzma header with the usual properties byte
    return None


def decompress(
    kind: str, data: bytes, limit: int, *, wbits: int | None = None
) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of ``data`` decompressed as ``kind``, and whether output was
    cut off there. Raises :class:`Undecodable` for corrupt or incomplete data."""
    try:
        if kind in ("zlib", "gzip"):
            return _inflate(
                data, wbits if wbits is not None else (31 if kind == "gzip" else 15), limit
            )
        if kind == "bz2":
            return _stream(bz2.BZ2Decompressor(), data, limit)
        if kind == "lzma":
            return _stream(lzma.LZMADecompressor(memlimit=LZMA_MEMLIMIT), data, limit)
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError) as exc:
        raise Undecodable(f"{kind}: {exc}") from exc
    raise Undecodable(f"unknown compression {kind!r}")


def _inflate(data: bytes, wbits: int, limit: int) -> tuple[bytes, bool]:
    output = bytearray()
    while True:
        if len(output) >= limit:  # and never ask for 0 bytes: zlib reads that as "no limit"
            return bytes(output), True
        decompressor = zlib.decompressobj(wbits)
        output += decompressor.decompress(data, limit - len(output))
        if not decompressor.eof:
            if decompressor.unconsumed_tail or len(output) >= limit:
                return bytes(output), True
            raise Undecodable("incomplete compressed stream")
        # gzip.decompress reads every member of a multi-member file; zlib reads one stream.
        data = decompressor.unused_data
        if wbits < 16 or not data.startswith(b"\x1f\x8b"):
            return bytes(output), False


def _stream(
    decompressor: bz2.BZ2Decompressor | lzma.LZMADecompressor, data: bytes, limit: int
) -> tuple[bytes, bool]:
    output = decompressor.decompress(data, max_length=limit)
    if decompressor.eof:
        return output, False
    if not decompressor.needs_input or len(output) >= limit:
        return output, True
    raise Undecodable("incomplete compressed stream")


def fernet_decrypt(key: bytes | str, token: bytes | str) -> bytes:
    """A Fernet token decrypted with ``key`` (its age is not checked: nothing here depends on
    the clock)."""
    try:
        return Fernet(key).decrypt(token)
    except (InvalidToken, ValueError, TypeError) as exc:
        raise Undecodable(f"fernet: {type(exc).__name__}") from exc


@dataclass(frozen=True, slots=True)
class AesSpec:
    """What a pycryptodome ``AES.new(key, mode, ...)`` call was given."""

    key: bytes
    mode: int
    iv: bytes | None = None
    nonce: bytes | None = None
    #: CTR: the counter's first value.
    initial_value: int = 0
    #: CFB: bits per segment (pycryptodome's default is 8).
    segment_size: int = 8

    @property
    def layer(self) -> str:
        return f"aes-{AES_MODES.get(self.mode, str(self.mode))}"


def aes_decrypt(spec: AesSpec, data: bytes, tag: bytes | None = None) -> bytes:
    """``data`` decrypted as pycryptodome would with ``spec`` (GCM verified only with a tag)."""
    key = algorithms.AES(spec.key) if len(spec.key) in (16, 24, 32) else None
    try:
        if key is None:
            raise ValueError("AES keys are 16, 24 or 32 bytes")
        if AES_MODES.get(spec.mode) == "gcm":
            gcm = Cipher(key, _gcm(spec, tag)).decryptor()
            # Without a tag, pycryptodome's decrypt() returns the unverified plaintext too.
            return gcm.update(data) + (gcm.finalize() if tag is not None else b"")
        decryptor = Cipher(key, _mode(spec)).decryptor()
        return decryptor.update(data) + decryptor.finalize()
    except (ValueError, TypeError, InvalidTag, OverflowError) as exc:
        raise Undecodable(f"{spec.layer}: {type(exc).__name__}") from exc


def _gcm(spec: AesSpec, tag: bytes | None) -> modes.GCM:
    if spec.nonce is None:
        raise Undecodable("no literal nonce (pycryptodome would pick a random one)")
    if tag is None:
        return modes.GCM(spec.nonce)
    return modes.GCM(spec.nonce, tag, min_tag_length=max(4, min(len(tag), 16)))


def _mode(spec: AesSpec) -> modes.ECB | modes.ModeWithInitializationVector | modes.ModeWithNonce:
    name = AES_MODES.get(spec.mode)
    if name == "ecb":
        return modes.ECB()  # noqa: S305  (decrypting what the package encrypted with ECB)
    if name in ("cbc", "cfb", "ofb"):
        if spec.iv is None:
            raise Undecodable("no literal IV (pycryptodome would pick a random one)")
        if name == "cbc":
            return modes.CBC(spec.iv)
        if name == "ofb":
            return modes.OFB(spec.iv)
        if spec.segment_size == 8:
            return modes.CFB8(spec.iv)
        if spec.segment_size == 128:
            return modes.CFB(spec.iv)
        raise Undecodable(f"CFB segment size {spec.segment_size}")
    if name == "ctr":
        if spec.nonce is None:
            raise Undecodable("no literal nonce (pycryptodome would pick a random one)")
        # pycryptodome's counter block: the nonce, then the counter big-endian in the rest.
        width = 16 - len(spec.nonce)
        if width < 1 or not 0 <= spec.initial_value < 1 << (8 * width):
            raise Undecodable("CTR nonce or initial value out of range")
        return modes.CTR(spec.nonce + spec.initial_value.to_bytes(width, "big"))
    raise Undecodable(f"AES mode {spec.mode} is not supported")
