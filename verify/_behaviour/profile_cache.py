"""What the analysis found in one file, kept by the file's content.

A diff is kept whole (:mod:`verify._behaviour.cache`), but that only helps the same pair of
releases. Most of a release's files were in other releases too: the next release's diff reads
them again as its baseline's files, a baseline read once as a release's new side is read again
as the next one's old side, and a file that something serious sends the diff back to (the
files both sides share) was usually read before. So each file's profile is kept as well,
keyed by everything :func:`~verify._behaviour.capabilities.profile_file` reads: the path in
the distribution, the bytes' sha256, whether the build imports the module, the functions its
package calls on import, and the analyser's version. A file with the same key is never
analysed twice, in any release of any package.

Only files worth it are kept: source of at least :data:`KEPT_FROM` bytes (smaller ones are
analysed in less time than a record takes to read), never binaries or data, which the analysis
does not parse. Like every record, an entry that cannot be read is removed and the file
analysed again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Final

from verify._behaviour.cache import ANALYSER_VERSION, finding_data, load_finding
from verify._behaviour.profile import Capability, FileProfile, Phase
from verify._records import read_record, write_record
from verify.models import Severity

__all__ = ["KEPT_FROM", "ProfileCache"]

#: The smallest file whose profile is kept.
KEPT_FROM: Final = 8 * 1024
#: Kinds the analysis only measures (size, entropy), never parses: nothing to save.
_UNPARSED: Final = frozenset({"native", "data"})


class ProfileCache:
    """File profiles under ``root``, one JSON record per key."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def key(
        path: str, data: bytes, *, loads_at_install: bool, called_on_import: frozenset[str]
    ) -> str:
        """The key of the profile of ``data`` at ``path``, read the way the flags say."""
        digest = hashlib.sha256(data).hexdigest()
        parts = (
            ANALYSER_VERSION,
            path,
            digest,
            "install" if loads_at_install else "",
            *sorted(called_on_import),
        )
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    @staticmethod
    def worth_keeping(path: str, data: bytes) -> bool:
        """Whether the profile of ``data`` at ``path`` is kept (and so looked up)."""
        # Imported here: a check whose every diff is kept never loads the analysers.
        from verify._behaviour.capabilities import file_kind

        return len(data) >= KEPT_FROM and file_kind(path, data) not in _UNPARSED

    def get(self, key: str) -> FileProfile | None:
        """The profile kept under ``key``, or ``None``."""
        return read_record(self._path(key), _load_profile)

    def put(self, key: str, profile: FileProfile) -> None:
        """Keep ``profile`` if it is worth keeping (a failure to write is only logged)."""
        if profile.kind in _UNPARSED or profile.size < KEPT_FROM:
            return
        write_record(self._path(key), _dump_profile(profile))


def _dump_profile(profile: FileProfile) -> dict[str, Any]:
    return {
        "format": ANALYSER_VERSION,
        "path": profile.path,
        "size": profile.size,
        "kind": profile.kind,
        "entropy": profile.entropy,
        "max_line": profile.max_line,
        "capabilities": [
            {
                "rule": c.rule,
                "severity": c.severity.value,
                "message": c.message,
                "path": c.path,
                "line": c.line,
                "key": c.key,
                "phase": c.phase.value,
                "specific": c.specific,
                "snippet": c.snippet,
                "concealed": c.concealed,
                "routine": c.routine,
            }
            for c in profile.capabilities
        ],
        "hosts": sorted(profile.hosts),
        "findings": [finding_data(f) for f in profile.findings],
    }


def _load_profile(data: object) -> FileProfile:
    if not isinstance(data, dict) or data.get("format") != ANALYSER_VERSION:
        raise ValueError("not a file profile of this analyser")
    return FileProfile(
        path=str(data["path"]),
        size=int(data["size"]),
        kind=str(data["kind"]),
        entropy=None if data["entropy"] is None else float(data["entropy"]),
        max_line=int(data["max_line"]),
        capabilities=tuple(_load_capability(c) for c in data["capabilities"]),
        hosts=frozenset(str(h) for h in data["hosts"]),
        findings=tuple(load_finding(f) for f in data["findings"]),
    )


def _load_capability(data: dict[str, Any]) -> Capability:
    line = data["line"]
    return Capability(
        rule=str(data["rule"]),
        severity=Severity(data["severity"]),
        message=str(data["message"]),
        path=str(data["path"]),
        line=None if line is None else int(line),
        key=str(data["key"]),
        phase=Phase(data["phase"]),
        specific=bool(data["specific"]),
        snippet=data["snippet"],
        concealed=data["concealed"],
        routine=bool(data["routine"]),
    )
