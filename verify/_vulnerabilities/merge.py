"""Merging the records that are aliases of each other (a PYSEC and a GHSA advisory for one CVE)
into one :class:`KnownVulnerability`, keeping the best of each."""

from __future__ import annotations

from collections.abc import Iterable

from verify._vulnerabilities.cvss import SEVERITY_RANK
from verify._vulnerabilities.interface import KnownVulnerability
from verify._vulnerabilities.ranges import version_key

__all__ = ["merge_aliases"]


def merge_aliases(found: Iterable[KnownVulnerability]) -> tuple[KnownVulnerability, ...]:
    """Merge vulnerabilities whose ids or aliases overlap; sorted by id (PYSEC, GHSA, MAL
    first)."""
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


def _id_rank(vuln_id: str) -> tuple[int, str]:
    prefix = vuln_id.split("-", 1)[0].upper()
    return ({"PYSEC": 0, "GHSA": 1, "MAL": 2}.get(prefix, 3), vuln_id)


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
        fix_versions=tuple(sorted(fixes, key=version_key)),
        severity=max(severities, key=SEVERITY_RANK.__getitem__, default=None),
        malicious=any(v.malicious for v in members),
        url=next((v.url for v in members if v.url), None),
    )
