#!/usr/bin/env python3
"""Benchmark the behaviour diff over consecutive real releases: false positives and throughput.

For each package of a list of popular projects (large wheels with native code, and projects
that legitimately run subprocesses and talk to the network among them), read its page from
pip's own default index, take the newest final release with a wheel installable here, pick its
baseline as ``pip-verify check`` does (``choose_baseline``: the previous release, the closest
wheel), fetch both through the ``Fetcher`` into a ``ContentStore`` and diff them with
``diff_distributions``. ``--pairs N`` goes further back (release k against k-1, k-1 against
k-2, ...).

Every pair is an ordinary update of a popular package and is taken to be benign, so a pair
with at least one high or critical finding counts as a false positive. The report gives the
false-positive rate, the analysis time per MB (of the new wheel, and of the bytes actually
analysed) side by side with the time to download and hash the same files, and lists every
high or critical finding for triage.

Runs in-process, without subprocesses, with an isolated pip configuration (no ``PIP_*``
variable, ``PIP_CONFIG_FILE`` set to the null device), so the index is pip's built-in default.
The index's and the file host's names are never printed: the report names them
``[index host]`` and ``[file host]``.

    PYTHONPATH=. python bench/bench_behaviour.py [--packages a,b] [--count N] [--pairs N]
        [--cache-dir DIR] [--output FILE] [--json FILE]
"""

from __future__ import annotations

import argparse
import collections
import importlib.metadata
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness import SCRUB, log
from packaging.tags import Tag
from packaging.version import Version
from releases import final_releases

from verify import __version__
from verify._behaviour.baseline import choose_baseline
from verify._behaviour.diff import DistFile, diff_distributions
from verify._behaviour.review import baseline_request
from verify._checks.typosquat import PopularNames
from verify._fetch.fetch import Fetcher
from verify._fetch.store import ContentStore, hash_file
from verify._index.client import IndexClient
from verify._index.config import pip_default_index
from verify._index.session import HttpSession
from verify._resolve.select import file_version, select_installable, supported_tags
from verify._rules.severity import SEVERITY_ORDER, severity_at_least
from verify.errors import VerifyError
from verify.models import IndexFile, Severity
from verify.settings import DEFAULT_RETRIES, DEFAULT_TIMEOUT

#: ~40 popular projects: a web stack, a cloud SDK (boto3, botocore, s3transfer, google-auth),
#: packaging tools that run subprocesses and download (setuptools, pip, virtualenv), HTTP
#: clients (urllib3, requests, httpx, aiohttp), and large wheels with native code (numpy,
#: scipy, pandas, pyarrow, opencv-python-headless, grpcio, cryptography, pillow).
DEFAULT_PACKAGES: tuple[str, ...] = (
    "setuptools",
    "pip",
    "virtualenv",
    "urllib3",
    "requests",
    "httpx",
    "aiohttp",
    "certifi",
    "charset-normalizer",
    "idna",
    "boto3",
    "botocore",
    "s3transfer",
    "google-auth",
    "packaging",
    "six",
    "python-dateutil",
    "pyyaml",
    "attrs",
    "click",
    "jinja2",
    "markupsafe",
    "werkzeug",
    "flask",
    "django",
    "sqlalchemy",
    "pydantic",
    "pydantic-core",
    "rich",
    "tqdm",
    "fsspec",
    "pytest",
    "psutil",
    "protobuf",
    "grpcio",
    "cryptography",
    "pillow",
    "numpy",
    "pandas",
    "scipy",
    "pyarrow",
    "opencv-python-headless",
)

MB = 1_000_000


def isolate_pip_config() -> None:
    """Drop every ``PIP_*`` variable and point pip at no configuration file."""
    for key in [k for k in os.environ if k.startswith("PIP_")]:
        del os.environ[key]
    os.environ["PIP_CONFIG_FILE"] = os.devnull


def mb(n: float) -> float:
    return n / MB


def rate(nbytes: float, seconds: float) -> str:
    return f"{nbytes / MB / seconds:.1f}" if seconds > 0 else "n/a"


@dataclass
class FileFetch:
    """One file through ``Fetcher.fetch_all``, and a plain sha256 of it from disk."""

    filename: str
    size: int
    #: ``Fetcher.fetch_all([request])``: download and hash, or a store lookup (re-hash).
    fetch_seconds: float
    from_cache: bool
    #: ``hash_file(path)``: sha256 alone, from the (page-cached) file on disk.
    sha256_seconds: float


