"""Upload screening for private indexes: the upload gate, its quarantine and its queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from verify.errors import UsageError

#: The gate's default limit for one upload: PyPI's own default for one file.
DEFAULT_MAX_UPLOAD: Final = 100 * 1024 * 1024
#: How long the gate waits for the next bytes of an upload before it answers 408: long
#: enough for a congested link, short enough that stalled uploads do not pile up.
DEFAULT_IDLE_TIMEOUT: Final = 30.0
#: How long one upload may take to arrive in full: the largest default upload (100 MiB)
#: at about 170 kB/s.
DEFAULT_REQUEST_DEADLINE: Final = 600.0

#: What ``pip-verify gate`` says when its server and framework are not installed.
GATE_EXTRA_MISSING: Final = "pip-verify gate needs the 'gate' extra: pip install 'pip-verify[gate]'"


def gate_extra_missing() -> UsageError:
    """The usage error (exit 2) for a missing ``gate`` extra, to raise ``from None``."""
    from verify.errors import UsageError

    return UsageError(GATE_EXTRA_MISSING)


def require_gate_extra() -> None:
    """Raise :func:`gate_extra_missing` unless the ``gate`` extra (Waitress, Werkzeug) imports.

    The command line calls this before it imports the gate's server, so that a missing extra
    is one line saying what to install, not a traceback.
    """
    try:
        import waitress  # noqa: F401
        import werkzeug  # noqa: F401
    except ImportError:
        raise gate_extra_missing() from None
