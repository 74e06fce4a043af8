"""The rule ids pip-verify knows: the one registry every other table is checked against.

Ids are stable: reports, policies and SARIF name them, so a member is never renamed or
removed. Adding one means giving it a :class:`RuleFamily` in :func:`family` (mypy fails
otherwise), and then a row in the policy rules or the behaviour catalogue, and in the docs
(``tests/unit/rules/test_ids.py`` fails otherwise).
"""

from __future__ import annotations

import enum
from typing import NoReturn

__all__ = ["RuleFamily", "RuleId", "family"]


class RuleId(str, enum.Enum):
    """Every rule and finding id. Pass ``.value`` where a plain string is stored."""

    # Rules the engine evaluates (verify.policy.rules).
    HASH_MISMATCH = "hash-mismatch"
    VERIFICATION_INCOMPLETE = "verification-incomplete"
    NOT_FOUND = "not-found"
    PROVENANCE_INVALID = "provenance-invalid"
    PUBLISHER_MISMATCH = "publisher-mismatch"
    PROVENANCE_REQUIRED = "provenance-required"
    PUBLISHER_CHANGE = "publisher-change"
    PROVENANCE_REGRESSION = "provenance-regression"
    INDEX_PINNING = "index-pinning"
    PUBLIC_NAME = "public-name"
    INDEX_UNKNOWN = "index-unknown"
    INDEX_SHADOWING = "index-shadowing"
    HASH_MISSING = "hash-missing"
    INDEX_METADATA = "index-metadata"
    INDEX_UNLISTED = "index-unlisted"
    RELEASE_AGE = "release-age"
    PROJECT_STATUS = "project-status"
    BUILD_FROM_SOURCE = "build-from-source"
    KNOWN_MALICIOUS = "known-malicious"
    VULNERABILITY = "vulnerability"
    TYPOSQUAT = "typosquat"
    NAME_UNKNOWN = "name-unknown"
    PROJECT_AGE = "project-age"
    PROJECT_THIN = "project-thin"
    YANKED = "yanked"
    BEHAVIOUR = "behaviour"
    UNVERIFIABLE_SOURCE = "unverifiable-source"
    # Behaviour findings (verify._rules.behaviour); the policy decides them by severity.
    ARCHIVE_UNSAFE_PATH = "archive-unsafe-path"
    ARCHIVE_LINK = "archive-link"
    ARCHIVE_SPECIAL_FILE = "archive-special-file"
    ARCHIVE_BOMB = "archive-bomb"
    ARCHIVE_DISGUISED = "archive-disguised"
    ARCHIVE_DUPLICATE_ENTRY = "archive-duplicate-entry"
    ARCHIVE_UNTERMINATED = "archive-unterminated"
    FILENAME_INVALID = "filename-invalid"
    RECORD_MISMATCH = "record-mismatch"
    HIDDEN_DIRECTORY = "hidden-directory"
    SIZE_OUTLIER = "size-outlier"
    NEW_LANGUAGE = "new-language"
    BINARY_ADDED = "binary-added"
    NATIVE_EXTENSION_ADDED = "native-extension-added"
    PROFILE_JUMP = "profile-jump"
    SDIST_WHEEL_MISMATCH = "sdist-wheel-mismatch"
    DEPENDENCY_ADDED = "dependency-added"
    DEPENDENCY_TYPOSQUAT = "dependency-typosquat"
    ENTRY_POINT_ADDED = "entry-point-added"
    MAINTAINER_CHANGE = "maintainer-change"
    PROJECT_URL_CHANGE = "project-url-change"
    REQUIRES_PYTHON_CHANGE = "requires-python-change"
    BUILD_BACKEND_CHANGE = "build-backend-change"
    LICENSE_CHANGE = "license-change"
    METADATA_MALFORMED = "metadata-malformed"
    RELEASE_GAP = "release-gap"
    INSTALL_HOOK = "install-hook"
    PTH_EXEC = "pth-exec"
    DECODE_EXEC = "decode-exec"
    DYNAMIC_IMPORT = "dynamic-import"
    DYNAMIC_EXEC = "dynamic-exec"
    PROCESS_SPAWN = "process-spawn"
    NETWORK_ACCESS = "network-access"
    SUSPICIOUS_ENDPOINT = "suspicious-endpoint"
    NEW_ENDPOINT = "new-endpoint"
    CREDENTIAL_READ = "credential-read"
    ENVIRONMENT_DUMP = "environment-dump"
    EXFILTRATION = "exfiltration"
    DOWNLOAD_EXEC = "download-exec"
    PERSISTENCE = "persistence"
    REVERSE_SHELL = "reverse-shell"
    MINER = "miner"
    LD_PRELOAD = "ld-preload"
    OBFUSCATION = "obfuscation"
    HIGH_ENTROPY_STRING = "high-entropy-string"
    IMPORT_TIME_THREAD = "import-time-thread"
    MONKEY_PATCH = "monkey-patch"
    OUTPUT_SILENCED = "output-silenced"
    UNPARSABLE_SOURCE = "unparsable-source"
    # Notes: findings that inform a reader and never decide.
    CACHE_REPAIRED = "cache-repaired"
    PUBLISHER_FIRST_SEEN = "publisher-first-seen"