@dataclass
class HighFinding:
    """A high or critical finding on a (presumed benign) real release."""

    severity: str
    rule: str
    path: str | None
    line: int | None
    message: str
    snippet: str | None


@dataclass
class PairResult:
    """One diff of a release against its baseline."""

    package: str
    new_version: str
    old_version: str
    new_filename: str
    old_filename: str
    baseline_reason: str
    new_bytes: int
    old_bytes: int
    added: int
    removed: int
    changed: int
    unchanged: int
    analysed_files: int
    analysed_bytes: int
    skipped_files: int
    analysis_seconds: float
    fetches: list[FileFetch]
    #: Findings by severity name (``critical`` .. ``info``).
    findings: dict[str, int]
    context_findings: int
    high: list[HighFinding] = field(default_factory=list)

    @property
    def fetch_seconds(self) -> float:
        return sum(f.fetch_seconds for f in self.fetches)

    @property
    def sha256_seconds(self) -> float:
        return sum(f.sha256_seconds for f in self.fetches)

    @property
    def downloaded(self) -> bool:
        return not any(f.from_cache for f in self.fetches)


@dataclass
class ErrorEntry:
    package: str
    stage: str
    error: str


@dataclass
class Run:
    packages: list[str]
    pairs_wanted: int
    results: list[PairResult] = field(default_factory=list)
    errors: list[ErrorEntry] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0


class PackageError(Exception):
    """A package cannot be benchmarked; the run goes on with the next one."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


def installable_wheel(entries: Sequence[IndexFile], tags: Sequence[Tag]) -> IndexFile | None:
    chosen = select_installable([e.filename for e in entries], tags)
    if not chosen or not chosen[0].endswith(".whl"):
        return None
    return next(e for e in entries if e.filename == chosen[0])


def fetch_one(fetcher: Fetcher, entry: IndexFile) -> tuple[Path, FileFetch]:
    start = time.perf_counter()
    (result,) = fetcher.fetch_all([baseline_request(entry)])
    fetch_seconds = time.perf_counter() - start
    if result.path is None:
        raise PackageError("fetch", f"{entry.filename}: {result.error or 'not fetched'}")
    start = time.perf_counter()
    hash_file(result.path)
    sha256_seconds = time.perf_counter() - start
    size = result.size if result.size is not None else result.path.stat().st_size
    return result.path, FileFetch(
        entry.filename, size, fetch_seconds, result.from_cache, sha256_seconds
    )


def diff_pair(
    package: str,
    new: IndexFile,
    files: Sequence[IndexFile],
    *,
    fetcher: Fetcher,
    popular: PopularNames,
) -> tuple[PairResult, Version]:
    """Diff ``new`` against its baseline; return the result and the baseline's version."""
    choice = choose_baseline(files, new.filename)
    if choice.entry is None or choice.version is None:
        raise PackageError("baseline", f"{new.filename}: no baseline ({choice.reason})")
    old = choice.entry
    new_path, new_fetch = fetch_one(fetcher, new)
    old_path, old_fetch = fetch_one(fetcher, old)
    start = time.perf_counter()
    try:
        diff = diff_distributions(
            DistFile(new_path, new.filename, new.upload_time),
            DistFile(old_path, old.filename, old.upload_time),
            baseline_reason=choice.reason,
            popular=popular,
        )
    except VerifyError as exc:  # ArchiveError, chiefly
        raise PackageError("diff", f"{new.filename}: {exc.one_line()}") from exc
    seconds = time.perf_counter() - start
    by_severity = collections.Counter(f.severity.value for f in diff.findings)
    high = [
        HighFinding(f.severity.value, f.rule, f.path, f.line, f.message, f.snippet)
        for f in diff.findings
        if severity_at_least(f.severity, Severity.HIGH)
    ]
    new_version = file_version(new.filename)
    result = PairResult(
        package=package,
        new_version=str(new_version),
        old_version=str(choice.version),
        new_filename=new.filename,
        old_filename=old.filename,
        baseline_reason=choice.reason,
        new_bytes=new_fetch.size,
        old_bytes=old_fetch.size,
        added=len(diff.files.added),
        removed=len(diff.files.removed),
        changed=len(diff.files.changed),
        unchanged=len(diff.files.unchanged),
        analysed_files=diff.analysed_files,
        analysed_bytes=diff.analysed_bytes,
        skipped_files=diff.skipped_files,
        analysis_seconds=seconds,
        fetches=[new_fetch, old_fetch],
        findings={s.value: by_severity.get(s.value, 0) for s in reversed(SEVERITY_ORDER)},
        context_findings=len(diff.context),
        high=high,
    )
    return result, choice.version


