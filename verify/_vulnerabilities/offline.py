"""Known vulnerabilities, from OSV, behind pip-audit's ``VulnerabilityService`` interface.

Two sources of OSV records, both usable wherever pip-audit expects a service:

* :class:`OsvApiService` asks an OSV-compatible API (``POST {base}/v1/query``) through
  pip-verify's one network chokepoint, :class:`~verify._index.session.HttpSession`. Its default
  base URL is pip-audit's own OSV default, read from pip-audit when the service is built.
* :class:`OsvOfflineService` reads a directory of OSV JSON records or a ``.zip`` of them (the
  layout of OSV's per-ecosystem ``all.zip``: one record per file), and evaluates the affected
  ranges itself with :mod:`packaging.version`.

pip-audit's :class:`VulnerabilityResult` keeps neither OSV's severity nor anything that marks
a malicious package, so both services also implement :class:`OsvRecordSource`
(``records_for(name, version)``, the raw records). :func:`audit` uses it when it can and falls
back to ``query()`` for any other service (pip-audit's ``PyPIService`` included), and turns the
answer into :class:`KnownVulnerability` values, or into an :class:`AuditOutcome` whose ``error``
says why the package could not be checked.

Severity: a CVSS v3.x vector in the record's ``severity[]`` is scored with the base-score
formula of the CVSS 3.1 specification (:func:`cvss3_base_score`) and banded; without one, the
database's own label (``database_specific.severity``, as GitHub advisories carry it) is mapped.
CVSS v2 and v4 vectors are not scored.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import stat
import struct
import threading
import zipfile
import zlib
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Final, Protocol, TypeAlias, runtime_checkable
from urllib.parse import urlsplit

import requests
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version
from pip_audit._service import osv as _pip_audit_osv
from pip_audit._service.interface import ConnectionError as ServiceConnectionError
from pip_audit._service.interface import (
    Dependency,
    ResolvedDependency,
    ServiceError,
    VulnerabilityResult,
    VulnerabilityService,
)

from verify._index.session import HttpSession
from verify._index.urls import redact
from verify.errors import InvalidInputError, UsageError, VerifyError

__all__ = [
    "MAX_RECORD_BYTES",
    "MAX_TOTAL_BYTES",
    "MAX_ZIP_MEMBERS",
    "AuditOutcome",
    "KnownVulnerability",
    "OsvApiService",
    "OsvOfflineService",
    "OsvRecord",
    "OsvRecordSource",
    "audit",
    "audit_many",
    "cvss3_base_score",
    "default_osv_url",
    "osv_severity",
]

logger = logging.getLogger(__name__)

#: One OSV record, as decoded from JSON.
OsvRecord: TypeAlias = dict[str, object]

#: An offline database with more members (zip) or ``*.json`` files (directory) is refused.
MAX_ZIP_MEMBERS: Final = 1_000_000
#: An offline database whose records add up to more bytes (uncompressed) is refused.
MAX_TOTAL_BYTES: Final = 2 * 1024 * 1024 * 1024
#: A single record larger than this is skipped; real records are a few KiB.
MAX_RECORD_BYTES: Final = 16 * 1024 * 1024
#: How many pages of one OSV API answer are followed before giving up.
MAX_API_PAGES: Final = 100
#: How many skipped records are named one by one in the log.
_NAMED_SKIPS = 10

_ECOSYSTEM = "PyPI"
#: What :meth:`OsvApiService.warm_up` asks: any well-formed query does.
_PROBE: Final[dict[str, object]] = {
    "package": {"name": "pip-verify", "ecosystem": _ECOSYSTEM},
    "version": "0",
}
_QUERY_PATH = "/v1/query"
_SEVERITY_RANK: Final = {"low": 1, "medium": 2, "high": 3, "critical": 4}
_SEVERITY_LABELS: Final = {
    "low": "low",
    "moderate": "medium",
    "medium": "medium",
    "high": "high",
    "critical": "critical",
}


# --- Results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnownVulnerability:
    """One known vulnerability (or malicious-package report) affecting a package version."""

    id: str
    aliases: tuple[str, ...]
    summary: str | None
    #: Versions that fix it, sorted: the fixed versions above the audited one in the ranges
    #: that contain it; every fixed version the record names when that cannot be told.
    fix_versions: tuple[str, ...]
    #: ``"low"``, ``"medium"``, ``"high"`` or ``"critical"``; ``None`` when unknown.
    severity: str | None
    #: The id or an alias is an OSV malicious-package id (``MAL-...``).
    malicious: bool
    #: The first ``ADVISORY`` or ``WEB`` reference of the record.
    url: str | None

    @classmethod
    def from_osv(cls, record: Mapping[str, object], name: str, version: str) -> KnownVulnerability:
        """Read an OSV record about ``name`` at ``version``."""
        vuln_id = _text(record.get("id")) or "unknown"
        aliases = tuple(sorted({a for a in _texts(record.get("aliases")) if a != vuln_id}))
        summary = _one_line(_text(record.get("summary"))) or _one_line(_text(record.get("details")))
        return cls(
            id=vuln_id,
            aliases=aliases,
            summary=summary,
            fix_versions=_fix_versions(record, canonicalize_name(name), _parse_version(version)),
            severity=osv_severity(record),
            malicious=_is_malicious((vuln_id, *aliases)),
            url=_reference_url(record),
        )

    @classmethod
    def from_result(cls, result: VulnerabilityResult) -> KnownVulnerability:
        """Read a result of any pip-audit service (no severity or reference there)."""
        vuln_id = str(result.id)
        aliases = tuple(sorted({str(a) for a in result.aliases} - {vuln_id}))
        description = str(result.description)
        fixes: list[Version] = sorted(result.fix_versions)
        return cls(
            id=vuln_id,
            aliases=aliases,
            summary=None if description in ("", "N/A") else _one_line(description),
            fix_versions=tuple(str(v) for v in fixes),
            severity=None,
            malicious=_is_malicious((vuln_id, *aliases)),
            url=None,
        )


@dataclass(frozen=True, slots=True)
class AuditOutcome:
    """What a source said about one package version."""

    vulnerabilities: tuple[KnownVulnerability, ...]
    #: Why the source could not answer (the package is then unchecked, not clean).
    error: str | None = None

    @property
    def checked(self) -> bool:
        """The source answered."""
        return self.error is None


@runtime_checkable
class OsvRecordSource(Protocol):
    """A service that can hand out the raw OSV records affecting a package version."""

    def records_for(self, name: str, version: str) -> list[OsvRecord]:
        """The live (not withdrawn) OSV records affecting ``name`` at ``version``."""
        ...


# --- Services --------------------------------------------------------------------------------


class _OsvService(VulnerabilityService):  # type: ignore[misc]  # pip-audit ships no types
    """pip-audit's ``query()`` on top of :meth:`records_for`."""

    @abstractmethod
    def records_for(self, name: str, version: str) -> list[OsvRecord]:
        """See :class:`OsvRecordSource`."""

    def query(self, spec: Dependency) -> tuple[Dependency, list[VulnerabilityResult]]:
        """pip-audit's ``VulnerabilityService.query``: raises ``ServiceError`` on failure."""
        if spec.is_skipped():
            return spec, []
        name = str(spec.name)
        version = str(spec.version)
        results: list[VulnerabilityResult] = []
        for record in self.records_for(name, version):
            known = KnownVulnerability.from_osv(record, name, version)
            fixes = [v for v in map(_parse_version, known.fix_versions) if v is not None]
            results.append(
                VulnerabilityResult.create(
                    ids=[known.id, *known.aliases],
                    description=known.summary or "N/A",
                    fix_versions=fixes,
                    published=_parse_timestamp(record.get("published")),
                )
            )
        return spec, results


