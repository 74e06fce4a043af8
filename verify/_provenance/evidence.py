"""Finding PEP 740 provenance for a file: on its index, through the Integrity API, or beside it.

Everything read here is untrusted until :mod:`verify._provenance.attestation` verifies it.
Provenance objects are parsed bundle by bundle so that a publisher kind pypi-attestations does
not know makes that bundle unverifiable instead of failing the whole document.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from verify._documents import parse_json
from verify._index.session import HttpSession
from verify._index.urls import redact
from verify.errors import InvalidInputError, NetworkError

if TYPE_CHECKING:
    from pypi_attestations import Attestation

__all__ = [
    "INTEGRITY_ACCEPT",
    "ClaimedBundle",
    "Documents",
    "Evidence",
    "EvidenceError",
    "fetch_evidence",
    "integrity_url",
    "local_evidence",
    "parse_attestation",
    "parse_provenance",
]

INTEGRITY_ACCEPT = "application/vnd.pypi.integrity.v1+json"
#: Provenance documents are small; a few attestations of a few KiB each.
MAX_PROVENANCE_BYTES = 4 * 1024 * 1024


class EvidenceError(ValueError):
    """A provenance document or attestation file is malformed."""


@dataclass(frozen=True, slots=True)
class ClaimedBundle:
    """Attestations and the publisher the document claims produced them (unverified)."""

    publisher: Mapping[str, Any]
    attestations: tuple[Attestation, ...]


@dataclass(frozen=True, slots=True)
class Evidence:
    """A provenance document and where it came from."""

    bundles: tuple[ClaimedBundle, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Documents:
    """The provenance documents found for a file, as read and not yet parsed.

    Kept as bytes so that their digest can name a verification already done (see
    :mod:`verify._provenance.remembered`) before anything is parsed: parsing imports
    pypi-attestations, most of a second of a re-check that verifies nothing new.
    """

    #: ``(where, bytes)`` of each document: one provenance object, or attestation files.
    documents: tuple[tuple[str, bytes], ...]
    #: Whether each document is a single attestation (twine's ``.publish.attestation``)
    #: rather than a PEP 740 provenance object.
    single: bool
    #: Where the evidence came from, as reported; the only document's place by default.
    source: str = ""

    @property
    def where(self) -> str:
        """Where the evidence came from: :attr:`source`, else the first document's place."""
        return self.source or self.documents[0][0]

    def digest(self) -> str:
        """A sha256 over every document and its kind: equal only for the same evidence."""
        hasher = hashlib.sha256(b"attestations" if self.single else b"provenance")
        for where, raw in self.documents:
            # Lengths first, so that no two different lists of documents hash the same.
            hasher.update(len(where.encode()).to_bytes(8, "big") + where.encode())
            hasher.update(len(raw).to_bytes(8, "big") + raw)
        return hasher.hexdigest()

    def parse(self) -> Evidence:
        """The documents parsed; :class:`EvidenceError` when one is malformed."""
        if not self.single:
            ((where, raw),) = self.documents
            return parse_provenance(raw, source=where)
        bundles: list[ClaimedBundle] = []
        for where, raw in self.documents:
            bundles.extend(parse_attestation(raw, source=where).bundles)
        return Evidence(tuple(bundles), self.where)


def _attestation(raw: object, where: str) -> Attestation:
    from pydantic import ValidationError
    from pypi_attestations import Attestation

    try:
        return Attestation.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = ".".join(str(part) for part in error["loc"])
        raise EvidenceError(f"{where}: malformed attestation ({location}: {error['msg']})") from exc


def _json(raw: bytes, *, source: str, what: str) -> Any:
    """The JSON document ``raw``; any way it fails to parse (nesting too deep included) is
    an :class:`EvidenceError`, as for every other malformed provenance."""
    try:
        # As json.loads decodes bytes: UTF-8, -16 or -32, by the first bytes.
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError as exc:
        raise EvidenceError(f"{source}: {what} is not JSON: {exc.reason}") from None
    try:
        return parse_json(text, source)
    except InvalidInputError as exc:
        # The message names the source: "<source>:<line>: invalid JSON: <reason>".
        raise EvidenceError(f"{what} is not JSON: {exc.message}") from None


def parse_provenance(raw: bytes, *, source: str) -> Evidence:
    """A PEP 740 provenance object (``{"version": 1, "attestation_bundles": [...]}``)."""
    document = _json(raw, source=source, what="provenance")
    if not isinstance(document, dict) or document.get("version") != 1:
        raise EvidenceError(f"{source}: not a version 1 PEP 740 provenance object")
    bundles_raw = document.get("attestation_bundles")
    if not isinstance(bundles_raw, list) or not bundles_raw:
        raise EvidenceError(f"{source}: provenance has no attestation bundles")
    bundles = []
    for position, bundle in enumerate(bundles_raw):
        where = f"{source} bundle {position}"
        if not isinstance(bundle, dict):
            raise EvidenceError(f"{where}: not an object")
        publisher = bundle.get("publisher")
        attestations = bundle.get("attestations")
        if (
            not isinstance(publisher, dict)
            or not isinstance(attestations, list)
            or not attestations
        ):
            raise EvidenceError(f"{where}: needs a publisher and at least one attestation")
        bundles.append(
            ClaimedBundle(
                publisher=publisher,
                attestations=tuple(_attestation(a, where) for a in attestations),
            )
        )
    return Evidence(tuple(bundles), source)


def parse_attestation(raw: bytes, *, source: str) -> Evidence:
    """A single attestation file (twine's ``<file>.publish.attestation``); no claimed publisher."""
    document = _json(raw, source=source, what="attestation")
    return Evidence((ClaimedBundle({}, (_attestation(document, source),)),), source)


def local_evidence(path: Path) -> Documents | None:
    """Provenance beside a local file: ``<file>.provenance``, else ``<file>.*.attestation``."""
    provenance = path.with_name(path.name + ".provenance")
    try:
        if provenance.is_file():
            return Documents(((str(provenance), _read_capped(provenance)),), single=False)
        attestations = sorted(path.parent.glob(_glob_escape(path.name) + ".*.attestation"))
        if not attestations:
            return None
        return Documents(
            tuple((str(file), _read_capped(file)) for file in attestations),
            single=True,
            source=str(path.parent),
        )
    except OSError as exc:
        raise EvidenceError(f"cannot read provenance beside {path}: {exc.strerror}") from exc


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _read_capped(path: Path) -> bytes:
    if path.stat().st_size > MAX_PROVENANCE_BYTES:
        raise EvidenceError(f"{path} is larger than {MAX_PROVENANCE_BYTES} bytes")
    return path.read_bytes()


def integrity_url(index_url: str, name: str, version: str, filename: str) -> str:
    """The PyPI Integrity API provenance URL for a file, on the index's host."""
    parts = urlsplit(index_url)
    path = "/integrity/{}/{}/{}/provenance".format(
        *(quote(p, safe="") for p in (name, version, filename))
    )
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def fetch_evidence(session: HttpSession, url: str) -> Documents | None:
    """The provenance at ``url``; ``None`` when the index says there is none (404).

    Raises :class:`~verify.errors.NetworkError` when it cannot be read.
    """
    response = session.get_page(url, accept=INTEGRITY_ACCEPT, max_bytes=MAX_PROVENANCE_BYTES)
    if response.status in (404, 410):
        return None
    if response.status != 200:
        raise NetworkError(f"{redact(url)} answered HTTP {response.status}")
    return Documents(((redact(url), response.body),), single=False)