def bench_package(
    package: str,
    *,
    client: IndexClient,
    fetcher: Fetcher,
    popular: PopularNames,
    tags: Sequence[Tag],
    pairs: int,
    run: Run,
) -> None:
    try:
        pages = client.pages(package)
    except VerifyError as exc:
        raise PackageError("index", exc.one_line()) from exc
    for page in pages:
        for entry in page.files:
            SCRUB.add(entry.url, "[file host]")
            break
    files = [entry for page in pages for entry in page.files]
    if not files:
        raise PackageError("index", "the index serves no such project")
    releases = final_releases(files)
    new: IndexFile | None = None
    for version in sorted(releases, reverse=True):
        new = installable_wheel(releases[version], tags)
        if new is not None:
            break
    if new is None:
        raise PackageError("select", "no final release has a wheel installable here")
    for k in range(pairs):
        result, old_version = diff_pair(package, new, files, fetcher=fetcher, popular=popular)
        run.results.append(result)
        log(
            f"  {result.old_version} -> {result.new_version}: "
            f"{mb(result.new_bytes):.1f} MB, {result.changed + result.added} files changed or "
            f"added, {result.analysed_files} analysed ({mb(result.analysed_bytes):.1f} MB) in "
            f"{result.analysis_seconds:.2f}s; fetch {result.fetch_seconds:.2f}s"
            + (" (cache)" if not result.downloaded else "")
            + f"; {len(result.high)} high/critical"
        )
        if k + 1 == pairs:
            break
        older = installable_wheel(releases.get(old_version, []), tags)
        if older is None:
            raise PackageError(
                "select", f"stopped after {k + 1} pair(s): {old_version} has no wheel for here"
            )
        new = older


def execute(args: argparse.Namespace, packages: list[str], run: Run) -> None:
    index_url = pip_default_index()
    SCRUB.add(index_url, "[index host]")
    cache_dir: Path = args.cache_dir
    tags = supported_tags()
    popular = PopularNames.load()
    with HttpSession(
        cache_dir=cache_dir / "http", timeout=args.timeout, retries=args.retries
    ) as session:
        client = IndexClient(session, [index_url])
        fetcher = Fetcher(session, ContentStore(cache_dir / "files"), jobs=1)
        for number, package in enumerate(packages, 1):
            log(f"{number}/{len(packages)} {package}")
            try:
                bench_package(
                    package,
                    client=client,
                    fetcher=fetcher,
                    popular=popular,
                    tags=tags,
                    pairs=args.pairs,
                    run=run,
                )
            except PackageError as exc:
                run.errors.append(ErrorEntry(package, exc.stage, str(exc)))
                log(f"  error ({exc.stage}): {exc}")
            except Exception as exc:  # a bug in the analysis must not end the run
                message = f"{type(exc).__name__}: {exc}"
                run.errors.append(ErrorEntry(package, "unexpected", message))
                log(f"  unexpected error: {message}")


def totals(run: Run) -> dict[str, Any]:
    results = run.results
    flagged = [r for r in results if r.high]
    fresh = [f for r in results for f in r.fetches if not f.from_cache]
    every = [f for r in results for f in r.fetches]
    analysis = sum(r.analysis_seconds for r in results)
    return {
        "pairs": len(results),
        "pairs_flagged": len(flagged),
        "fp_rate": len(flagged) / len(results) if results else None,
        "high_findings": sum(r.findings.get("high", 0) for r in results),
        "critical_findings": sum(r.findings.get("critical", 0) for r in results),
        "new_bytes": sum(r.new_bytes for r in results),
        "analysed_bytes": sum(r.analysed_bytes for r in results),
        "analysed_files": sum(r.analysed_files for r in results),
        "skipped_files": sum(r.skipped_files for r in results),
        "analysis_seconds": analysis,
        "fresh_files": len(fresh),
        "fresh_bytes": sum(f.size for f in fresh),
        "fresh_fetch_seconds": sum(f.fetch_seconds for f in fresh),
        "cached_files": len(every) - len(fresh),
        "all_bytes": sum(f.size for f in every),
        "sha256_seconds": sum(f.sha256_seconds for f in every),
    }