class RuleFamily(enum.Enum):
    """What a rule looks at: the evidence its family of checks reads."""

    HASHES = "hashes"
    COMPLETENESS = "completeness"
    INDEX = "index"
    AGE = "age"
    NAMES = "names"
    PROVENANCE = "provenance"
    PUBLISHER = "publisher"
    VULNERABILITIES = "vulnerabilities"
    BEHAVIOUR = "behaviour"
    NOTES = "notes"


def family(rule: RuleId) -> RuleFamily:
    """The family ``rule`` belongs to; exhaustive, so a new id without one fails type checking."""
    match rule:
        case RuleId.HASH_MISMATCH | RuleId.HASH_MISSING:
            return RuleFamily.HASHES
        case RuleId.VERIFICATION_INCOMPLETE | RuleId.UNVERIFIABLE_SOURCE:
            return RuleFamily.COMPLETENESS
        case (
            RuleId.NOT_FOUND
            | RuleId.INDEX_PINNING
            | RuleId.INDEX_UNKNOWN
            | RuleId.INDEX_SHADOWING
            | RuleId.INDEX_METADATA
            | RuleId.INDEX_UNLISTED
            | RuleId.PROJECT_STATUS
            | RuleId.BUILD_FROM_SOURCE
            | RuleId.YANKED
        ):
            return RuleFamily.INDEX
        case RuleId.PROVENANCE_INVALID | RuleId.PROVENANCE_REQUIRED:
            return RuleFamily.PROVENANCE
        case RuleId.PUBLISHER_MISMATCH | RuleId.PUBLISHER_CHANGE | RuleId.PROVENANCE_REGRESSION:
            return RuleFamily.PUBLISHER
        case RuleId.PUBLIC_NAME | RuleId.TYPOSQUAT | RuleId.NAME_UNKNOWN | RuleId.PROJECT_THIN:
            return RuleFamily.NAMES
        case RuleId.RELEASE_AGE | RuleId.PROJECT_AGE:
            return RuleFamily.AGE
        case RuleId.KNOWN_MALICIOUS | RuleId.VULNERABILITY:
            return RuleFamily.VULNERABILITIES
        case (
            RuleId.BEHAVIOUR
            | RuleId.ARCHIVE_UNSAFE_PATH
            | RuleId.ARCHIVE_LINK
            | RuleId.ARCHIVE_SPECIAL_FILE
            | RuleId.ARCHIVE_BOMB
            | RuleId.ARCHIVE_DISGUISED
            | RuleId.ARCHIVE_DUPLICATE_ENTRY
            | RuleId.ARCHIVE_UNTERMINATED
            | RuleId.FILENAME_INVALID
            | RuleId.RECORD_MISMATCH
            | RuleId.HIDDEN_DIRECTORY
            | RuleId.SIZE_OUTLIER
            | RuleId.NEW_LANGUAGE
            | RuleId.BINARY_ADDED
            | RuleId.NATIVE_EXTENSION_ADDED
            | RuleId.PROFILE_JUMP
            | RuleId.SDIST_WHEEL_MISMATCH
            | RuleId.DEPENDENCY_ADDED
            | RuleId.DEPENDENCY_TYPOSQUAT
            | RuleId.ENTRY_POINT_ADDED
            | RuleId.MAINTAINER_CHANGE
            | RuleId.PROJECT_URL_CHANGE
            | RuleId.REQUIRES_PYTHON_CHANGE
            | RuleId.BUILD_BACKEND_CHANGE
            | RuleId.LICENSE_CHANGE
            | RuleId.METADATA_MALFORMED
            | RuleId.RELEASE_GAP
            | RuleId.INSTALL_HOOK
            | RuleId.PTH_EXEC
            | RuleId.DECODE_EXEC
            | RuleId.DYNAMIC_IMPORT
            | RuleId.DYNAMIC_EXEC
            | RuleId.PROCESS_SPAWN
            | RuleId.NETWORK_ACCESS
            | RuleId.SUSPICIOUS_ENDPOINT
            | RuleId.NEW_ENDPOINT
            | RuleId.CREDENTIAL_READ
            | RuleId.ENVIRONMENT_DUMP
            | RuleId.EXFILTRATION
            | RuleId.DOWNLOAD_EXEC
            | RuleId.PERSISTENCE
            | RuleId.REVERSE_SHELL
            | RuleId.MINER
            | RuleId.LD_PRELOAD
            | RuleId.OBFUSCATION
            | RuleId.HIGH_ENTROPY_STRING
            | RuleId.IMPORT_TIME_THREAD
            | RuleId.MONKEY_PATCH
            | RuleId.OUTPUT_SILENCED
            | RuleId.UNPARSABLE_SOURCE
        ):
            return RuleFamily.BEHAVIOUR
        case RuleId.CACHE_REPAIRED | RuleId.PUBLISHER_FIRST_SEEN:
            return RuleFamily.NOTES
        case _:
            _unreachable(rule)


def _unreachable(rule: NoReturn) -> NoReturn:
    # typing.assert_never, which Python 3.10 lacks: mypy proves the match above exhaustive.
    raise AssertionError(f"rule id without a family: {rule!r}")
