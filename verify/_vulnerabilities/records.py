"""OSV records: checking one is usable, reading it into a :class:`KnownVulnerability`, and the
base of the sources that hand out raw records.

pip-audit's results keep neither OSV's severity nor anything that marks a malicious package, so
pip-verify's OSV sources (:class:`OsvRecordSource`) answer with the raw records, read here.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TypeAlias

from packaging.utils import canonicalize_name

from verify._vulnerabilities.cvss import osv_severity
from verify._vulnerabilities.fields import objects, one_line, text, texts
from verify._vulnerabilities.interface import KnownVulnerability, VulnerabilitySource
from verify._vulnerabilities.ranges import fix_versions, parse_version

__all__ = [
    "OsvRecord",
    "OsvRecordSource",
    "is_malicious",
    "known_vulnerability",
    "parse_timestamp",
    "record_problem",
]

#: One OSV record, as decoded from JSON.
OsvRecord: TypeAlias = dict[str, object]


class OsvRecordSource(VulnerabilitySource):
    """A source that can hand out the raw OSV records affecting a package version."""

    @abstractmethod
    def records_for(self, name: str, version: str) -> list[OsvRecord]:
        """The live (not withdrawn) OSV records affecting ``name`` at ``version``."""

    def known_vulnerabilities(self, name: str, version: str) -> list[KnownVulnerability]:
        """See :class:`VulnerabilitySource`: :meth:`records_for`, read."""
        return [known_vulnerability(r, name, version) for r in self.records_for(name, version)]


def known_vulnerability(
    record: Mapping[str, object], name: str, version: str
) -> KnownVulnerability:
    """Read an OSV record about ``name`` at ``version``."""
    vuln_id = text(record.get("id")) or "unknown"
    aliases = tuple(sorted({a for a in texts(record.get("aliases")) if a != vuln_id}))
    summary = one_line(text(record.get("summary"))) or one_line(text(record.get("details")))
    return KnownVulnerability(
        id=vuln_id,
        aliases=aliases,
        summary=summary,
        fix_versions=fix_versions(record, canonicalize_name(name), parse_version(version)),
        severity=osv_severity(record),
        malicious=is_malicious((vuln_id, *aliases)),
        url=_reference_url(record),
    )


def record_problem(decoded: object) -> str | None:
    """Why ``decoded`` is not a usable OSV record; ``None`` when it is one."""
    if not isinstance(decoded, dict):
        return "not a JSON object"
    if not text(decoded.get("id")):
        return "no id"
    schema = decoded.get("schema_version", "1.0.0")
    parsed = parse_version(schema) if isinstance(schema, str) else None
    if parsed is None or parsed.major != 1:
        return f"unsupported OSV schema version {schema!r}"
    return None


def is_malicious(ids: Iterable[str]) -> bool:
    """Whether one of ``ids`` is an OSV malicious-package id (``MAL-...``)."""
    return any(i.upper().startswith("MAL-") for i in ids)


def _reference_url(record: Mapping[str, object]) -> str | None:
    for reference in objects(record.get("references")):
        url = reference.get("url")
        if reference.get("type") in ("ADVISORY", "WEB") and isinstance(url, str) and url:
            return url
    return None


_TIMESTAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?"
)


def parse_timestamp(value: object) -> datetime | None:
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