def machine() -> dict[str, Any]:
    """Where and when the run happened (the index is named only as pip's default)."""
    try:
        pip_version = importlib.metadata.version("pip")
    except importlib.metadata.PackageNotFoundError:
        pip_version = "?"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "pip": pip_version,
        "pip_verify": __version__,
        "index": "pip's default index (isolated pip configuration)",
    }


def header(info: dict[str, Any], run: Run) -> list[str]:
    return [
        f"## Behaviour diff benchmark, {info['date']}",
        "",
        f"- platform: `{info['platform']}`, {info['cpus']} CPUs",
        f"- Python {info['python']}, pip {info['pip']}, pip-verify {info['pip_verify']}",
        f"- index: {info['index']}",
        f"- {len(run.packages)} packages, up to {run.pairs_wanted} pair(s) each; "
        f"wall time {run.seconds:.0f}s" + (" (**interrupted**)" if run.interrupted else ""),
        "- every pair is an ordinary release of a popular project, taken to be benign: a pair "
        "with a high or critical finding is a false positive. MB = 10^6 bytes.",
    ]


def render(info: dict[str, Any], run: Run) -> str:
    t = totals(run)
    lines = header(info, run)
    pairs = t["pairs"]
    fp = (
        f"{t['pairs_flagged']}/{pairs} ({100 * t['fp_rate']:.1f}%)"
        if t["fp_rate"] is not None
        else "n/a"
    )
    analysis = t["analysis_seconds"]
    lines += [
        "",
        "### Totals",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| release pairs diffed | {pairs} |",
        f"| pairs with >= 1 high/critical finding (false positives) | {fp} |",
        f"| high / critical findings | {t['high_findings']} / {t['critical_findings']} |",
        f"| new wheels, compressed | {mb(t['new_bytes']):.1f} MB |",
        f"| analysed (added and changed files, uncompressed) | {mb(t['analysed_bytes']):.1f} MB "
        f"in {t['analysed_files']} files; {t['skipped_files']} unchanged files not read |",
        f"| analysis time | {analysis:.2f} s |",
        f"| analysis throughput, new wheel (compressed) | {rate(t['new_bytes'], analysis)} MB/s |",
        f"| analysis throughput, bytes analysed | {rate(t['analysed_bytes'], analysis)} MB/s |",
    ]
    if t["fresh_files"]:
        lines += [
            f"| download + hash (Fetcher), {t['fresh_files']} files downloaded | "
            f"{t['fresh_fetch_seconds']:.2f} s for {mb(t['fresh_bytes']):.1f} MB |",
            f"| download + hash throughput | "
            f"{rate(t['fresh_bytes'], t['fresh_fetch_seconds'])} MB/s |",
        ]
    else:
        lines.append("| download + hash | every file came from the cache (empty --cache-dir?) |")
    if t["cached_files"]:
        lines.append(
            f"| files served from the cache (store lookup, re-hash) | {t['cached_files']} |"
        )
    lines.append(
        f"| sha256 alone, from disk, {mb(t['all_bytes']):.1f} MB | {t['sha256_seconds']:.2f} s, "
        f"{rate(t['all_bytes'], t['sha256_seconds'])} MB/s |"
    )
    lines += [
        "",
        "### Per pair",
        "",
        "Files: added/removed/changed/unchanged. Fetch: both files through the Fetcher "
        "(download + sha256; `(n c)`: n of them served from the cache). Findings: "
        "critical/high/medium/low/info.",
        "",
        "| package | old -> new | new MB | old MB | files +/-/~/= | analysed | analysed MB "
        "| skipped | analysis s | MB/s wheel | MB/s analysed | fetch s | sha256 s | findings |",
        "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| --- |",
    ]
    for r in run.results:
        cached = sum(1 for f in r.fetches if f.from_cache)
        cache = f" ({cached} c)" if cached else ""
        counts = "/".join(str(r.findings.get(s.value, 0)) for s in reversed(SEVERITY_ORDER))
        lines.append(
            f"| {r.package} | {r.old_version} -> {r.new_version} | {mb(r.new_bytes):.2f} | "
            f"{mb(r.old_bytes):.2f} | {r.added}/{r.removed}/{r.changed}/{r.unchanged} | "
            f"{r.analysed_files} | {mb(r.analysed_bytes):.2f} | {r.skipped_files} | "
            f"{r.analysis_seconds:.3f} | {rate(r.new_bytes, r.analysis_seconds)} | "
            f"{rate(r.analysed_bytes, r.analysis_seconds)} | {r.fetch_seconds:.2f}{cache} | "
            f"{r.sha256_seconds:.3f} | {counts} |"
        )
    slowest = sorted(run.results, key=lambda r: -r.analysis_seconds)[:5]
    if slowest:
        lines += ["", "### Slowest analyses", ""]
        lines += [
            f"- {r.package} {r.old_version} -> {r.new_version}: {r.analysis_seconds:.2f} s for "
            f"{r.analysed_files} files, {mb(r.analysed_bytes):.1f} MB analysed "
            f"({mb(r.new_bytes):.1f} MB wheel; {r.changed} changed, {r.added} added)"
            for r in slowest
        ]
    lines += ["", "### High and critical findings (for triage)", ""]
    flagged = [r for r in run.results if r.high]
    if not flagged:
        lines.append("None.")
    for r in flagged:
        lines.append(f"- **{r.package}** {r.old_filename} -> {r.new_filename}:")
        for f in r.high:
            where = (f.path or "-") + (f":{f.line}" if f.line else "")
            snippet = f" `{f.snippet.replace('`', chr(39))}`" if f.snippet else ""
            lines.append(f"  - {f.severity} `{f.rule}` `{where}`: {f.message}{snippet}")
    if run.errors:
        lines += ["", "### Errors", ""]
        lines += [f"- {e.package} ({e.stage}): {e.error}" for e in run.errors]
    return SCRUB("\n".join(lines) + "\n")