def default_osv_url() -> str:
    """pip-audit's default OSV query URL, read from the installed pip-audit."""
    url = getattr(_pip_audit_osv.OsvService, "DEFAULT_OSV_URL", None)
    if not isinstance(url, str) or not url:
        raise UsageError(
            "the installed pip-audit does not name a default OSV API URL (2.10 and later do)",
            hint="pass the OSV API URL with --osv-url, or upgrade pip-audit",
        )
    return url


class OsvApiService(_OsvService):
    """An OSV-compatible API (``POST {base}/v1/query``), asked through an :class:`HttpSession`.

    ``base_url`` defaults to pip-audit's OSV URL. Like pip-audit's ``--osv-url``, it may be
    given with or without the ``/v1/query`` endpoint. Failures raise pip-audit's
    ``ConnectionError`` (unreachable, offline) or ``ServiceError`` (a bad answer).
    """

    def __init__(
        self,
        session: HttpSession,
        base_url: str | None = None,
        *,
        max_pages: int = MAX_API_PAGES,
    ) -> None:
        self.session = session
        self.base_url = _api_base(default_osv_url() if base_url is None else base_url)
        self.query_url = self.base_url + _QUERY_PATH
        self.max_pages = max_pages
        #: Set once the API could not be reached: later queries fail at once with the same
        #: message instead of each waiting out its own retries (a check asks once per
        #: release, and an unreachable service would cost every one of them the back-off).
        self._unreachable: list[str] = []
        #: Set while :meth:`warm_up`'s probe is in flight; queries wait for it to end.
        self._warming: threading.Event | None = None

    def __repr__(self) -> str:
        return f"OsvApiService({redact(self.base_url)!r})"

    def records_for(self, name: str, version: str) -> list[OsvRecord]:
        """See :class:`OsvRecordSource`; follows ``next_page_token`` pagination."""
        query: dict[str, object] = {
            "package": {"name": canonicalize_name(name), "ecosystem": _ECOSYSTEM},
            "version": version,
        }
        records: dict[str, OsvRecord] = {}
        tokens: set[str] = set()
        payload = query
        for _page in range(self.max_pages):
            answer = self._post(payload)
            for record in _api_records(answer, self.query_url):
                records.setdefault(str(record["id"]), record)
            token = answer.get("next_page_token")
            if token is None or token == "":
                return list(records.values())
            if not isinstance(token, str):
                raise ServiceError(f"the OSV API at {self._where} sent a non-string page token")
            if token in tokens:
                raise ServiceError(f"the OSV API at {self._where} repeated a page token")
            tokens.add(token)
            payload = {**query, "page_token": token}
        raise ServiceError(
            f"the OSV API at {self._where} answered {name} {version} "
            f"in more than {self.max_pages} pages"
        )

    def warm_up(self) -> None:
        """Reach the API now, in the background, while the caller does other work.

        ``check`` calls this before pip resolves, which takes seconds. The probe (a query
        for pip-verify itself, whose answer is discarded) opens and pools the connection, so
        the audit's first query pays no name lookup or TLS handshake on the critical path.
        If the API cannot be reached, the probe records that, and the audit's queries fail
        at once with its message instead of each waiting for the same lookup to fail.
        Queries made while the probe is in flight wait for it. Calling it again does nothing.
        """
        if self._warming is not None:
            return
        warming = threading.Event()
        self._warming = warming

        def probe() -> None:
            try:
                self._post(_PROBE, wait=False)
            except Exception:  # the probe only warms; the queries report any failure
                logger.debug("OSV warm-up probe failed", exc_info=True)
            finally:
                warming.set()

        threading.Thread(target=probe, name="osv-warm-up", daemon=True).start()

    @property
    def _where(self) -> str:
        return redact(self.query_url)

    def _post(self, payload: dict[str, object], *, wait: bool = True) -> dict[str, object]:
        if wait and self._warming is not None:
            self._warming.wait()
        if self._unreachable:
            raise ServiceConnectionError(self._unreachable[0])
        try:
            page = self.session.post_json(self.query_url, payload)
        except VerifyError as exc:
            message = f"OSV API unavailable: {exc.message}"
            # list.append is atomic; the first failure's message is what later queries repeat.
            self._unreachable.append(message)
            raise ServiceConnectionError(message) from exc
        if page.status != 200:
            detail = _api_error_message(page.body)
            raise ServiceError(
                f"the OSV API at {self._where} answered HTTP {page.status}"
                + (f": {detail}" if detail else "")
            )
        try:
            answer: object = json.loads(page.body)
        except (ValueError, RecursionError) as exc:
            raise ServiceError(f"the OSV API at {self._where} did not answer with JSON") from exc
        if not isinstance(answer, dict):
            raise ServiceError(f"the OSV API at {self._where} did not answer with a JSON object")
        return answer


