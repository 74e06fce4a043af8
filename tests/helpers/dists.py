"""Build real, reproducible distribution files (wheels and sdists) for tests.

No build backend and no network: the archives are assembled by hand so that the
same :class:`DistSpec` always yields the same bytes.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import re
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.version import InvalidVersion, Version

__all__ = [
    "DistFactory",
    "DistSpec",
    "build_sdist",
    "build_wheel",
    "filename_name",
    "filename_version",
    "record_digest",
    "sha256_file",
]

#: Earliest timestamp a zip file can hold; used for every wheel member.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_GENERATOR = "pip-verify-tests (1.0)"
_EXTRA_RE = re.compile(r"""extra\s*==\s*(['"])(?P<extra>[^'"]+)\1""")


@dataclass(frozen=True)
class DistSpec:
    """What a test distribution contains.

    ``metadata_extra`` values may be a sequence to repeat a header (``Project-URL``,
    ``Classifier``); a ``Description`` entry becomes the metadata body.
    """

    name: str
    version: str
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    requires_dist: Sequence[str] = ()
    requires_python: str | None = None
    provides_extra: Sequence[str] = ()
    entry_points: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    metadata_extra: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    tag: str = "py3-none-any"

    @property
    def filename_name(self) -> str:
        return filename_name(self.name)

    @property
    def filename_version(self) -> str:
        return filename_version(self.version)

    @property
    def import_name(self) -> str:
        """The top-level import package used for the default file."""
        return self.filename_name

    def effective_files(self) -> dict[str, bytes]:
        raw: Mapping[str, str | bytes] = self.files or {
            f"{self.import_name}/__init__.py": f'__version__ = "{self.version}"\n'
        }
        out: dict[str, bytes] = {}
        for rel, content in raw.items():
            out[_check_relpath(rel)] = content.encode() if isinstance(content, str) else content
        return out

    def effective_extras(self) -> list[str]:
        if self.provides_extra:
            return list(self.provides_extra)
        seen: list[str] = []
        for req in self.requires_dist:
            for match in _EXTRA_RE.finditer(req):
                if match["extra"] not in seen:
                    seen.append(match["extra"])
        return seen


def filename_name(name: str) -> str:
    """The project name as it appears in wheel/sdist file names (``Demo-Pkg`` -> ``demo_pkg``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def filename_version(version: str) -> str:
    """The version as it appears in file names: PEP 440 normalized when valid."""
    try:
        return str(Version(version))
    except InvalidVersion:
        return version.replace("-", "_")


def record_digest(data: bytes) -> str:
    """``sha256=<urlsafe b64, no padding>`` as written in a wheel RECORD."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_relpath(rel: str) -> str:
    posix = PurePosixPath(rel.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or not posix.parts or str(posix) == ".":
        raise ValueError(f"archive member must be a relative path inside the archive: {rel!r}")
    return str(posix)


def _header_lines(key: str, value: str) -> list[str]:
    if "\n" in value or "\r" in value:
        raise ValueError(f"metadata header {key!r} must be a single line")
    return [f"{key}: {value}"]


def core_metadata(spec: DistSpec) -> str:
    """The METADATA / PKG-INFO text (Metadata-Version 2.1)."""
    lines = ["Metadata-Version: 2.1"]
    lines += _header_lines("Name", spec.name)
    lines += _header_lines("Version", spec.version)
    body: str | None = None
    extras = dict(spec.metadata_extra)
    description = extras.pop("Description", None)
    if description is not None:
        body = description if isinstance(description, str) else "\n".join(description)
    if spec.requires_python is not None:
        lines += _header_lines("Requires-Python", spec.requires_python)
    for key, value in extras.items():
        for item in [value] if isinstance(value, str) else value:
            lines += _header_lines(key, item)
    for extra in spec.effective_extras():
        lines += _header_lines("Provides-Extra", extra)
    for req in spec.requires_dist:
        lines += _header_lines("Requires-Dist", req)
    text = "\n".join(lines) + "\n"
    if body is not None:
        text += "\n" + body + ("" if body.endswith("\n") else "\n")
    return text


def _wheel_file(spec: DistSpec) -> str:
    pure = spec.tag.endswith("-any")
    lines = [
        "Wheel-Version: 1.0",
        f"Generator: {_GENERATOR}",
        f"Root-Is-Purelib: {'true' if pure else 'false'}",
    ]
    pythons, abis, platforms = spec.tag.split("-")
    for py in pythons.split("."):
        for abi in abis.split("."):
            lines.extend(f"Tag: {py}-{abi}-{plat}" for plat in platforms.split("."))
    return "\n".join(lines) + "\n\n"


def _entry_points_file(entry_points: Mapping[str, Mapping[str, str]]) -> str:
    chunks = []
    for group, entries in entry_points.items():
        body = "".join(f"{name} = {target}\n" for name, target in entries.items())
        chunks.append(f"[{group}]\n{body}")
    return "\n".join(chunks)


def wheel_filename(spec: DistSpec) -> str:
    if spec.tag.count("-") != 2:
        raise ValueError(f"wheel tag must be python-abi-platform, got {spec.tag!r}")
    return f"{spec.filename_name}-{spec.filename_version}-{spec.tag}.whl"


def sdist_filename(spec: DistSpec) -> str:
    return f"{spec.filename_name}-{spec.filename_version}.tar.gz"


def build_wheel(spec: DistSpec, dest: Path) -> Path:
    """Write a valid, reproducible wheel for ``spec`` into ``dest`` and return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / wheel_filename(spec)
    dist_info = f"{spec.filename_name}-{spec.filename_version}.dist-info"
    members: list[tuple[str, bytes]] = sorted(spec.effective_files().items())
    if any(name.startswith(dist_info + "/") for name, _ in members):
        raise ValueError(f"files may not write into {dist_info}/")
    members.append((f"{dist_info}/METADATA", core_metadata(spec).encode()))
    members.append((f"{dist_info}/WHEEL", _wheel_file(spec).encode()))
    if spec.entry_points:
        text = _entry_points_file(spec.entry_points)
        members.append((f"{dist_info}/entry_points.txt", text.encode()))

    record_path = f"{dist_info}/RECORD"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, data in members:
        writer.writerow([name, record_digest(data), len(data)])
    writer.writerow([record_path, "", ""])
    members.append((record_path, record.getvalue().encode()))

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compresslevel=9)
    path.write_bytes(buf.getvalue())
    return path


def _toml_str(value: str) -> str:
    # JSON string syntax is valid TOML basic-string syntax for BMP text.
    return json.dumps(value, ensure_ascii=False)


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _split_extra(req: str) -> tuple[str | None, str]:
    """Move a simple ``extra == "x"`` clause out of a requirement's marker."""
    base, sep, marker = req.partition(";")
    if not sep:
        return None, req
    matches = list(_EXTRA_RE.finditer(marker))
    if len(matches) != 1 or re.search(r"\bor\b", marker):
        return None, req
    extra = matches[0]["extra"]
    rest = marker[: matches[0].start()] + marker[matches[0].end() :]
    rest = re.sub(r"^\s*and\s+|\s+and\s*$", "", rest.strip()).strip()
    if not rest.replace("(", "").replace(")", "").strip():
        rest = ""
    return extra, base.strip() + (f"; {rest}" if rest else "")


def _pyproject(spec: DistSpec) -> str:
    deps: list[str] = []
    optional: dict[str, list[str]] = {extra: [] for extra in spec.effective_extras()}
    for req in spec.requires_dist:
        extra, plain = _split_extra(req)
        if extra is None:
            deps.append(req)
        else:
            optional.setdefault(extra, []).append(plain)
    lines = [
        "[build-system]",
        'requires = ["setuptools>=61"]',
        'build-backend = "setuptools.build_meta"',
        "",
        "[project]",
        f"name = {_toml_str(spec.name)}",
        f"version = {_toml_str(spec.version)}",
    ]
    if spec.requires_python is not None:
        lines.append(f"requires-python = {_toml_str(spec.requires_python)}")
    lines.append(f"dependencies = {_toml_list(deps)}")
    if optional:
        lines += ["", "[project.optional-dependencies]"]
        lines += [f"{_toml_str(extra)} = {_toml_list(reqs)}" for extra, reqs in optional.items()]
    table_names = {"console_scripts": "project.scripts", "gui_scripts": "project.gui-scripts"}
    for group, entries in spec.entry_points.items():
        table = table_names.get(group, f"project.entry-points.{_toml_str(group)}")
        lines += ["", f"[{table}]"]
        lines += [f"{_toml_str(name)} = {_toml_str(target)}" for name, target in entries.items()]
    return "\n".join(lines) + "\n"


def build_sdist(spec: DistSpec, dest: Path) -> Path:
    """Write a reproducible ``name-version.tar.gz`` sdist for ``spec`` into ``dest``.

    The archive holds ``{name}-{version}/PKG-INFO``, a setuptools ``pyproject.toml``
    and the spec's files, with mtime 0, uid/gid 0 and sorted members.
    """
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / sdist_filename(spec)
    top = f"{spec.filename_name}-{spec.filename_version}"
    members = dict(spec.effective_files())
    members.setdefault("PKG-INFO", core_metadata(spec).encode())
    members.setdefault("pyproject.toml", _pyproject(spec).encode())

    raw = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in sorted(members):
            data = members[name]
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(raw.getvalue())
    return path


class DistFactory:
    """Builds distributions into one directory (the ``dist_factory`` fixture)."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest

    @staticmethod
    def _spec(name_or_spec: str | DistSpec, version: str, fields: dict[str, Any]) -> DistSpec:
        if isinstance(name_or_spec, DistSpec):
            if fields:
                raise TypeError("pass either a DistSpec or keyword fields, not both")
            return name_or_spec
        return DistSpec(name_or_spec, version, **fields)

    def wheel(self, name_or_spec: str | DistSpec, version: str = "1.0", **fields: Any) -> Path:
        return build_wheel(self._spec(name_or_spec, version, fields), self.dest)

    def sdist(self, name_or_spec: str | DistSpec, version: str = "1.0", **fields: Any) -> Path:
        return build_sdist(self._spec(name_or_spec, version, fields), self.dest)
