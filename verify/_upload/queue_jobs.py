"""A screening job: the distribution file and the attestation files beside it, their key, and
the JSON message (never pickle) that carries them to a worker.

The message is versioned (:data:`PAYLOAD_VERSION`); a worker refuses one of another version,
and any message whose files are not a distribution and its own attestations, with safe names.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from verify._resolve.local import DIST_SUFFIXES, unsafe_filename
from verify.errors import InvalidInputError

__all__ = [
    "MAX_FILE_BYTES",
    "PAYLOAD_VERSION",
    "JobFile",
    "decode_job",
    "encode_job",
    "job_key",
    "key_of",
    "read_job",
]

#: Version of the job message; a worker refuses messages of another version.
PAYLOAD_VERSION = 1
#: The largest distribution or attestation file the queue carries (bytes): the message is
#: base64 in JSON, and one Redis value holds at most 512 MiB.
MAX_FILE_BYTES = 256 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class JobFile:
    """One file of a job: its name and its bytes."""

    name: str
    data: bytes


def _attestation_paths(dist: Path) -> list[Path]:
    """``<file>.provenance`` and ``<file>.*.attestation`` beside ``dist``, sorted by name."""
    try:
        children = list(dist.parent.iterdir())
    except OSError:
        return []
    found = [c for c in children if _is_attestation_name(c.name, dist.name) and c.is_file()]
    return sorted(found, key=lambda path: path.name)


def _is_attestation_name(name: str, dist_name: str) -> bool:
    if name == f"{dist_name}.provenance":
        return True
    return name.startswith(f"{dist_name}.") and name.endswith(".attestation")


def read_job(dist: Path) -> tuple[JobFile, tuple[JobFile, ...]]:
    _check_dist_name(dist.name)
    files = [dist, *_attestation_paths(dist)]
    read: list[JobFile] = []
    for path in files:
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise InvalidInputError(
                    f"larger than the screening queue carries ({MAX_FILE_BYTES} bytes)", path=path
                )
            read.append(JobFile(path.name, path.read_bytes()))
        except OSError as exc:
            raise InvalidInputError(f"cannot read: {exc.strerror}", path=path) from exc
    return read[0], tuple(read[1:])


def key_of(dist: JobFile, attestations: tuple[JobFile, ...]) -> str:
    digest = hashlib.sha256(b"pip-verify-job/v1\0")
    for item in (dist, *sorted(attestations, key=lambda a: a.name)):
        name = item.name.encode("utf-8")
        digest.update(len(name).to_bytes(8, "big") + name)
        digest.update(len(item.data).to_bytes(8, "big") + item.data)
    return digest.hexdigest()


def job_key(dist: Path) -> str:
    """The key of screening ``dist``: a hex sha256 over its name and bytes and the bytes of
    the attestation files beside it (``<file>.*.attestation``, ``<file>.provenance``, sorted
    by name). The same file with the same attestations has the same key wherever it lies.

    Raises :class:`~verify.errors.InvalidInputError` if a file cannot be read.
    """
    dist_file, attestations = read_job(dist)
    return key_of(dist_file, attestations)


def _check_filename(name: str) -> None:
    if unsafe_filename(name):
        raise ValueError(f"unsafe file name in a screening job: {name!r}")


def _check_dist_name(name: str) -> None:
    if not name.endswith(DIST_SUFFIXES):
        raise InvalidInputError(
            f"not a distribution file name (expected {', '.join(DIST_SUFFIXES)})", path=name
        )
    try:
        _check_filename(name)
    except ValueError as exc:
        raise InvalidInputError(str(exc), path=name) from None


def encode_job(dist: JobFile, attestations: tuple[JobFile, ...]) -> dict[str, Any]:
    return {
        "version": PAYLOAD_VERSION,
        "filename": dist.name,
        "data": base64.b64encode(dist.data).decode("ascii"),
        "attestations": [
            {"filename": a.name, "data": base64.b64encode(a.data).decode("ascii")}
            for a in attestations
        ],
    }


def _decode_file(item: Any) -> JobFile:
    if not isinstance(item, dict):
        raise ValueError("a file in a screening job is not an object")
    name, data = item.get("filename"), item.get("data")
    if not isinstance(name, str) or not isinstance(data, str):
        raise ValueError("a file in a screening job lacks its name or its data")
    _check_filename(name)
    if len(data) > (MAX_FILE_BYTES // 3 + 1) * 4:
        raise ValueError(f"{name} is larger than the screening queue carries")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{name}: data is not base64: {exc}") from None
    return JobFile(name, raw)


def decode_job(payload: Any) -> tuple[JobFile, tuple[JobFile, ...]]:
    """The files of a job message; ``ValueError`` if it is malformed or names unsafe files."""
    if not isinstance(payload, dict):
        raise ValueError("a screening job is not an object")
    if payload.get("version") != PAYLOAD_VERSION:
        raise ValueError(f"unsupported screening job version {payload.get('version')!r}")
    dist = _decode_file(payload)
    if not dist.name.endswith(DIST_SUFFIXES):
        raise ValueError(f"not a distribution file name: {dist.name!r}")
    attestations = payload.get("attestations", [])
    if not isinstance(attestations, list):
        raise ValueError("the attestations of a screening job are not a list")
    decoded = tuple(_decode_file(item) for item in attestations)
    names = {a.name for a in decoded}
    if len(names) != len(decoded):
        raise ValueError("a screening job names an attestation file twice")
    for item in decoded:
        if not _is_attestation_name(item.name, dist.name):
            raise ValueError(f"{item.name!r} is not an attestation file of {dist.name!r}")
    return dist, decoded
