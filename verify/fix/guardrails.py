"""The guardrails of ``pip-verify fix``: which releases it tries, in which order, and which it
refuses before or after their check, each refusal one line naming the ``[fix]`` key behind it.

Every function here is pure: the run (:mod:`verify.fix.run`) reads the index and checks the
candidates, and asks these what to make of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._index.urls import normalize_index_url, redact
from verify._provenance.identity import ExpectedIdentity, PublisherIdentity, PublisherKind
from verify._verifier.rules.age import span
from verify.errors import UsageError
from verify.fix.model import SET_BY, FixSettings, Guardrails
from verify.models import (
    Decision,
    FileResult,
    IndexFile,
    PackageResult,
    Provenance,
    ProvenanceStatus,
)
from verify.policy import Policy, UpdateKind
from verify.trust_store import TrustEntry

__all__ = [
    "PublisherReference",
    "candidate_order",
    "cooldown_of",
    "cooldown_problem",
    "index_problem",
    "pinned_index",
    "publisher_problem",
    "publisher_reference",
    "resolve_guardrails",
]

_SIZES = {UpdateKind.PATCH: 0, UpdateKind.MINOR: 1, UpdateKind.MAJOR: 2}
#: What a pinned release's reasons say when its publisher is not the one it should be: then
#: it is no reference for the next release's.
_DISOWNED = ("publisher-mismatch", "publisher-change")
_T = TypeVar("_T")


def resolve_guardrails(settings: FixSettings, policy: Policy) -> Guardrails:
    """The limits of this run: each from ``settings`` when it sets it, else from the policy's
    ``[fix]`` table, else the default (:class:`Guardrails`' own, which the embedded policy
    states)."""
    table, default = policy.fix, Guardrails()
    set_by: dict[str, str] = {}

    def pick(key: str, given: _T | None, from_policy: _T | None, fallback: _T) -> _T:
        where = 0 if given is not None else 1 if from_policy is not None else 2
        set_by[key] = SET_BY[where]
        return given if given is not None else from_policy if from_policy is not None else fallback

    allow = pick("allow", settings.allow, table.allow, default.allow)
    cooldown = pick("cooldown-days", settings.cooldown_days, table.cooldown_days, None)
    if cooldown is None:
        set_by["cooldown-days"] = "release-age"
    same_index = pick("same-index", settings.same_index, table.same_index, default.same_index)
    same_publisher = pick(
        "same-publisher", settings.same_publisher, table.same_publisher, default.same_publisher
    )
    downgrade = pick("downgrade", settings.downgrade, table.downgrade, default.downgrade)
    return Guardrails(allow, cooldown, same_index, same_publisher, downgrade, set_by)


def cooldown_of(guardrails: Guardrails, policy: Policy, name: str) -> int:
    """The cooldown, in seconds, for the releases of ``name``."""
    if guardrails.cooldown_days is not None:
        return guardrails.cooldown_days * 86400
    return policy.fix_cooldown(package=name)


def candidate_order(
    current: Version, available: Iterable[Version], guardrails: Guardrails
) -> list[Version]:
    """The releases to try, in order: upgrades within ``allow`` from the smallest, then, when
    downgrades are allowed, downgrades within ``allow`` from the nearest. Never a
    pre-release."""

    def size(version: Version) -> int:
        if version.release[:1] != current.release[:1]:
            return 2
        if version.release[:2] != current.release[:2]:
            return 1
        return 0

    limit = _SIZES[guardrails.allow]
    within = [v for v in available if not v.is_prerelease and size(v) <= limit]
    upgrades = sorted(v for v in within if v > current)
    downgrades = sorted((v for v in within if v < current), reverse=True)
    return upgrades + (downgrades if guardrails.downgrade else [])


class _Uploaded(Protocol):
    """A file with the upload time its index gave (an index entry or a checked file)."""

    @property
    def filename(self) -> str: ...

    @property
    def upload_time(self) -> datetime | None: ...


def cooldown_problem(
    files: Iterable[_Uploaded], cooldown: int, now: datetime, *, where: str
) -> str | None:
    """Why one of ``files`` is too young for a cooldown of ``cooldown`` seconds, or has no
    upload time to tell (``where``: the index or package, for the message); ``None`` when
    every file is old enough, or there is no cooldown."""
    if cooldown <= 0:
        return None
    for file in files:
        if file.upload_time is None:
            return (
                f"[fix.cooldown-days] {where} gives no upload time for {file.filename}, so its "
                f"age cannot be checked against the cooldown ({span(cooldown)})"
            )
        age = now - file.upload_time
        if age < timedelta(seconds=cooldown):
            return (
                f"[fix.cooldown-days] {file.filename} was uploaded {span(age.total_seconds())} "
                f"ago ({file.upload_time:%Y-%m-%d %H:%M} UTC); the cooldown is {span(cooldown)}"
            )
    return None


def pinned_index(
    name: NormalizedName,
    consulted: Sequence[str],
    lock_index: str | None,
    served_from: str | None,
) -> str | None:
    """The index ``name`` is pinned to: the one the lock names (which this run must consult),
    else the consulted index that served the pinned release (``served_from``, redacted as a
    report gives it), else the only index consulted; ``None`` when it cannot be told."""
    if lock_index is not None:
        index = normalize_index_url(lock_index)
        if index not in consulted:
            raise UsageError(
                f"{name}'s entry in the lock names the index {redact(index)}, which this run "
                "does not consult",
                hint=f"pass --index-url {redact(index)} (or --extra-index-url)",
            )
        return index
    served = [url for url in consulted if served_from is not None and redact(url) == served_from]
    if served:
        return served[0]
    return consulted[0] if len(consulted) == 1 else None


def index_problem(
    result: PackageResult, files: Sequence[IndexFile], index: str, *, key: str
) -> str | None:
    """Why the files checked for a release are not among ``files``, those ``index`` serves
    for it and that the lock gets (another index served the bytes the resolver took);
    ``None`` when they all are. ``key`` names the guardrail in the message."""
    served = {file.hashes.get("sha256") for file in files}
    for file in result.files:
        if file.sha256 not in served:
            source = file.index_url or "elsewhere"
            return (
                f"[{key}] {file.filename} was checked from {source}, but it is not a file "
                f"{redact(index)} serves for {result.name} {result.version}"
            )
    return None


@dataclass(frozen=True, slots=True)
class PublisherReference:
    """The publisher a new release must come from (``same-publisher``)."""

    #: Every identity a candidate's files must match (the pinned release's, the store's).
    identities: tuple[ExpectedIdentity, ...] = ()
    #: Why no candidate can be taken (the pinned release's publisher is unknown), if so.
    unknown: str | None = None
    #: What was compared, or why nothing was, for the report.
    note: str = ""


def publisher_reference(pinned: PackageResult, trusted: TrustEntry | None) -> PublisherReference:
    """The publisher a new release of ``pinned``'s package must come from: the one the trust
    store records (first seen, pinned or accepted), else the pinned release's (every file's
    verified identity); what to do when neither is known (see docs/policy.md)."""
    release = f"{pinned.name} {pinned.version} in the lock"
    if trusted is not None:
        return PublisherReference((trusted.identity,), note=f"{trusted.identity} (trust store)")
    disowned = [
        r for r in pinned.reasons if r.rule in _DISOWNED and r.decision is not Decision.ALLOW
    ]
    if disowned:
        return PublisherReference(
            note=f"not compared: {release} is not from the publisher it should be "
            f"([{disowned[0].rule}]); the policy judges each release's"
        )
    outcomes = [f.provenance for f in pinned.files if f.provenance is not None]
    identities = {
        _expected(identity, release): None
        for identity in (_identity(provenance) for provenance in outcomes)
        if identity is not None
    }
    if identities:
        note = "; ".join(f"{identity} ({release})" for identity in identities)
        return PublisherReference(tuple(identities), note=note)
    unchecked = [p for p in outcomes if p.status is ProvenanceStatus.UNCHECKED]
    if unchecked:
        reason = (
            f"the publisher of {release} could not be checked ({unchecked[0].reason}), so no "
            "release's publisher can be compared with it"
        )
        return PublisherReference(unknown=f"[fix.same-publisher] {reason}", note=reason)
    return PublisherReference(
        note=f"not compared: {release} has no verified provenance and the trust store records "
        f"no publisher for {pinned.name}"
    )


def publisher_problem(reference: PublisherReference, result: PackageResult) -> str | None:
    """Why a candidate's files are not all from the reference publisher; ``None`` when they
    are, or there is nothing to compare them with."""
    if reference.unknown is not None:
        return reference.unknown
    if not reference.identities:
        return None
    wanted = " and ".join(f"{i} ({i.origin})" for i in reference.identities)
    if not result.files:
        return f"[fix.same-publisher] no file of {result.name} {result.version} was checked"
    for file in result.files:
        problem = _file_publisher_problem(file, reference.identities)
        if problem is not None:
            return f"[fix.same-publisher] {file.filename} {problem}; wanted: {wanted}"
    return None


def _file_publisher_problem(file: FileResult, identities: Sequence[ExpectedIdentity]) -> str | None:
    provenance = file.provenance
    if provenance is None or provenance.status is ProvenanceStatus.ABSENT:
        return "has no provenance"
    identity = _identity(provenance)
    if identity is None:
        return f"has no verified provenance ({provenance.status.value}: {provenance.reason})"
    if all(expected.matches(identity) for expected in identities):
        return None
    return f"was published by {_expected(identity, '')}"


def _identity(provenance: Provenance) -> PublisherIdentity | None:
    """The verified publisher of a file, as check's provenance rules read it."""
    publisher = provenance.publisher
    if provenance.status is not ProvenanceStatus.VERIFIED or publisher is None:
        return None
    return _from_fields(publisher)


def _from_fields(fields: Mapping[str, str | None]) -> PublisherIdentity:
    kind = fields.get("kind")
    known = {k.value: k for k in PublisherKind}
    return PublisherIdentity(
        kind=known.get(kind or "", PublisherKind.UNKNOWN),
        issuer=fields.get("issuer") or "",
        repository=fields.get("repository"),
        workflow=fields.get("workflow"),
        environment=fields.get("environment"),
        subject=fields.get("subject"),
    )


def _expected(identity: PublisherIdentity, origin: str) -> ExpectedIdentity:
    """The identity as a pin, compared the way the trust store compares (kind, repository,
    workflow, environment)."""
    return ExpectedIdentity(
        kind=identity.kind.value,
        repository=identity.repository or identity.subject or "?",
        workflow=identity.workflow,
        environment=identity.environment,
        origin=origin,
    )
