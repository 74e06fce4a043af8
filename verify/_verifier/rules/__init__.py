"""The rule families the engine applies, one module each, by the evidence they read.

Each family is a set of functions from evidence (a candidate's plan, its fetched files, their
provenance, the index pages, the audit, the behaviour diff) to reasons, which they add to the
candidate's :class:`~verify._verifier.plan.Plan`; the policy decides each reason there. The
engine (:mod:`verify._verifier.engine`) only schedules the work and calls them in order:

* :mod:`.hashes`: ``hash-mismatch``, ``hash-missing``, ``verification-incomplete``, and the
  ``cache-repaired`` note;
* :mod:`.index`: ``index-pinning``, ``index-shadowing``, ``index-unknown``, ``project-status``,
  ``yanked``, ``build-from-source``;
* :mod:`.age`: ``release-age``;
* :mod:`.names`: ``typosquat``;
* :mod:`.project`: ``name-unknown`` (from planning), ``project-age``, ``project-thin``;
* :mod:`.provenance`: ``provenance-required``, ``provenance-invalid``;
* :mod:`.publisher`: ``publisher-mismatch``, ``publisher-change``, ``provenance-regression``,
  and the ``publisher-first-seen`` note;
* :mod:`.vulnerabilities`: ``vulnerability``, ``known-malicious``;
* :mod:`.behaviour`: ``behaviour`` and the behaviour findings.

Choosing which files to verify (``not-found``, ``index-unlisted``, and the lock's digests) is
:mod:`verify._verifier.planning`.
"""
