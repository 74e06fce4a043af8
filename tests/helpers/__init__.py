"""Test helpers: reproducible distribution files and a local simple-API index."""

from tests.helpers.assertions import assert_no_traceback
from tests.helpers.dists import (
    DistFactory,
    DistSpec,
    build_sdist,
    build_wheel,
    record_digest,
    sha256_file,
)
from tests.helpers.index import (
    DEFAULT_UPLOAD_TIME,
    HTML_TYPE,
    JSON_TYPE,
    V1_HTML_TYPE,
    IndexFile,
    IndexMode,
    PackageIndex,
)

__all__ = [
    "DEFAULT_UPLOAD_TIME",
    "HTML_TYPE",
    "JSON_TYPE",
    "V1_HTML_TYPE",
    "DistFactory",
    "DistSpec",
    "IndexFile",
    "IndexMode",
    "PackageIndex",
    "assert_no_traceback",
    "build_sdist",
    "build_wheel",
    "record_digest",
    "sha256_file",
]
