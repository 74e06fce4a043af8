"""The verified pull-through index: ``pip-verify proxy``.

Clients (pip, uv, Poetry, anything that reads the simple API) point their index URL at the
proxy. It reads each project page from the upstream index, verifies the files with
``check``'s engine, and lists only the files that passed; the files themselves are served from
the content store, the same bytes that were verified.

The parts: what a verdict is and where verdicts are kept (:mod:`.verdicts`), the pages as
clients read them (:mod:`.pages`), the last listing read from the upstream
(:mod:`.listings`), the verification queue (:mod:`.verification`), verifying on workers
instead (:mod:`.remote`, and the workers' side in :mod:`.worker`), the index itself, which
decides what to list and serve (:mod:`.index`), the review page's view of it
(:mod:`.review`), and the WSGI application (:mod:`.app`).
"""

from __future__ import annotations

from typing import Final

#: How long a page request waits for verification before answering with what is verified.
DEFAULT_PAGE_BUDGET: Final = 30.0
#: How long a file request waits for that file's verification.
DEFAULT_FILE_BUDGET: Final = 120.0
#: How long a verdict is used before the file is verified again (new advisories, a release
#: that has come of age, a publisher that changed).
DEFAULT_VERDICT_MAX_AGE: Final = 3600.0