def raw(info: dict[str, Any], run: Run) -> str:
    data = {
        "machine": info,
        "packages": run.packages,
        "pairs_wanted": run.pairs_wanted,
        "seconds": run.seconds,
        "totals": totals(run),
        "pairs": [
            {
                **asdict(r),
                "fetch_seconds": r.fetch_seconds,
                "sha256_seconds": r.sha256_seconds,
                "downloaded": r.downloaded,
            }
            for r in run.results
        ],
        "errors": [asdict(e) for e in run.errors],
        "interrupted": run.interrupted,
    }
    return SCRUB(json.dumps(data, indent=2)) + "\n"


def main(argv: list[str] | None = None) -> int:
    isolate_pip_config()
    parser = argparse.ArgumentParser(
        description="Behaviour diff over consecutive real releases: false positives, throughput."
    )
    parser.add_argument("--packages", help="comma-separated project names (default: built-in)")
    parser.add_argument("--count", type=int, help="only the first N packages")
    parser.add_argument("--pairs", type=int, default=1, help="release pairs per package")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="pages and files cache (default: a temporary dir; reuse one to skip downloads)",
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument("--retries", type=int, default=DEFAULT_RETRIES)
    parser.add_argument("--output", type=Path, help="also write the markdown report here")
    parser.add_argument("--json", type=Path, help="write the raw data as JSON here")
    args = parser.parse_args(argv)
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    packages = (
        [p.strip() for p in args.packages.split(",") if p.strip()]
        if args.packages
        else list(DEFAULT_PACKAGES)
    )
    if args.count is not None:
        if args.count < 1:
            parser.error("--count must be at least 1")
        packages = packages[: args.count]
    temporary = args.cache_dir is None
    if temporary:
        args.cache_dir = Path(tempfile.mkdtemp(prefix="bench-behaviour-"))
    run = Run(packages, args.pairs)
    start = time.perf_counter()
    try:
        execute(args, packages, run)
    except KeyboardInterrupt:
        run.interrupted = True
        log("interrupted: reporting what was done so far")
    finally:
        run.seconds = time.perf_counter() - start
        if temporary:
            shutil.rmtree(args.cache_dir, ignore_errors=True)
    info = machine()
    report = render(info, run)
    print(report)
    if args.output is not None:
        args.output.write_text(report, encoding="utf-8")
        log(f"wrote {args.output}")
    if args.json is not None:
        args.json.write_text(raw(info, run), encoding="utf-8")
        log(f"wrote {args.json}")
    return 130 if run.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
