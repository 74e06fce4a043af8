"""The analysis's text scanners as they were before :mod:`verify._behaviour.scanning`: the
reference the fast scanners are compared with, kept here so the comparison cannot become a
comparison of the new code with itself."""

from __future__ import annotations

import math
import re
from collections import Counter

from verify._behaviour import patterns

_BLANKS_TO_NUL = bytes(0 if byte in b" \t" else 1 for byte in range(256))
_PTH_EXEC_BYTES = re.compile(rb"(?:^|[\r\n])[ \t]*import[ \t]")
_ENTROPY_SAMPLE = 64 * 1024
_ENTROPY_SLICES = 8
LINE_BREAK = re.compile(r"\r\n|\r|\n")
ENCODED_RUN = re.compile(rf"[A-Za-z0-9+/=_-]{{{patterns.ENCODED_MIN_LENGTH},}}")
URL = re.compile(
    # file:// (and awscli's fileb://) name local paths, and storage schemes (fsspec's
    # memory://, s3://, zip:: chains) name buckets and files: none of their "hosts" is a
    # network host ("memory://archive.zip" is not the .zip TLD).
    r"\b(?!(?:fileb?|memory|mem|zip|tar|jar|data|blob|s3a?|gs|gcs|az|abfss?|adl|hdfs|dbfs"
    r"|sqlite|local|simplecache|filecache|blockcache|oci)://)[a-z][a-z0-9+.-]{0,30}://"
    r"(?:[^\s/?#@\"'<>\\]{0,256}@)?"
    r"(?P<host>\[[0-9a-f:.]{2,45}\]|[^\s/?#:@\"'<>\\`{}()|,;\[\]]{1,253})"
    r"(?::\d{1,5})?"
    r"(?P<path>/[^\s\"'<>\\`]{0,200})?",
    re.IGNORECASE,
)
HOST_PORT = re.compile(
    r"(?<![\w.:/@-])((?:\d{1,3}\.){3}\d{1,3}|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"[a-z]{2,63}):\d{2,5}(?![\w.:])",
    re.IGNORECASE,
)


def line_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in LINE_BREAK.finditer(text))]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_python_path(path: str, data: bytes) -> bool:
    if path.lower().endswith((".py", ".pyw")):
        return True
    return patterns.PYTHON_SHEBANG.match(data[:256]) is not None


def needs_analysis(path: str, data: bytes) -> bool:
    """Whether ``data`` may hold anything :func:`profile_file` detects beyond the file's shape.

    The fast byte-level prefilter: ``False`` means none of the trigger tokens (call names,
    credential and persistence locations, a URL opening a string), no invisible or look-alike
    character, no long blank run and no long line occur, so no detection could fire and the
    file gets only its kind, entropy and longest line. A ``.pth`` file needs analysis exactly
    when it has a line the site module executes.
    """
    if path.lower().endswith(".pth"):
        return _PTH_EXEC_BYTES.search(data) is not None
    if not data.isascii() and (
        patterns.SUSPICIOUS_UTF8.search(data) is not None or not _is_utf8(data)
    ):
        return True  # look-alike or invisible characters, or a legacy encoding
    if any(token in data for token in patterns.TRIGGER_TOKENS):
        return True
    if any(pattern.search(data) is not None for pattern in patterns.TRIGGER_PATTERNS):
        return True
    # The builtin compile(), not re.compile(): a count is cheaper than a regex with lookbehind.
    if data.count(b"compile(") > data.count(b".compile("):
        return True
    if b"ignore" in data and patterns.IGNORE_WARNINGS.search(data) is not None:
        return True
    # A long run of blanks (spaces and tabs in any mix), found with a substring search.
    if b"\x00" * patterns.HIDDEN_RUN in data.translate(_BLANKS_TO_NUL):
        return True
    lowered = data.lower()
    if any(token in lowered for token in patterns.TRIGGER_TOKENS_ANYCASE):
        return True
    if _is_python_path(path, data):
        # Python hosts come only from literals that start with a URL (see _scan_strings).
        if patterns.QUOTED_URL.search(data) is not None:
            return True
    elif b"://" in data:
        return True
    return max(map(len, data.split(b"\n")), default=0) >= patterns.LONG_LINE


def entropy(data: bytes | str) -> float:
    """Shannon entropy in bits per symbol (estimated from slices of large inputs)."""
    if not data:
        return 0.0
    if len(data) > _ENTROPY_SAMPLE:
        size = _ENTROPY_SAMPLE // _ENTROPY_SLICES
        step = (len(data) - size) // (_ENTROPY_SLICES - 1)
        starts = [i * step for i in range(_ENTROPY_SLICES)]
        if isinstance(data, bytes):
            data = b"".join(data[i : i + size] for i in starts)
        else:
            data = "".join(data[i : i + size] for i in starts)
    total = len(data)
    counts: Counter[int | str] = Counter(data)
    return max(0.0, -sum(n / total * math.log2(n / total) for n in counts.values()))
