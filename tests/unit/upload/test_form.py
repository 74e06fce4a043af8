"""The upload gate's request parser: what a valid legacy upload is, and everything that is not."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from urllib3 import encode_multipart_formdata

from verify._upload.form import MAX_ATTESTATIONS, BadUpload, copy_body, parse_upload

WHEEL = "demo_pkg-1.0-py3-none-any.whl"
CONTENT = b"PK\x03\x04 not really a zip, the parser does not care"


def _form(
    *,
    filename: str = WHEEL,
    content: bytes = CONTENT,
    files: int = 1,
    **fields: Any,
) -> dict[str, Any]:
    form: dict[str, Any] = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": "Demo.Pkg",
        "version": "1.0",
        "filetype": "bdist_wheel",
        "sha256_digest": hashlib.sha256(content).hexdigest(),
        "md5_digest": hashlib.md5(content, usedforsecurity=False).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(content, digest_size=32).hexdigest(),
    }
    form.update({key.replace("__", ":"): value for key, value in fields.items()})
    encoded: list[tuple[str, Any]] = [(k, v) for k, v in form.items() if v is not None]
    encoded += [("content", (filename, content, "application/octet-stream"))] * files
    return {"fields": encoded}


def _parse(tmp_path: Path, form: dict[str, Any], content_type: str | None = None) -> Any:
    body, default_type = encode_multipart_formdata(form["fields"])
    return parse_upload(
        io.BytesIO(body),
        content_type=content_type or default_type,
        content_length=len(body),
        dest=tmp_path / "dist",
    )


def test_a_valid_upload_is_written_with_its_digest(tmp_path: Path) -> None:
    upload = _parse(tmp_path, _form(summary="a demo"))
    assert upload.filename == WHEEL
    assert upload.name == "demo-pkg"
    assert upload.version == "1.0"
    assert upload.path == tmp_path / "dist" / WHEEL
    assert upload.path.read_bytes() == CONTENT
    assert upload.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert upload.size == len(CONTENT)
    assert upload.fields["summary"] == "a demo"
    assert upload.attestations == ()


def test_an_equal_version_spelled_differently_is_accepted(tmp_path: Path) -> None:
    assert _parse(tmp_path, _form(version="1.0.0")).version == "1.0"


def test_digests_are_optional_but_checked_when_sent(tmp_path: Path) -> None:
    upload = _parse(tmp_path, _form(sha256_digest=None, md5_digest=None, blake2_256_digest=None))
    assert upload.sha256 == hashlib.sha256(CONTENT).hexdigest()


def test_attestations_are_written_beside_the_file(tmp_path: Path) -> None:
    attestations = [{"version": 1, "envelope": {"statement": "a"}}, {"version": 1}]
    upload = _parse(tmp_path, _form(attestations=json.dumps(attestations)))
    assert [p.name for p in upload.attestations] == [
        f"{WHEEL}.upload-0.attestation",
        f"{WHEEL}.upload-1.attestation",
    ]
    assert json.loads(upload.attestations[1].read_text()) == {"version": 1}
    assert "attestations" not in upload.fields


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (_form(__action="doc_upload"), "unsupported :action 'doc_upload'"),
        (_form(__action=None), "unsupported :action None"),
        (_form(protocol_version="2"), "unsupported protocol_version"),
        (_form(files=0), "exactly one file as 'content', not 0"),
        (_form(files=2), "exactly one file as 'content', not 2"),
        (_form(name=None), "names no project"),
        (_form(version=""), "names no project"),
        (_form(name="other"), "is not a file of the project 'other'"),
        (_form(version="1.1"), "is not a file of version '1.1'"),
        (_form(version="not a version"), "invalid version"),
        (_form(sha256_digest="0" * 64), "sha256_digest does not match"),
        (_form(md5_digest="0" * 32), "md5_digest does not match"),
        (_form(blake2_256_digest="ab" * 32), "blake2_256_digest does not match"),
        (_form(content=b""), "is empty"),
        (_form(attestations="{not json"), "not JSON"),
        (_form(attestations='{"a": 1}'), "not a JSON array of objects"),
        (_form(attestations="[1]"), "not a JSON array of objects"),
        (
            _form(attestations=json.dumps([{}] * (MAX_ATTESTATIONS + 1))),
            f"more than {MAX_ATTESTATIONS} attestations",
        ),
    ],
)
def test_invalid_uploads_are_refused_with_a_reason(
    tmp_path: Path, form: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadUpload) as raised:
        _parse(tmp_path, form)
    assert message in raised.value.message
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    "filename",
    [
        "../" + WHEEL,
        "/etc/" + WHEEL,
        "sub/" + WHEEL,
        "sub\\" + WHEEL,
        "." + WHEEL,
        "demo_pkg-1.0..-py3-none-any.whl",
        "demo_pkg\x00-1.0-py3-none-any.whl",
        "demo_pkg\n-1.0-py3-none-any.whl",
        "x" * 250 + "-1.0.tar.gz",
        "",
    ],
)
def test_path_tricks_in_filenames_are_refused_and_nothing_is_written(
    tmp_path: Path, filename: str
) -> None:
    with pytest.raises(BadUpload):
        _parse(tmp_path, _form(filename=filename))
    written = list(tmp_path.rglob("*"))
    assert all(p.is_relative_to(tmp_path / "dist") for p in written)
    assert not [p for p in written if p.is_file()]


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("demo_pkg-1.0.egg", "is not a wheel or sdist"),
        ("notes.txt", "is not a wheel or sdist"),
        ("demo_pkg-1.0-xx.whl", "not a valid distribution filename"),
        ("demo-pkg.tar.gz", "not a valid distribution filename"),
    ],
)
def test_files_that_are_not_distributions_are_refused(
    tmp_path: Path, filename: str, message: str
) -> None:
    with pytest.raises(BadUpload) as raised:
        _parse(tmp_path, _form(filename=filename))
    assert message in raised.value.message


def test_an_sdist_upload(tmp_path: Path) -> None:
    upload = _parse(tmp_path, _form(filename="demo_pkg-1.0.tar.gz", filetype="sdist"))
    assert upload.filename == "demo_pkg-1.0.tar.gz"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"{}", "application/json", "not application/json"),
        (b"", "", "not an untyped body"),
        (b"--x\r\n", "multipart/form-data", "no boundary"),
        (
            b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\nb",
            "multipart/form-data; boundary=x",
            "malformed multipart body",
        ),
        (
            b"garbage without any boundary",
            "multipart/form-data; boundary=zz",
            "malformed multipart body",
        ),
    ],
)
def test_malformed_bodies_are_refused(
    tmp_path: Path, body: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(BadUpload) as raised:
        parse_upload(
            io.BytesIO(body), content_type=content_type, content_length=len(body), dest=tmp_path
        )
    assert message in raised.value.message


def test_a_form_with_thousands_of_parts_is_refused(tmp_path: Path) -> None:
    form = _form()
    form["fields"] = [(f"field{i}", "x") for i in range(2000)] + form["fields"]
    with pytest.raises(BadUpload, match="too large or too many"):
        _parse(tmp_path, form)


def test_oversized_metadata_fields_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BadUpload, match="too large or too many"):
        _parse(tmp_path, _form(description="x" * (9 * 1024 * 1024)))


def test_copy_body_enforces_the_limit(tmp_path: Path) -> None:
    assert copy_body(io.BytesIO(b"a" * 100), tmp_path / "ok", limit=100, declared=100) == 100
    with pytest.raises(BadUpload, match="101 bytes, over the gate's limit of 100"):
        copy_body(io.BytesIO(b"a" * 101), tmp_path / "declared", limit=100, declared=101)
    assert not (tmp_path / "declared").exists()
    with pytest.raises(BadUpload, match="over the gate's limit of 100 bytes"):
        copy_body(io.BytesIO(b"a" * 5000), tmp_path / "chunked", limit=100, declared=None)
    with pytest.raises(BadUpload, match="ended after 10 of the 50 bytes"):
        copy_body(io.BytesIO(b"a" * 10), tmp_path / "short", limit=100, declared=50)
