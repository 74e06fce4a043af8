"""Benchmark: what PEP 740 provenance verification adds per file.

Verifies N attestations with the real sigstore-python verifier, offline, two ways:

* real attestations signed on the production Sigstore instance (``../shared/fixtures``),
  verified against the production root that sigstore-python ships;
* attestations minted by the tests' own Sigstore instance for N distinct wheels, each checked
  through pip-verify's ProvenanceChecker exactly as ``check`` does for a local file with its
  attestation beside it; then again with the outcomes the first pass verified remembered, as
  a re-check finds them.

It also times, in a fresh interpreter, the imports a first verification pays and a
remembered outcome skips (sigstore's verifier and pypi-attestations).

Run from the repository root: ``python bench/bench_provenance.py [--files 100]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pypi_attestations import Provenance

from tests.helpers.dists import DistSpec, build_wheel, sha256_file
from tests.helpers.sigstore import GitHubIdentity, TestSigstore
from verify._index.session import HttpSession
from verify._provenance.attestation import verify_attestation
from verify._provenance.checker import ProvenanceChecker
from verify._provenance.remembered import RememberedProvenance
from verify._provenance.trust_root import TrustRoot, load_trust_root
from verify.models import ProvenanceStatus

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "realworld"


def bench_realworld(count: int) -> float | None:
    manifest = FIXTURES / "MANIFEST.json"
    if not manifest.is_file():
        return None
    entry = next(
        e
        for e in json.loads(manifest.read_text())["entries"]
        if e["evidence"].endswith(".provenance")
    )
    provenance = Provenance.model_validate_json((FIXTURES / entry["evidence"]).read_bytes())
    attestation = provenance.attestation_bundles[0].attestations[0]
    verifier = load_trust_root(offline=True).verifier
    start = time.perf_counter()
    for _ in range(count):
        verify_attestation(
            attestation, verifier=verifier, filename=entry["distribution"], sha256=entry["sha256"]
        )
    return time.perf_counter() - start


def bench_checker(count: int) -> tuple[float, float]:
    """Seconds to check ``count`` wheels' attestations, then to check them again with the
    outcomes the first pass verified remembered."""
    sigstore = TestSigstore()
    publisher = GitHubIdentity(repository="acme/demo", workflow="release.yml")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        wheels = []
        for i in range(count):
            wheel = build_wheel(DistSpec(f"demo{i}", "1.0"), root)
            (root / (wheel.name + ".publish.attestation")).write_text(
                sigstore.attest(wheel, publisher=publisher).model_dump_json()
            )
            wheels.append((wheel, sha256_file(wheel)))
        trust = TrustRoot(sigstore.verifier(), source="bench")
        remembered = RememberedProvenance(root / "remembered", "bench")
        with HttpSession(offline=True) as session:
            checker = ProvenanceChecker(session, offline=True, trust=trust, remembered=remembered)
            seconds = []
            for _ in ("first", "again"):
                start = time.perf_counter()
                for wheel, digest in wheels:
                    outcome = checker.check(
                        name=wheel.name.split("-")[0],
                        version="1.0",
                        filename=wheel.name,
                        sha256=digest,
                        entry=None,
                        local_path=wheel,
                    )
                    if outcome.status is not ProvenanceStatus.VERIFIED:
                        raise SystemExit(f"{wheel.name}: {outcome.status.value}: {outcome.reason}")
                seconds.append(time.perf_counter() - start)
            return seconds[0], seconds[1]


def bench_imports() -> float:
    """Seconds a fresh interpreter spends importing what verification needs."""
    code = (
        "import time; t = time.perf_counter(); import pypi_attestations, sigstore.verify; "
        "print(time.perf_counter() - t)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    real = [bench_realworld(args.files) for _ in range(args.runs)]
    minted = [bench_checker(args.files) for _ in range(args.runs)]
    imports = statistics.median(bench_imports() for _ in range(args.runs))
    print(f"## provenance verification, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"- `{platform.platform()}`, Python {platform.python_version()}")
    print(f"- {args.files} files, median of {args.runs} runs\n")
    print("| attestations | seconds for all | ms per file |")
    print("| --- | ---: | ---: |")
    if None not in real:
        median = statistics.median(r for r in real if r is not None)
        print(
            f"| production-signed (shared fixtures), verify_attestation | {median:.2f} | "
            f"{1000 * median / args.files:.1f} |"
        )
    for label, position in (("", 0), (", remembered (a re-check)", 1)):
        median = statistics.median(run[position] for run in minted)
        print(
            f"| test Sigstore, ProvenanceChecker with sidecar files{label} | {median:.2f} | "
            f"{1000 * median / args.files:.1f} |"
        )
    print(
        f"\nImporting sigstore's verifier and pypi-attestations in a fresh interpreter: "
        f"{imports:.2f} s (paid by the first verification of a check; not when every outcome "
        "is remembered)."
    )


if __name__ == "__main__":
    main()
