"""The legacy upload API's request, as twine and ``uv publish`` send it, parsed and validated.

A ``multipart/form-data`` POST with ``:action=file_upload``, ``protocol_version=1``, the core
metadata fields (``name``, ``version``, ...), the digests (``md5_digest``, ``sha256_digest``,
``blake2_256_digest``), the file as ``content``, and, since PEP 740, ``attestations`` (a JSON
array of attestation objects). The multipart body is parsed by Werkzeug; this module decides
what a valid upload is. Anything else is :class:`BadUpload`, which the gate answers with 400.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header

from verify._resolve.local import DIST_SUFFIXES, unsafe_filename, valid_project_name
from verify.errors import InvalidInputError

__all__ = ["BadUpload", "UploadForm", "copy_body", "parse_upload"]

#: Form fields other than the file are metadata: a few KiB, a long description at most.
MAX_FIELDS_BYTES: Final = 8 * 1024 * 1024
#: Twine sends about 30 parts; a body with thousands is not an upload.
MAX_PARTS: Final = 1000
#: Attestations are a few KiB each; a handful per file.
MAX_ATTESTATIONS: Final = 16
_DIGESTS: Final = {
    "md5_digest": "md5",
    "sha256_digest": "sha256",
    "blake2_256_digest": "blake2b_256",
}


class BadUpload(InvalidInputError):
    """The request is not a valid upload (HTTP 400)."""


@dataclass(frozen=True, slots=True)
class UploadForm:
    """A validated upload: the file is written to ``path``, its attestations beside it."""

    filename: str
    name: NormalizedName
    version: str
    path: Path
    sha256: str
    size: int
    #: The attestation files written beside ``path`` (``<filename>.<n>.attestation``).
    attestations: tuple[Path, ...] = ()
    #: The other form fields (metadata), first value of each.
    fields: Mapping[str, str] = field(default_factory=dict)


def parse_upload(
    body: IO[bytes], *, content_type: str, content_length: int, dest: Path
) -> UploadForm:
    """Parse and validate an upload request whose body is ``body``; write its file to ``dest``.

    Raises :class:`BadUpload` with a one-line message for anything that is not a valid
    ``file_upload`` of one wheel or sdist whose name, version and digests agree.
    """
    mimetype, options = parse_options_header(content_type)
    if mimetype != "multipart/form-data":
        raise BadUpload(
            f"an upload is a multipart/form-data POST, not {mimetype or 'an untyped body'}"
        )
    if not options.get("boundary"):
        raise BadUpload("the multipart body has no boundary")
    parser = FormDataParser(
        max_form_memory_size=MAX_FIELDS_BYTES, max_form_parts=MAX_PARTS, silent=False
    )
    try:
        _stream, form, files = parser.parse(body, mimetype, content_length, options)
    except RequestEntityTooLarge as exc:
        raise BadUpload("the upload's form fields are too large or too many") from exc
    except ValueError as exc:
        raise BadUpload(f"malformed multipart body: {exc}") from exc
    fields = {key: form.get(key, "") for key in form}
    action = fields.get(":action")
    if action != "file_upload":
        raise BadUpload(f"unsupported :action {action!r}: the gate accepts only file_upload")
    protocol = fields.get("protocol_version", "1")
    if protocol != "1":
        raise BadUpload(f"unsupported protocol_version {protocol!r}")
    uploads = files.getlist("content")
    if len(uploads) != 1:
        raise BadUpload(f"an upload carries exactly one file as 'content', not {len(uploads)}")
    upload: FileStorage = uploads[0]
    filename = _safe_filename(upload.filename or "")
    name, version = _name_and_version(filename)
    claimed_name = fields.get("name", "")
    claimed_version = fields.get("version", "")
    if not claimed_name or not claimed_version:
        raise BadUpload("the upload names no project 'name' or 'version'")
    if canonicalize_name(claimed_name) != name:
        raise BadUpload(f"{filename} is not a file of the project {claimed_name!r}")
    if _version(claimed_version, "version") != _version(version, filename):
        raise BadUpload(f"{filename} is not a file of version {claimed_version!r}")
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / filename
    digests: dict[str, Any] = {
        "md5": hashlib.md5(usedforsecurity=False),
        "sha256": hashlib.sha256(),
        "blake2b_256": hashlib.blake2b(digest_size=32),
    }
    size = 0
    with path.open("xb") as out:
        while chunk := upload.stream.read(1024 * 1024):
            size += len(chunk)
            for digest in digests.values():
                digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise BadUpload(f"{filename} is empty")
    for field_name, algorithm in _DIGESTS.items():
        claimed = fields.get(field_name, "").strip().lower()
        if claimed and not hmac.compare_digest(claimed, digests[algorithm].hexdigest()):
            raise BadUpload(f"{filename}: {field_name} does not match the uploaded bytes")
    attestations = _write_attestations(fields.get("attestations"), path)
    fields.pop("attestations", None)
    return UploadForm(
        filename=filename,
        name=name,
        version=version,
        path=path,
        sha256=digests["sha256"].hexdigest(),
        size=size,
        attestations=attestations,
        fields=fields,
    )


def _safe_filename(filename: str) -> str:
    """The upload's filename, if it is a plain distribution filename and nothing more."""
    if not filename:
        raise BadUpload("the uploaded file has no filename")
    if unsafe_filename(filename):
        raise BadUpload(f"unsafe upload filename {filename!r}")
    if not filename.endswith(DIST_SUFFIXES):
        raise BadUpload(f"{filename!r} is not a wheel or sdist (.whl, .tar.gz or .zip)")
    return filename


def _name_and_version(filename: str) -> tuple[NormalizedName, str]:
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename) as exc:
        raise BadUpload(f"not a valid distribution filename: {exc}") from exc
    if not valid_project_name(name):
        raise BadUpload(f"{filename}: {name!r} is not a valid project name (PEP 508)")
    return name, str(version)


def _version(text: str, where: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion as exc:
        raise BadUpload(f"invalid version {text!r} in {where}") from exc


def _write_attestations(raw: str | None, path: Path) -> tuple[Path, ...]:
    """Write each attestation of the ``attestations`` field beside ``path``."""
    if raw is None or raw.strip() == "":
        return ()
    try:
        parsed: object = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadUpload("the 'attestations' field is not JSON") from exc
    if not isinstance(parsed, list) or not all(isinstance(a, dict) for a in parsed):
        raise BadUpload("the 'attestations' field is not a JSON array of objects")
    if len(parsed) > MAX_ATTESTATIONS:
        raise BadUpload(f"more than {MAX_ATTESTATIONS} attestations for one file")
    written = []
    for number, attestation in enumerate(parsed):
        target = path.with_name(f"{path.name}.upload-{number}.attestation")
        target.write_text(json.dumps(attestation), encoding="utf-8")
        written.append(target)
    return tuple(written)


def copy_body(source: IO[bytes], dest: Path, *, limit: int, declared: int | None) -> int:
    """Copy a request body into ``dest``, refusing more than ``limit`` bytes."""
    if declared is not None and declared > limit:
        raise BadUpload(f"the upload is {declared} bytes, over the gate's limit of {limit}")
    size = 0
    with dest.open("xb") as out:
        while chunk := source.read(min(1024 * 1024, limit + 1 - size) or 1):
            size += len(chunk)
            if size > limit:
                raise BadUpload(f"the upload is over the gate's limit of {limit} bytes")
            out.write(chunk)
    if declared is not None and size != declared:
        raise BadUpload(f"the body ended after {size} of the {declared} bytes announced")
    return size
