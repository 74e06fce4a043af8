"""Upload screening for private indexes: the upload gate, its quarantine and its queue."""

from typing import Final

#: The gate's default limit for one upload: PyPI's own default for one file.
DEFAULT_MAX_UPLOAD: Final = 100 * 1024 * 1024
