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
the same sdist) is worth a look, not a verdict: it is medium. :func:`rate_links` indexes the
archive once for all its links: a hostile one may hold tens of thousands.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections import Counter
from collections.abc import Iterable

from verify._behaviour.capabilities import names_inert_text
from verify._dist.archive import Archive
from verify._dist.listing import MemberKind
from verify.models import Finding, Severity

__all__ = ["rate_links"]

_NOTE = "; it points at another file of this sdist and nothing runs it"


def rate_links(problems: Iterable[Finding], archive: Archive) -> list[Finding]:
    """``problems`` as they stand, except that a harmless link inside an sdist is medium."""
    problems = list(problems)
    links = {p.path for p in problems if p.rule == "archive-link" and p.path is not None}
    if not links or archive.format == "wheel":
        return problems
    harmless = _harmless(links, archive)
    return [
        dataclasses.replace(p, severity=Severity.MEDIUM, message=p.message + _NOTE)
        if p.rule == "archive-link" and p.path in harmless
        else p
        for p in problems
    ]


def _harmless(links: set[str], archive: Archive) -> set[str]:
    files = {m.path for m in archive.files()}
    # Every directory some member is stored under: a link at one of them is written through.
    parents = {d for m in archive.members for d in _ancestors(m.path)}
    held = Counter(m.path for m in archive.members)
    found: set[str] = set()
    for link in archive.members:
        if link.path not in links or link.kind is not MemberKind.SYMLINK or not link.link_target:
            continue
        path, target = link.path, link.link_target
        if not (names_inert_text(path) or path.lower().endswith(".css")):
            continue
        # A path held twice (a link and a file) is read one way and unpacked another.
        if target.startswith("/") or "\\" in target or path in parents or held[path] > 1:
            continue
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        # A directory, another link, nothing, or outside: unpacking could go through it.
        if resolved in files:
            found.add(path)
    return found


def _ancestors(path: str) -> Iterable[str]:
    parent = posixpath.dirname(path)
    while parent:
        yield parent
        parent = posixpath.dirname(parent)
