"""Upload screening for private indexes: the upload gate, its quarantine and its queue."""

from typing import Final

#: The gate's default limit for one upload: PyPI's own default for one file.
DEFAULT_MAX_UPLOAD: Final = 100 * 1024 * 1024
#: How long the gate waits for the next bytes of an upload before it answers 408: long
#: enough for a congested link, short enough that stalled uploads do not pile up.
DEFAULT_IDLE_TIMEOUT: Final = 30.0
#: How long one upload may take to arrive in full: the largest default upload (100 MiB)
#: at about 170 kB/s.
DEFAULT_REQUEST_DEADLINE: Final = 600.0
