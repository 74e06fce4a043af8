"""pip-audit, seen from pip-verify: the one module of ``verify`` that imports pip-audit.

pip-audit's service interface lives in its private ``pip_audit._service`` modules, which may
change between its releases. Everything pip-verify takes from them is here:

* :func:`default_osv_url`, pip-audit's default OSV API URL;
* :class:`PipAuditOsvService`, the base of pip-verify's OSV sources, which makes each of them
  a pip-audit ``VulnerabilityService`` too (``query()``, failing with pip-audit's
  ``ServiceError`` and ``ConnectionError``);
* :class:`PipAuditSource`, which adapts any other pip-audit service (its ``PyPIService``, for
  one) to pip-verify's :class:`~verify._vulnerabilities.interface.VulnerabilitySource`.
"""

from __future__ import annotations

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

from verify._vulnerabilities.fields import one_line, short
from verify._vulnerabilities.interface import (
    KnownVulnerability,
    SourceUnreachableError,
    VulnerabilitySource,
    VulnerabilitySourceError,
)
from verify._vulnerabilities.ranges import parse_version
from verify._vulnerabilities.records import (
    OsvRecordSource,
    is_malicious,
    known_vulnerability,
    parse_timestamp,
)
from verify.errors import UsageError

__all__ = ["PipAuditOsvService", "PipAuditSource", "default_osv_url"]


def default_osv_url() -> str:
    """pip-audit's default OSV query URL, read from the installed pip-audit."""
    url = getattr(_pip_audit_osv.OsvService, "DEFAULT_OSV_URL", None)
    if not isinstance(url, str) or not url:
        raise UsageError(
            "the installed pip-audit does not name a default OSV API URL (2.10 and later do)",
            hint="pass the OSV API URL with --osv-url, or upgrade pip-audit",
        )
    return url


class PipAuditOsvService(OsvRecordSource, VulnerabilityService):  # type: ignore[misc]  # pip-audit ships no types
    """An OSV record source that is also a pip-audit ``VulnerabilityService``.

    ``query()`` reads :meth:`records_for`; a :class:`SourceUnreachableError` becomes
    pip-audit's ``ConnectionError`` and any other :class:`VulnerabilitySourceError` its
    ``ServiceError``, with the same message.
    """

    def query(self, spec: Dependency) -> tuple[Dependency, list[VulnerabilityResult]]:
        """pip-audit's ``VulnerabilityService.query``: raises ``ServiceError`` on failure."""
        if spec.is_skipped():
            return spec, []
        name = str(spec.name)
        version = str(spec.version)
        try:
            records = self.records_for(name, version)
        except SourceUnreachableError as exc:
            raise ServiceConnectionError(str(exc)) from exc
        except VulnerabilitySourceError as exc:
            raise ServiceError(str(exc)) from exc
        results: list[VulnerabilityResult] = []
        for record in records:
            known = known_vulnerability(record, name, version)
            fixes = [v for v in map(parse_version, known.fix_versions) if v is not None]
            results.append(
                VulnerabilityResult.create(
                    ids=[known.id, *known.aliases],
                    description=known.summary or "N/A",
                    fix_versions=fixes,
                    published=parse_timestamp(record.get("published")),
                )
            )
        return spec, results


class PipAuditSource(VulnerabilitySource):
    """Any pip-audit ``VulnerabilityService`` as a :class:`VulnerabilitySource`.

    pip-audit's results carry no severity and no reference, so neither do the answers.
    """

    def __init__(self, service: VulnerabilityService) -> None:
        self.service = service

    def __repr__(self) -> str:
        return f"PipAuditSource({self.service!r})"

    def known_vulnerabilities(self, name: str, version: str) -> list[KnownVulnerability]:
        """See :class:`VulnerabilitySource`: the service's ``query()``, read."""
        try:
            parsed = Version(version)
        except InvalidVersion as exc:
            raise VulnerabilitySourceError(f"{name} {version!r} is not a PEP 440 version") from exc
        try:
            spec, results = self.service.query(ResolvedDependency(name=name, version=parsed))
        except ServiceConnectionError as exc:
            raise SourceUnreachableError(_service_error_text(exc)) from exc
        except ServiceError as exc:
            raise VulnerabilitySourceError(_service_error_text(exc)) from exc
        if spec.is_skipped():
            raise VulnerabilitySourceError(str(spec.skip_reason) or f"{name} {version} was skipped")
        return [_known_from_result(result) for result in results]


def _known_from_result(result: VulnerabilityResult) -> KnownVulnerability:
    """Read a result of any pip-audit service (no severity or reference there)."""
    vuln_id = str(result.id)
    aliases = tuple(sorted({str(a) for a in result.aliases} - {vuln_id}))
    description = str(result.description)
    fixes: list[Version] = sorted(result.fix_versions)
    return KnownVulnerability(
        id=vuln_id,
        aliases=aliases,
        summary=None if description in ("", "N/A") else one_line(description),
        fix_versions=tuple(str(v) for v in fixes),
        severity=None,
        malicious=is_malicious((vuln_id, *aliases)),
        url=None,
    )


def _service_error_text(exc: BaseException) -> str:
    # pip-audit raises some ServiceErrors without a message, from the HTTP error.
    text = str(exc)
    if not text and exc.__cause__ is not None:
        text = f"{type(exc.__cause__).__name__}: {short(exc.__cause__)}"
    return text or f"the vulnerability service failed ({type(exc).__name__})"
