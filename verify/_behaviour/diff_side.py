"""One side of the behaviour diff: an archive and the profiles of the files read from it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from verify._behaviour import scanning
from verify._behaviour.capabilities import file_kind, is_setup_script, profile_file
from verify._behaviour.census import RecordEntry, digest_as_recorded
from verify._behaviour.import_calls import import_calls
from verify._behaviour.profile import Capability, FileProfile
from verify._behaviour.profile_cache import ProfileCache
from verify._behaviour.rating import rule_finding
from verify._behaviour.roles import Reach, Role
from verify._dist.archive import Archive
from verify.errors import ArchiveError
from verify.models import Finding

__all__ = ["Side"]


class Side:
    """One archive and the profiles of the files read from it."""

    def __init__(
        self,
        archive: Archive,
        record: dict[str, RecordEntry],
        profiles: ProfileCache | None = None,
    ) -> None:
        self.archive = archive
        self.record = record
        #: Profiles of files analysed before, in any release; ``None``: analyse every file.
        self.kept = profiles
        self.profiles: dict[str, FileProfile] = {}
        #: The RECORD-style digest of each file read, for the RECORD check (the bytes themselves
        #: are not kept: a wheel of many large files would hold them all at once).
        self.read_digests: dict[str, str | None] = {}
        self.errors: list[Finding] = []
        #: What each file does when the distribution is installed (``None``: all installed).
        self.reach: Reach | None = None
        #: Functions each module's package ``__init__`` calls on import (read on first use;
        #: another side of the same archive may hand over its own).
        self.calls: dict[str, frozenset[str]] | None = None

    def profile(
        self, path: str, *, keep: bool = False, entropy: bool | frozenset[str] = False
    ) -> FileProfile | None:
        """The profile of ``path``, analysed on first use. ``keep`` records the digest of the
        bytes read (for the RECORD check). ``entropy`` says whether the file's entropy is
        measured: only where two versions of it are compared, and then always (``True``) or
        only for files of the given kinds."""
        known = self.profiles.get(path)
        if known is not None and (known.entropy is not None or not entropy):
            return known
        try:
            data = self.archive.read(path)
        except ArchiveError as exc:
            self.errors.append(rule_finding("archive-bomb", str(exc), path))
            return None
        if keep:
            self.read_digests[path] = digest_as_recorded(self.record.get(path), data)
        if isinstance(entropy, frozenset):
            entropy = bool(entropy) and file_kind(path, data) in entropy
        if known is not None:
            if entropy:
                known = dataclasses.replace(known, entropy=scanning.entropy(data))
                self.profiles[path] = known
            return known
        role = self.role(path)
        # setup.py runs whole; other build-time modules are imported by the build.
        loads_at_install = role is Role.INSTALL and not is_setup_script(path)
        called_on_import = self._import_calls().get(path, frozenset())
        key: str | None = None
        kept = self.kept
        if kept is not None and kept.worth_keeping(path, data):
            key = kept.key(
                path, data, loads_at_install=loads_at_install, called_on_import=called_on_import
            )
            found = kept.get(key)
            if found is not None:
                if entropy and found.entropy is None:
                    found = dataclasses.replace(found, entropy=scanning.entropy(data))
                self.profiles[path] = found
                return found
        profile = profile_file(
            path,
            data,
            loads_at_install=loads_at_install,
            called_on_import=called_on_import,
            measure_entropy=entropy,
        )
        if kept is not None and key is not None:
            kept.put(key, profile)
        self.profiles[path] = profile
        return profile

    def _import_calls(self) -> dict[str, frozenset[str]]:
        if self.calls is None:
            self.calls = import_calls((m.path for m in self.archive.files()), self.archive.read)
        return self.calls

    def role(self, path: str) -> Role:
        return self.reach.role(path) if self.reach is not None else Role.INSTALLED

    def rated_role(self, path: str) -> Role:
        """The role a finding in ``path`` is rated by: :meth:`role`, except that ``setup.py``
        is never inert. A PEP 517 backend other than setuptools does not run it, but
        ``python setup.py install`` and older installers do, and that is whom it targets."""
        if is_setup_script(path):
            return Role.INSTALL
        return self.role(path)

    def capabilities(self) -> Iterable[Capability]:
        for profile in self.profiles.values():
            yield from profile.capabilities

    def hosts(self) -> set[str]:
        return {host for profile in self.profiles.values() for host in profile.hosts}
