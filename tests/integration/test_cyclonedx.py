"""``check --format cyclonedx``: a CycloneDX 1.6 SBOM that carries the evidence, validated
against the schema vendored in tests/data/cyclonedx (offline)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DistFactory, PackageIndex, assert_no_traceback
from tests.helpers.dists import DistSpec
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "cyclonedx"


def validate(document: dict[str, Any]) -> None:
    import jsonschema
    from referencing import Registry, Resource

    def load(name: str) -> Any:
        return json.loads((SCHEMAS / name).read_text("utf-8"))

    base = "http://cyclonedx.org/schema/"
    registry: Registry[Any] = Registry().with_resources(
        (base + name, Resource.from_contents(load(name)))
        for name in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json")
    )
    schema = load("bom-1.6.SNAPSHOT.schema.json")
    jsonschema.Draft7Validator(
        schema, registry=registry, format_checker=jsonschema.FormatChecker()
    ).validate(document)


def test_the_sbom_validates_and_carries_hashes_decisions_and_dependencies(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    package_index.add(dist_factory.wheel("libthing", "2.0"))
    app = dist_factory.wheel(
        DistSpec("appthing", "1.0", requires_dist=("libthing>=2", "extraonly; extra == 'x'"))
    )
    # A new release (an hour old: release-age warns) of an established project.
    package_index.add(app, upload_time=datetime.now(timezone.utc) - timedelta(hours=1))
    package_index.add(dist_factory.wheel("appthing", "0.9"))
    output = tmp_path / "sbom.json"
    code = main(
        [
            "check",
            "appthing==1.0",
            "--index-url",
            package_index.url,
            "--policy",
            str(without_provenance_requirement()),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-record",
            "--format",
            "cyclonedx",
            "-o",
            str(output),
        ]
    )
    assert_no_traceback("".join(capsys.readouterr()))
    assert code == 0
    document = json.loads(output.read_text("utf-8"))
    validate(document)
    assert document["bomFormat"] == "CycloneDX"
    assert document["specVersion"] == "1.6"
    components = {c["name"]: c for c in document["components"]}
    assert set(components) == {"appthing", "libthing"}
    app_component = components["appthing"]
    assert app_component["purl"] == "pkg:pypi/appthing@1.0"
    digest = hashlib.sha256(app.read_bytes()).hexdigest()
    assert app_component["hashes"] == [{"alg": "SHA-256", "content": digest}]
    kinds = {r["type"]: r for r in app_component["externalReferences"]}
    assert kinds["distribution"]["url"].endswith("appthing-1.0-py3-none-any.whl")
    assert kinds["distribution"]["hashes"][0]["content"] == digest
    assert kinds["distribution-intake"]["url"] == package_index.url
    properties = {p["name"]: p["value"] for p in app_component["properties"]}
    assert properties["pip-verify:decision"] == "warn"
    assert properties["pip-verify:requested"] == "true"
    assert properties["pip-verify:provenance"] == "absent"
    assert properties["pip-verify:rule:release-age"] == "warn"  # uploaded an hour ago
    assert {p["name"]: p["value"] for p in components["libthing"]["properties"]}[
        "pip-verify:requested"
    ] == "false"
    edges = {d["ref"]: set(d.get("dependsOn", ())) for d in document["dependencies"]}
    assert edges["root"] == {"pkg:pypi/appthing@1.0"}
    assert edges["pkg:pypi/appthing@1.0"] == {"pkg:pypi/libthing@2.0"}
    assert edges["pkg:pypi/libthing@2.0"] == set()
    assert {p["name"]: p["value"] for p in document["properties"]} == {
        "pip-verify:report-decision": "warn"
    }
    assert document["metadata"]["tools"]["components"][0]["name"] == "pip-verify"
