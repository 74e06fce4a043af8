"""How much a link inside an sdist matters: where it points and what sits at its path.

pip-verify never follows a link, and its archive reader reports every one
(``archive-link``, high). Projects put some in their sdists on purpose: ``README.rst`` pointing
at ``docs/index.rst``, a test fixture pointing at a stylesheet the package ships. What makes a
link dangerous to whoever unpacks the archive is one of three things, and :func:`rate_link`
keeps the finding high for each:

* it leaves the archive (an absolute target, or ``..`` past the top directory);
* other members are stored under it, so unpacking writes through it (a link to a directory,
  then files "inside" it);
* it stands where something runs or is imported (``setup.py``, a module, a ``.pth``), so what
  runs is another file's bytes, read and rated where they were stored.

A link that is none of these (a documentation or data file pointing at another regular file of
the same sdist) is worth a look, not a verdict: it is medium.
"""

from __future__ import annotations

import dataclasses
import posixpath

from verify._behaviour import patterns
from verify._dist.archive import Archive
from verify._dist.listing import MemberKind
from verify.models import Finding, Severity

__all__ = ["rate_link"]

#: Files at a link's path that nothing runs: documentation, data, stylesheets.
_INERT_SUFFIXES = (*patterns.DOC_EXTENSIONS, *patterns.DATA_EXTENSIONS, ".css")


def rate_link(problem: Finding, archive: Archive) -> Finding:
    """``problem`` as it stands, or at medium for a harmless link inside an sdist."""
    if problem.rule != "archive-link" or problem.path is None or archive.format == "wheel":
        return problem
    if not _harmless(problem.path, archive):
        return problem
    return dataclasses.replace(
        problem,
        severity=Severity.MEDIUM,
        message=problem.message + "; it points at another file of this sdist and nothing runs it",
    )


def _harmless(path: str, archive: Archive) -> bool:
    link = next((m for m in archive.members if m.path == path), None)
    if link is None or link.kind is not MemberKind.SYMLINK or not link.link_target:
        return False
    name = posixpath.basename(path).lower()
    if not (name.endswith(_INERT_SUFFIXES) or name.split(".", 1)[0] in patterns.DOC_NAMES):
        return False
    target = link.link_target
    if target.startswith("/") or "\\" in target:
        return False
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    if resolved == ".." or resolved.startswith("../"):
        return False
    files = {m.path for m in archive.files()}
    if resolved not in files:
        return False  # a directory, another link, or nothing: unpacking could go through it
    prefix = path + "/"
    return not any(m.path.startswith(prefix) for m in archive.members)
