"""A report as a CycloneDX 1.6 JSON SBOM that carries the evidence (``--format cyclonedx``),
built with cyclonedx-python-lib (which pip-audit brings).

Each package is a component with its purl (``pkg:pypi/<name>@<version>``), the sha256 of its
verified files, each file as a ``distribution`` reference (URL, file name, digest) and its index
as a ``distribution-intake`` reference, the publisher its verified provenance names, and the
decision with every rule outcome as properties in the ``pip-verify:`` namespace:

* ``pip-verify:decision``: ``allow``, ``warn`` or ``deny``;
* ``pip-verify:rule:<rule id>``: that rule's decision (``unchecked`` added when it could not
  be evaluated), one per rule that spoke;
* ``pip-verify:provenance``: ``verified``, ``absent``, ``unchecked`` or ``invalid``;
* ``pip-verify:requested``: ``true`` for what the input asked for, ``false`` for dependencies;
* ``pip-verify:report-decision`` (on the BOM): the decision of the whole check.

Dependencies come from each verified file's own metadata (``Requires-Dist`` whose markers hold
for this interpreter, extras left out) between the packages of the report; the root component
depends on the requested packages.
"""

from __future__ import annotations

from collections.abc import Iterable

from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL
from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from verify._dist.core_metadata import requires_dist
from verify._version import __version__
from verify.models import FileResult, PackageResult, Report

__all__ = ["NAMESPACE", "render_cyclonedx"]

#: The prefix of every property pip-verify writes.
NAMESPACE = "pip-verify:"


def render_cyclonedx(report: Report, *, name: str = "pip-verify check") -> str:
    """``report`` as CycloneDX 1.6 JSON; ``name`` names the root component (what was
    checked)."""
    root = Component(type=ComponentType.APPLICATION, name=name, bom_ref="root")
    bom = Bom()
    bom.metadata.component = root
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="pip-verify", version=__version__)
    )
    bom.properties.add(Property(name=f"{NAMESPACE}report-decision", value=report.decision.value))
    components: dict[NormalizedName, Component] = {}
    for package in report.packages:
        component = _component(package)
        components[package.name] = component
        bom.components.add(component)
    bom.register_dependency(root, [components[p.name] for p in report.packages if p.requested])
    for package in report.packages:
        requires = [components[n] for n in _requires(package) if n in components]
        bom.register_dependency(components[package.name], requires)
    return JsonV1Dot6(bom).output_as_string(indent=2) + "\n"


def _component(package: PackageResult) -> Component:
    version = str(package.version) if package.version is not None else None
    purl = PackageURL(type="pypi", name=package.name, version=version)
    files = [f for f in package.files if f.sha256]
    properties = [
        Property(name=f"{NAMESPACE}decision", value=package.decision.value),
        Property(name=f"{NAMESPACE}provenance", value=package.provenance.status.value),
        Property(name=f"{NAMESPACE}requested", value="true" if package.requested else "false"),
    ]
    properties += [
        Property(
            name=f"{NAMESPACE}rule:{reason.rule}",
            value=reason.decision.value + (" unchecked" if reason.unchecked else ""),
        )
        for reason in dict.fromkeys(package.reasons)
    ]
    return Component(
        type=ComponentType.LIBRARY,
        name=package.name,
        version=version,
        purl=purl,
        bom_ref=str(purl),
        publisher=_publisher(package),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=f.sha256 or "") for f in files[:1]],
        external_references=list(_references(package, files)),
        properties=properties,
    )


def _references(package: PackageResult, files: Iterable[FileResult]) -> Iterable[ExternalReference]:
    for file in files:
        if file.url:
            yield ExternalReference(
                type=ExternalReferenceType.DISTRIBUTION,
                url=XsUri(file.url),
                comment=file.filename,
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=file.sha256 or "")],
            )
    if package.index:
        yield ExternalReference(
            type=ExternalReferenceType.DISTRIBUTION_INTAKE,
            url=XsUri(package.index),
            comment="the index the package came from",
        )


def _publisher(package: PackageResult) -> str | None:
    publisher = package.provenance.publisher
    if not publisher:
        return None
    return ", ".join(f"{key}={value}" for key, value in sorted(publisher.items()) if value)


def _requires(package: PackageResult) -> list[NormalizedName]:
    """The names the package's verified wheel requires in this environment (no extras)."""
    names: list[NormalizedName] = []
    for text in requires_dist(package):
        try:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
        except (InvalidRequirement, InvalidMarker):
            continue
        names.append(canonicalize_name(requirement.name))
    return list(dict.fromkeys(names))