_Member: TypeAlias = zipfile.ZipInfo | Path


class OsvOfflineService(_OsvService):
    """OSV records from a directory (``*.json``, recursively) or a ``.zip`` (OSV's ``all.zip``).

    The records are indexed by normalized package name on first use (or by :meth:`load`),
    once; queries then read only the records naming the package. Unreadable or malformed
    records are skipped with a warning; an archive that looks hostile (unsafe member names,
    symlinks, more than ``max_members`` members or ``max_total_bytes`` uncompressed) is refused
    with :class:`~verify.errors.InvalidInputError`. Safe to share between threads.
    """

    def __init__(
        self,
        source: Path | str,
        *,
        max_members: int = MAX_ZIP_MEMBERS,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        max_record_bytes: int = MAX_RECORD_BYTES,
    ) -> None:
        self.source = Path(source)
        if self.source.is_dir():
            self._is_zip = False
        elif self.source.is_file():
            self._is_zip = True
        else:
            raise InvalidInputError(
                "no such OSV database (a directory of OSV JSON records or a .zip of them)",
                path=self.source,
            )
        self.max_members = max_members
        self.max_total_bytes = max_total_bytes
        self.max_record_bytes = max_record_bytes
        #: Records indexed, and records skipped as unreadable, after :meth:`load`.
        self.indexed = 0
        self.skipped = 0
        self._lock = threading.Lock()
        self._zip_lock = threading.Lock()
        self._zip: zipfile.ZipFile | None = None
        self._index: dict[NormalizedName, tuple[_Member, ...]] | None = None

    def __repr__(self) -> str:
        return f"OsvOfflineService({str(self.source)!r})"

    def load(self) -> None:
        """Index the database now (it is otherwise indexed on first use); idempotent."""
        self._loaded()

    def records_for(self, name: str, version: str) -> list[OsvRecord]:
        """See :class:`OsvRecordSource`; evaluates the affected ranges here."""
        normalized = canonicalize_name(name)
        parsed = _parse_version(version)
        found: list[OsvRecord] = []
        for member in self._loaded().get(normalized, ()):
            try:
                record = self._record(member)
            except _Unreadable as exc:
                # It was readable when indexed: skipping it now could hide a vulnerability.
                raise ServiceError(
                    f"{self.source}: the OSV record {_member_name(member)} "
                    f"can no longer be read: {exc}"
                ) from exc
            if record is not None and _affects(record, normalized, version, parsed):
                found.append(record)
        return found

    def close(self) -> None:
        """Close the archive, if one is open."""
        with self._zip_lock:
            if self._zip is not None:
                self._zip.close()
                self._zip = None
            self._index = None

    def __enter__(self) -> OsvOfflineService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Indexing.

    def _loaded(self) -> dict[NormalizedName, tuple[_Member, ...]]:
        index = self._index
        if index is not None:
            return index
        with self._lock:
            if self._index is None:
                members = self._zip_members() if self._is_zip else self._dir_members()
                self._index = self._build_index(members)
            return self._index

    def _build_index(self, members: Iterable[_Member]) -> dict[NormalizedName, tuple[_Member, ...]]:
        index: dict[NormalizedName, list[_Member]] = {}
        self.indexed = self.skipped = 0
        for member in members:
            try:
                record = self._record(member)
            except _Unreadable as exc:
                self.skipped += 1
                if self.skipped <= _NAMED_SKIPS:
                    logger.warning("%s: skipping %s: %s", self.source, _member_name(member), exc)
                continue
            if record is None:
                continue
            self.indexed += 1
            for package in dict.fromkeys(_pypi_packages(record)):
                index.setdefault(package, []).append(member)
        if self.skipped > _NAMED_SKIPS:
            logger.warning(
                "%s: skipped %d more unreadable OSV records",
                self.source,
                self.skipped - _NAMED_SKIPS,
            )
        logger.debug("%s: indexed %d OSV records", self.source, self.indexed)
        return {name: tuple(found) for name, found in index.items()}

    def _refuse(self, message: str) -> InvalidInputError:
        return InvalidInputError(
            message, path=self.source, hint="use OSV's all.zip for PyPI, or a directory of records"
        )

    def _dir_members(self) -> Iterator[Path]:
        count = 0
        total = 0
        for root, dirs, files in os.walk(self.source, followlinks=False):
            dirs.sort()
            for filename in sorted(files):
                if not filename.lower().endswith(".json"):
                    continue
                count += 1
                if count > self.max_members:
                    raise self._refuse(f"holds more than {self.max_members} JSON files")
                path = Path(root, filename)
                with contextlib.suppress(OSError):  # an unreadable file is reported when read
                    total += path.stat().st_size
                if total > self.max_total_bytes:
                    raise self._refuse(f"holds more than {self.max_total_bytes} bytes of JSON")
                yield path

    def _zip_members(self) -> list[zipfile.ZipInfo]:
        try:
            declared = _declared_zip_entries(self.source)
        except OSError as exc:
            raise self._refuse(f"cannot read the archive: {exc.strerror or exc}") from exc
        if declared is not None and declared > self.max_members:
            raise self._refuse(f"the archive declares {declared} members, over {self.max_members}")
        try:
            archive = zipfile.ZipFile(self.source)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise self._refuse(f"not a readable zip archive ({exc})") from exc
        try:
            infos = archive.infolist()
            if len(infos) > self.max_members:
                raise self._refuse(f"the archive has {len(infos)} members, over {self.max_members}")
            total = sum(info.file_size for info in infos)
            if total > self.max_total_bytes:
                raise self._refuse(
                    f"the archive would expand to {total} bytes, over {self.max_total_bytes}"
                )
            for info in infos:
                problem = _unsafe_member(info)
                if problem:
                    raise self._refuse(f"unsafe archive member {info.filename!r}: {problem}")
        except BaseException:
            archive.close()
            raise
        with self._zip_lock:
            self._zip = archive
        return [i for i in infos if not i.is_dir() and i.filename.lower().endswith(".json")]

    # Reading one record.

    def _record(self, member: _Member) -> OsvRecord | None:
        """The record in ``member``; ``None`` if withdrawn; :class:`_Unreadable` if unusable."""
        data = self._read(member)
        try:
            decoded: object = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise _Unreadable(f"not valid JSON ({_short(exc)})") from exc
        problem = _record_problem(decoded)
        if problem is not None:
            raise _Unreadable(problem)
        assert isinstance(decoded, dict)  # noqa: S101  (checked by _record_problem)
        record: OsvRecord = decoded
        if record.get("withdrawn") is not None:
            logger.debug("%s: OSV record %s is withdrawn", self.source, record["id"])
            return None
        return record

    def _read(self, member: _Member) -> bytes:
        limit = self.max_record_bytes
        if isinstance(member, Path):
            try:
                if not stat.S_ISREG(member.stat().st_mode):  # a FIFO would block the read
                    raise _Unreadable("not a regular file")
                with member.open("rb") as handle:
                    data = handle.read(limit + 1)
            except OSError as exc:
                raise _Unreadable(f"cannot read it ({exc.strerror or exc})") from exc
            if len(data) > limit:
                raise _Unreadable(f"larger than {limit} bytes")
            return data
        if member.flag_bits & 0x1:
            raise _Unreadable("encrypted")
        if member.file_size > limit:
            raise _Unreadable(f"larger than {limit} bytes")
        try:
            with self._zip_lock:
                if self._zip is None:
                    raise _Unreadable("the archive is closed")
                with self._zip.open(member) as handle:
                    data = handle.read(member.file_size + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            raise _Unreadable(f"cannot extract it ({_short(exc)})") from exc
        except zlib.error as exc:
            raise _Unreadable(f"cannot extract it ({_short(exc)})") from exc
        if len(data) > member.file_size:
            raise _Unreadable("larger than the archive says")
        return data


class _Unreadable(Exception):
    """A record that cannot be read; the message says why."""


def _member_name(member: _Member) -> str:
    return member.filename if isinstance(member, zipfile.ZipInfo) else str(member)


_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if not name or "\x00" in name:
        return "empty or NUL in the name"
    if "\\" in name:
        return "backslash in the name"
    if name.startswith("/") or _DRIVE.match(name):
        return "absolute path"
    if ".." in name.split("/"):
        return "parent-directory component"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link"
    return None


_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


def _declared_zip_entries(path: Path) -> int | None:
    """The member count the end records of the archive declare, read before parsing it.

    Lets a hostile archive be refused before :mod:`zipfile` builds an object per member.
    ``None`` when the end records cannot be found (:mod:`zipfile` then judges the file).
    """
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        tail_size = min(size, _EOCD.size + 0xFFFF + _ZIP64_LOCATOR.size)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD.size > len(tail):
            return None
        entries = int(_EOCD.unpack_from(tail, at)[4])
        if entries != 0xFFFF:
            return entries
        if at < _ZIP64_LOCATOR.size:
            return None
        signature, _disk, offset, _disks = _ZIP64_LOCATOR.unpack_from(
            tail, at - _ZIP64_LOCATOR.size
        )
        if signature != b"PK\x06\x07" or offset >= size:
            return None
        handle.seek(offset)
        record = handle.read(_ZIP64_EOCD.size)
        if len(record) != _ZIP64_EOCD.size or record[:4] != b"PK\x06\x06":
            return None
        return int(_ZIP64_EOCD.unpack(record)[7])


# --- OSV records -----------------------------------------------------------------------------


def _record_problem(decoded: object) -> str | None:
    if not isinstance(decoded, dict):
        return "not a JSON object"
    if not _text(decoded.get("id")):
        return "no id"
    schema = decoded.get("schema_version", "1.0.0")
    parsed = _parse_version(schema) if isinstance(schema, str) else None
    if parsed is None or parsed.major != 1:
        return f"unsupported OSV schema version {schema!r}"
    return None


def _api_records(answer: Mapping[str, object], where: str) -> Iterator[OsvRecord]:
    vulns = answer.get("vulns", [])
    if not isinstance(vulns, list):
        raise ServiceError(f"the OSV API at {redact(where)} sent 'vulns' that is not a list")
    for item in vulns:
        problem = _record_problem(item)
        if problem is not None:
            raise ServiceError(f"the OSV API at {redact(where)} sent a bad record: {problem}")
        assert isinstance(item, dict)  # noqa: S101  (checked by _record_problem)
        if item.get("withdrawn") is None:
            yield item


def _api_error_message(body: bytes) -> str | None:
    try:
        decoded: object = json.loads(body)
    except (ValueError, RecursionError):
        return None
    message = decoded.get("message") if isinstance(decoded, dict) else None
    return _short(message) if isinstance(message, str) and message else None


def _api_base(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"the OSV API URL must be an http(s) URL, not {redact(url)!r}")
    base = url.rstrip("/")
    if base.endswith(_QUERY_PATH):
        base = base[: -len(_QUERY_PATH)]
    return base


def _pypi_entries(
    record: Mapping[str, object], name: NormalizedName
) -> Iterator[dict[str, object]]:
    """The ``affected[]`` entries of ``record`` about the PyPI package ``name``."""
    for entry in _objects(record.get("affected")):
        package = entry.get("package")
        if not isinstance(package, dict) or package.get("ecosystem") != _ECOSYSTEM:
            continue
        package_name = package.get("name")
        if isinstance(package_name, str) and canonicalize_name(package_name) == name:
            yield entry


def _pypi_packages(record: Mapping[str, object]) -> Iterator[NormalizedName]:
    for entry in _objects(record.get("affected")):
        package = entry.get("package")
        if not isinstance(package, dict) or package.get("ecosystem") != _ECOSYSTEM:
            continue
        package_name = package.get("name")
        if isinstance(package_name, str) and package_name:
            yield canonicalize_name(package_name)


def _ecosystem_ranges(entry: Mapping[str, object]) -> Iterator[dict[str, object]]:
    for rng in _objects(entry.get("ranges")):
        if rng.get("type") == "ECOSYSTEM":
            yield rng


def _affects(
    record: Mapping[str, object], name: NormalizedName, version: str, parsed: Version | None
) -> bool:
    """Whether ``record`` says ``name`` at ``version`` is affected (OSV's evaluation)."""
    unjudged = False
    for entry in _pypi_entries(record, name):
        for listed in _texts(entry.get("versions")):
            if listed == version or (parsed is not None and _parse_version(listed) == parsed):
                return True
        for rng in _ecosystem_ranges(entry):
            if parsed is None:
                unjudged = True
            elif _in_range(rng, parsed):
                return True
    if unjudged:
        raise ServiceError(
            f"{name} {version!r} is not a PEP 440 version: "
            f"cannot evaluate the ranges of {record.get('id')}"
        )
    return False


def _in_range(rng: Mapping[str, object], version: Version) -> bool:
    """OSV's algorithm for one ``ECOSYSTEM`` range: walk its events in version order."""
    events: list[tuple[Version | None, str]] = []
    for event in _objects(rng.get("events")):
        for kind in ("introduced", "fixed", "last_affected", "limit"):
            raw = event.get(kind)
            if not isinstance(raw, str):
                continue
            if kind == "introduced" and raw == "0":
                events.append((None, kind))  # before every version
                continue
            at = _parse_version(raw)
            if at is None:
                logger.debug("ignoring the unparsable %s version %r of a range", kind, raw)
                continue
            events.append((at, kind))
    affected = False
    for at, kind in sorted(
        events, key=lambda e: (e[0] is not None, e[0] if e[0] is not None else _ZERO)
    ):
        if kind == "introduced" and (at is None or version >= at):
            affected = True
        elif at is None:
            continue
        elif (kind == "fixed" and version >= at) or (kind == "last_affected" and version > at):
            affected = False
    limits = [at for at, kind in events if kind == "limit" and at is not None]
    return affected and not any(version >= limit for limit in limits)


_ZERO = Version("0")


def _fix_versions(
    record: Mapping[str, object], name: NormalizedName, version: Version | None
) -> tuple[str, ...]:
    matching: set[str] = set()
    every: set[str] = set()
    for entry in _pypi_entries(record, name):
        for rng in _ecosystem_ranges(entry):
            fixed = {
                raw
                for event in _objects(rng.get("events"))
                if isinstance(raw := event.get("fixed"), str) and raw
            }
            every |= fixed
            if version is not None and _in_range(rng, version):
                matching |= {f for f in fixed if (at := _parse_version(f)) and at > version}
    return tuple(sorted(matching or every, key=_version_key))


def osv_severity(record: Mapping[str, object]) -> str | None:
    """The severity band of a record: its CVSS v3 base score, else its database's label."""
    for entry in _objects(record.get("severity")):
        if entry.get("type") != "CVSS_V3":
            continue
        vector = entry.get("score")
        score = cvss3_base_score(vector) if isinstance(vector, str) else None
        if score:
            return _band(score)
    labelled = [record, *_objects(record.get("affected"))]
    for holder in labelled:
        for key in ("database_specific", "ecosystem_specific"):
            specific = holder.get(key)
            label = specific.get("severity") if isinstance(specific, dict) else None
            if isinstance(label, str) and label.strip().lower() in _SEVERITY_LABELS:
                return _SEVERITY_LABELS[label.strip().lower()]
    return None


def _band(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


_CVSS3_WEIGHTS: Final[dict[str, dict[str, float]]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "PR": {"N": 0.85, "L": 0.62, "H": 0.27},
    "UI": {"N": 0.85, "R": 0.62},
    "S": {"U": 0.0, "C": 0.0},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
#: Privileges Required weighs more when the scope changes.
_CVSS3_PR_CHANGED: Final = {"N": 0.85, "L": 0.68, "H": 0.5}


def cvss3_base_score(vector: str) -> float | None:
    """The base score of a CVSS v3.0/v3.1 vector (CVSS 3.1 specification, section 7.1).

    Temporal and environmental metrics in the vector are ignored. ``None`` when the vector is
    not a well-formed CVSS 3.x vector with every base metric.
    """
    prefix, _, rest = vector.strip().partition("/")
    if prefix not in ("CVSS:3.0", "CVSS:3.1") or not rest:
        return None
    metrics: dict[str, str] = {}
    for part in rest.split("/"):
        key, sep, value = part.partition(":")
        if not sep or not value or key in metrics:
            return None
        metrics[key] = value
    try:
        weights = {key: _CVSS3_WEIGHTS[key][metrics[key]] for key in _CVSS3_WEIGHTS}
    except KeyError:
        return None
    changed = metrics["S"] == "C"
    if changed:
        weights["PR"] = _CVSS3_PR_CHANGED[metrics["PR"]]
    iss = 1 - (1 - weights["C"]) * (1 - weights["I"]) * (1 - weights["A"])
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    exploitability = 8.22 * weights["AV"] * weights["AC"] * weights["PR"] * weights["UI"]
    if impact <= 0:
        return 0.0
    total = 1.08 * (impact + exploitability) if changed else impact + exploitability
    return _roundup(min(total, 10.0))


def _roundup(value: float) -> float:
    """CVSS 3.1's Roundup: the smallest one-decimal number >= value, without float noise."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000.0
    return (math.floor(scaled / 10_000) + 1) / 10.0


def _reference_url(record: Mapping[str, object]) -> str | None:
    for reference in _objects(record.get("references")):
        url = reference.get("url")
        if reference.get("type") in ("ADVISORY", "WEB") and isinstance(url, str) and url:
            return url
    return None


def _is_malicious(ids: Iterable[str]) -> bool:
    return any(i.upper().startswith("MAL-") for i in ids)


_TIMESTAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?"
)


def _parse_timestamp(value: object) -> datetime | None:
    """An RFC 3339 timestamp as an aware UTC datetime (any number of fraction digits)."""
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.fullmatch(value.strip())
    if match is None:
        return None
    day, hour, minute, second, fraction, zone = match.groups()
    try:
        stamp = datetime.strptime(f"{day} {hour}:{minute}:{second}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    stamp = stamp.replace(microsecond=int((fraction or "0")[:6].ljust(6, "0")))
    offset = timedelta(0)
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return (stamp - offset).replace(tzinfo=timezone.utc)


# --- Auditing --------------------------------------------------------------------------------


def audit(service: VulnerabilityService, name: str, version: str) -> AuditOutcome:
    """Ask ``service`` about ``name`` at ``version``; never raises for a source failure.

    Uses the raw OSV records of an :class:`OsvRecordSource`, otherwise the service's
    ``query()`` (pip-audit's ``PyPIService``, for one). Records that are aliases of each other
    (a PYSEC and a GHSA advisory for one CVE) are merged into one :class:`KnownVulnerability`.
    An unreachable or misbehaving source yields an outcome with ``error`` set; only a
    :class:`~verify.errors.UsageError` (an unusable offline database, a bad URL) propagates,
    since no package can be checked against that source.
    """
    try:
        if isinstance(service, OsvRecordSource):
            records = service.records_for(name, version)
            found = [KnownVulnerability.from_osv(r, name, version) for r in records]
        else:
            try:
                parsed = Version(version)
            except InvalidVersion:
                return AuditOutcome((), f"{name} {version!r} is not a PEP 440 version")
            spec, results = service.query(ResolvedDependency(name=name, version=parsed))
            if spec.is_skipped():
                return AuditOutcome((), str(spec.skip_reason) or f"{name} {version} was skipped")
            found = [KnownVulnerability.from_result(r) for r in results]
    except UsageError:
        raise
    except ServiceError as exc:
        return AuditOutcome((), _service_error_text(exc))
    except VerifyError as exc:
        return AuditOutcome((), exc.one_line())
    except requests.RequestException as exc:
        return AuditOutcome((), f"could not reach the vulnerability service: {_short(exc)}")
    except Exception as exc:
        logger.debug("auditing %s %s failed", name, version, exc_info=True)
        return AuditOutcome(
            (), f"checking {name} {version} failed: {type(exc).__name__}: {_short(exc)}"
        )
    return AuditOutcome(_merge_aliases(found))


def audit_many(
    service: VulnerabilityService,
    packages: Sequence[tuple[str, str]],
    *,
    jobs: int = 8,
) -> dict[tuple[str, str], AuditOutcome]:
    """:func:`audit` each ``(name, version)`` pair (duplicates once), ``jobs`` at a time.

    Every pair gets an outcome; a source failure is an outcome's ``error``. Only a
    :class:`~verify.errors.UsageError` propagates (the remaining queries are cancelled).
    """
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    unique = list(dict.fromkeys(packages))
    if isinstance(service, OsvOfflineService) and unique:
        service.load()  # one index, and a hostile database refused before any thread starts
    workers = min(jobs, len(unique))
    if workers <= 1:
        return {key: audit(service, key[0], key[1]) for key in unique}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pip-verify-audit")
    try:
        futures: list[tuple[tuple[str, str], Future[AuditOutcome]]] = [
            (key, pool.submit(audit, service, key[0], key[1])) for key in unique
        ]
        return {key: future.result() for key, future in futures}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _service_error_text(exc: BaseException) -> str:
    # pip-audit raises some ServiceErrors without a message, from the HTTP error.
    text = str(exc)
    if not text and exc.__cause__ is not None:
        text = f"{type(exc.__cause__).__name__}: {_short(exc.__cause__)}"
    return text or f"the vulnerability service failed ({type(exc).__name__})"


def _id_rank(vuln_id: str) -> tuple[int, str]:
    prefix = vuln_id.split("-", 1)[0].upper()
    return ({"PYSEC": 0, "GHSA": 1, "MAL": 2}.get(prefix, 3), vuln_id)


def _merge_aliases(found: Iterable[KnownVulnerability]) -> tuple[KnownVulnerability, ...]:
    """Merge vulnerabilities whose ids or aliases overlap; sorted by id."""
    groups: list[tuple[set[str], list[KnownVulnerability]]] = []
    for vuln in found:
        ids = {vuln.id, *vuln.aliases}
        members = [vuln]
        for n in reversed(range(len(groups))):
            if groups[n][0] & ids:
                other_ids, other = groups.pop(n)
                ids |= other_ids
                members = other + members
        groups.append((ids, members))
    merged = [_merge(ids, members) for ids, members in groups]
    return tuple(sorted(merged, key=lambda v: _id_rank(v.id)))


def _merge(ids: set[str], members: list[KnownVulnerability]) -> KnownVulnerability:
    if len(members) == 1:
        return members[0]
    members = sorted(members, key=lambda v: _id_rank(v.id))
    primary = members[0].id
    severities = [v.severity for v in members if v.severity is not None]
    fixes = {f for v in members for f in v.fix_versions}
    return KnownVulnerability(
        id=primary,
        aliases=tuple(sorted(ids - {primary})),
        summary=next((v.summary for v in members if v.summary), None),
        fix_versions=tuple(sorted(fixes, key=_version_key)),
        severity=max(severities, key=_SEVERITY_RANK.__getitem__, default=None),
        malicious=any(v.malicious for v in members),
        url=next((v.url for v in members if v.url), None),
    )


# --- Small helpers ---------------------------------------------------------------------------


def _parse_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _version_key(text: str) -> tuple[int, Version, str]:
    parsed = _parse_version(text)
    return (0, parsed, "") if parsed is not None else (1, _ZERO, text)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _texts(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _objects(value: object) -> list[dict[str, object]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _one_line(text: str | None) -> str | None:
    joined = " ".join(text.split()) if text else ""
    return joined or None


def _short(value: object, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
