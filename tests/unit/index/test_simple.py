"""verify._index.simple: PEP 691 JSON and PEP 503 HTML project pages, parsed defensively."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from verify._index.simple import parse_html_page, parse_json_page
from verify.errors import IndexResponseError
from verify.models import IndexFile, ProjectPage

INDEX = "https://index.example/simple/"
PAGE = "https://index.example/simple/demo/"
SHA_A = "a" * 64
SHA_B = "b" * 64
MD5 = "c" * 32
WHEEL = "demo-1.0-py3-none-any.whl"
SDIST = "demo-1.0.tar.gz"


def json_file(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"filename": WHEEL, "url": f"../../files/{WHEEL}", "hashes": {}}
    entry.update(overrides)
    return entry


def json_body(
    *files: dict[str, Any], api_version: str = "1.1", extra: dict[str, Any] | None = None
) -> bytes:
    document: dict[str, Any] = {
        "meta": {"api-version": api_version},
        "name": "demo",
        "files": list(files),
    }
    document.update(extra or {})
    return json.dumps(document).encode()


def parse_json(body: bytes, name: str = "demo") -> ProjectPage:
    return parse_json_page(body, page_url=PAGE, index_url=INDEX, name=name)


def only_json(**overrides: Any) -> IndexFile:
    page = parse_json(json_body(json_file(**overrides)))
    assert len(page.files) == 1
    return page.files[0]


def html_body(*anchors: str, metas: dict[str, str] | None = None, head: str = "") -> bytes:
    meta = "".join(f'<meta name="{k}" content="{v}">' for k, v in (metas or {}).items())
    links = "".join(f"{a}<br/>\n" for a in anchors)
    return (
        f"<!DOCTYPE html><html><head>{meta}{head}<title>Links for demo</title></head>"
        f"<body><h1>Links for demo</h1>\n{links}</body></html>"
    ).encode()


def parse_html(body: bytes, name: str = "demo") -> ProjectPage:
    return parse_html_page(body, page_url=PAGE, index_url=INDEX, name=name)


def only_html(anchor: str) -> IndexFile:
    page = parse_html(html_body(anchor))
    assert len(page.files) == 1
    return page.files[0]


# -- JSON ------------------------------------------------------------------------------------


def test_json_page_full_entry() -> None:
    body = json_body(
        json_file(
            hashes={"sha256": SHA_A, "md5": MD5},
            **{
                "requires-python": ">=3.9",
                "size": 1234,
                "upload-time": "2024-05-01T12:30:45.123456Z",
                "core-metadata": {"sha256": SHA_B},
                "provenance": f"../../provenance/{WHEEL}",
            },
        ),
        json_file(filename=SDIST, url=f"https://files.example/x/{SDIST}", hashes={"sha256": SHA_B}),
        api_version="1.3",
    )
    page = parse_json(body, name="Demo")
    assert page.name == "demo"
    assert page.index_url == INDEX
    assert page.served_as == "json"
    assert page.api_version == "1.3"
    assert page.project_status is None
    wheel, sdist = page.files
    assert wheel == IndexFile(
        filename=WHEEL,
        url=f"https://index.example/files/{WHEEL}",
        hashes={"sha256": SHA_A, "md5": MD5},
        index_url=INDEX,
        size=1234,
        upload_time=datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=timezone.utc),
        yanked=False,
        yanked_reason=None,
        requires_python=">=3.9",
        provenance_url=f"https://index.example/provenance/{WHEEL}",
        provenance_listed=True,
        core_metadata=True,
    )
    assert sdist.url == f"https://files.example/x/{SDIST}"
    assert sdist.hashes == {"sha256": SHA_B}
    assert sdist.size is None
    assert sdist.upload_time is None
    assert sdist.provenance_url is None
    assert page.file_named(SDIST) is sdist
    assert page.file_named("other.whl") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"../../files/{WHEEL}", f"https://index.example/files/{WHEEL}"),
        (f"/packages/{WHEEL}", f"https://index.example/packages/{WHEEL}"),
        (WHEEL, f"https://index.example/simple/demo/{WHEEL}"),
        (f"https://cdn.example/p/{WHEEL}", f"https://cdn.example/p/{WHEEL}"),
    ],
)
def test_json_relative_urls_are_joined_with_the_page_url(url: str, expected: str) -> None:
    assert only_json(url=url).url == expected


def test_json_hash_fragment_in_url_becomes_a_hash() -> None:
    entry = only_json(url=f"../../files/{WHEEL}#sha256={SHA_A.upper()}", hashes={})
    assert entry.url == f"https://index.example/files/{WHEEL}"
    assert entry.hashes == {"sha256": SHA_A}


def test_json_hashes_are_lowercased_and_unknown_algorithms_dropped() -> None:
    entry = only_json(hashes={"SHA256": SHA_A.upper(), "blake2b": "f" * 128, "MD5": MD5})
    assert entry.hashes == {"sha256": SHA_A, "md5": MD5}


@pytest.mark.parametrize(
    ("yanked", "flag", "reason"),
    [
        (False, False, None),
        (True, True, None),
        ("broken build", True, "broken build"),
    ],
)
def test_json_yanked(yanked: bool | str, flag: bool, reason: str | None) -> None:
    entry = only_json(yanked=yanked)
    assert entry.yanked is flag
    assert entry.yanked_reason == reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
        ("2024-01-02T03:04:05.5+02:00", datetime(2024, 1, 2, 1, 4, 5, 500000, tzinfo=timezone.utc)),
        # No offset: taken as UTC so comparisons with aware datetimes work.
        ("2024-01-02T03:04:05", datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
    ],
)
def test_json_upload_time_is_an_aware_datetime(text: str, expected: datetime) -> None:
    moment = only_json(**{"upload-time": text}).upload_time
    assert moment is not None
    assert moment.tzinfo is not None
    assert moment.utcoffset() is not None
    assert moment == expected


def test_json_upload_time_keeps_its_offset() -> None:
    moment = only_json(**{"upload-time": "2024-01-02T03:04:05+02:00"}).upload_time
    assert moment is not None
    assert moment.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("core-metadata", True, True),
        ("core-metadata", False, False),
        ("core-metadata", {"sha256": SHA_A}, True),
        ("dist-info-metadata", True, True),
        ("dist-info-metadata", {"sha256": SHA_A}, True),
        # PEP 714 / pip: a dict (even without hashes) means the metadata file exists.
        ("core-metadata", {}, True),
    ],
)
def test_json_core_metadata(field: str, value: bool | dict[str, str], expected: bool) -> None:
    assert only_json(**{field: value}).core_metadata is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"status": "archived"}, ("archived", None)),
        ({"status": "quarantined", "reason": "malware report"}, ("quarantined", "malware report")),
        ({"status": "deprecated", "reason": "use other"}, ("deprecated", "use other")),
        ({}, (None, None)),
    ],
)
def test_json_project_status_pep792(
    status: dict[str, str], expected: tuple[str | None, str | None]
) -> None:
    page = parse_json(json_body(json_file(), extra={"project-status": status}))
    assert (page.project_status, page.project_status_reason) == expected


def test_json_extra_keys_are_ignored() -> None:
    body = json_body(
        json_file(hashes={"sha256": SHA_A}, extra_key=1), extra={"versions": ["1.0"], "other": {}}
    )
    assert parse_json(body).files[0].hashes == {"sha256": SHA_A}


def test_json_api_version_1_minor_is_accepted() -> None:
    assert parse_json(json_body(api_version="1.99")).api_version == "1.99"


@pytest.mark.parametrize("version", ["2.0", "2", "0.9"])
def test_json_other_major_api_version_is_refused(version: str) -> None:
    with pytest.raises(IndexResponseError) as info:
        parse_json(json_body(json_file(), api_version=version))
    assert PAGE in info.value.message
    assert version in info.value.message
    assert "1.x" in info.value.message


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "not a valid PEP 691 project page"),
        (b"{not json", "not a valid PEP 691 project page"),
        (b"\xff\xfe\x00garbage", "not a valid PEP 691 project page"),
        (b"[]", "not a valid PEP 691 project page"),
        (b'{"name": "demo", "files": []}', "meta"),
        (b'{"meta": {"api-version": "1.0"}, "name": "demo"}', "files"),
        (b'{"meta": {"api-version": "1.0"}, "name": "demo", "files": {}}', "files"),
        (b'{"meta": {"api-version": 1.0}, "name": "demo", "files": []}', "api-version"),
        (b'{"meta": {"api-version": "1.0"}, "name": "demo", "files": [1]}', "files.0"),
        (json_body({"filename": WHEEL, "url": "x.whl"}), "files.0.hashes"),
        (json_body(json_file(hashes=["sha256", SHA_A])), "files.0.hashes"),
        (json_body(json_file(hashes={"sha256": 5})), "files.0.hashes"),
        (json_body(json_file(url=None)), "files.0.url"),
        (json_body(json_file(size=-1)), "files.0.size"),
        (json_body(json_file(size="big")), "files.0.size"),
        (json_body(json_file(yanked=None)), "files.0.yanked"),
        (json_body(json_file(**{"upload-time": "yesterday"})), "files.0.upload-time"),
        (json_body(json_file(**{"requires-python": 3})), "files.0.requires-python"),
        (json_body(json_file(), extra={"project-status": "archived"}), "project-status"),
    ],
)
def test_json_malformed_documents_are_refused_readably(body: bytes, fragment: str) -> None:
    # File entries are validated when used (large pages list thousands nobody needs), so
    # the error may come from the page or from its first file.
    with pytest.raises(IndexResponseError) as info:
        list(parse_json(body).files)
    message = info.value.message
    assert PAGE in message
    assert fragment in message
    assert "\n" not in message
    assert len(message) < 400
    assert info.value.hint


@pytest.mark.parametrize(
    "digest",
    [
        "a" * 63,
        "a" * 65,
        "g" * 64,
        "",
        MD5,  # an md5-length value under sha256
    ],
)
def test_json_bad_digest_is_refused(digest: str) -> None:
    with pytest.raises(IndexResponseError, match="malformed sha256 digest") as info:
        only_json(hashes={"sha256": digest})
    assert WHEEL in info.value.message


def test_json_bad_digest_in_url_fragment_is_refused() -> None:
    with pytest.raises(IndexResponseError, match="malformed sha256 digest"):
        only_json(url=f"{WHEEL}#sha256=1234")


@pytest.mark.parametrize(
    "filename",
    ["../x.whl", "..", ".", "", "sub/demo-1.0-py3-none-any.whl", "..\\x.whl", "/etc/passwd"],
)
def test_json_unsafe_filenames_are_refused(filename: str) -> None:
    with pytest.raises(IndexResponseError, match="unsafe file name") as info:
        only_json(filename=filename)
    assert PAGE in info.value.message


# -- HTML ------------------------------------------------------------------------------------


def test_html_page_full_entry() -> None:
    anchors = (
        f'<a href="../../files/{WHEEL}#sha256={SHA_A}" data-requires-python="&gt;=3.9,&lt;4"'
        f' data-core-metadata="sha256={SHA_B}"'
        f' data-provenance="../../provenance/{WHEEL}">{WHEEL}</a>',
        f'<a href="https://files.example/p/{SDIST}#md5={MD5}" data-yanked="">{SDIST}</a>',
    )
    page = parse_html(html_body(*anchors, metas={"pypi:repository-version": "1.1"}), name="DEMO")
    assert page.name == "demo"
    assert page.served_as == "html"
    assert page.api_version == "1.1"
    wheel, sdist = page.files
    assert wheel == IndexFile(
        filename=WHEEL,
        url=f"https://index.example/files/{WHEEL}",
        hashes={"sha256": SHA_A},
        index_url=INDEX,
        requires_python=">=3.9,<4",
        provenance_url=f"https://index.example/provenance/{WHEEL}",
        provenance_listed=True,
        core_metadata=True,
    )
    assert sdist.url == f"https://files.example/p/{SDIST}"
    assert sdist.hashes == {"md5": MD5}
    assert sdist.yanked is True
    assert sdist.yanked_reason is None
    assert sdist.size is None
    assert sdist.upload_time is None


def test_html_served_as_is_passed_through() -> None:
    page = parse_html_page(
        html_body(f'<a href="{WHEEL}">x</a>'),
        page_url=PAGE,
        index_url=INDEX,
        name="demo",
        served_as="file",
    )
    assert page.served_as == "file"


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        (f"../../files/{WHEEL}", f"https://index.example/files/{WHEEL}"),
        (f"/packages/{WHEEL}", f"https://index.example/packages/{WHEEL}"),
        (WHEEL, f"https://index.example/simple/demo/{WHEEL}"),
        (f"https://cdn.example/p/{WHEEL}", f"https://cdn.example/p/{WHEEL}"),
    ],
)
def test_html_relative_urls_are_joined_with_the_page_url(href: str, expected: str) -> None:
    assert only_html(f'<a href="{href}">x</a>').url == expected


def test_html_base_element_is_honoured() -> None:
    page = parse_html(
        html_body(
            f'<a href="{WHEEL}" data-provenance="prov/{WHEEL}">x</a>',
            head='<base href="https://mirror.example/base/">',
        )
    )
    (entry,) = page.files
    assert entry.url == f"https://mirror.example/base/{WHEEL}"
    assert entry.provenance_url == f"https://mirror.example/base/prov/{WHEEL}"


def test_html_filename_is_percent_decoded() -> None:
    entry = only_html('<a href="../../files/demo-1.0%2Blocal-py3-none-any.whl">x</a>')
    assert entry.filename == "demo-1.0+local-py3-none-any.whl"


@pytest.mark.parametrize(
    ("attribute", "flag", "reason"),
    [
        ("", False, None),
        (" data-yanked", True, None),
        (' data-yanked=""', True, None),
        (' data-yanked="broken &amp; insecure"', True, "broken & insecure"),
    ],
)
def test_html_yanked(attribute: str, flag: bool, reason: str | None) -> None:
    entry = only_html(f'<a href="{WHEEL}"{attribute}>x</a>')
    assert entry.yanked is flag
    assert entry.yanked_reason == reason


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ('data-requires-python="&gt;=3.8"', ">=3.8"),
        ('data-requires-python="&gt;=3.6, !=3.7.*, &lt;4"', ">=3.6, !=3.7.*, <4"),
        ('data-requires-python="&#62;=3.10"', ">=3.10"),
        ('data-requires-python=""', None),
        ("", None),
    ],
)
def test_html_requires_python_is_unescaped(attribute: str, expected: str | None) -> None:
    assert only_html(f'<a href="{WHEEL}" {attribute}>x</a>').requires_python == expected


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ('data-core-metadata="true"', True),
        (f'data-core-metadata="sha256={SHA_A}"', True),
        ('data-dist-info-metadata="true"', True),
        ('data-core-metadata="false"', False),
        ("", False),
    ],
)
def test_html_core_metadata(attribute: str, expected: bool) -> None:
    assert only_html(f'<a href="{WHEEL}" {attribute}>x</a>').core_metadata is expected


def test_html_hash_fragment_is_split_off_and_lowercased() -> None:
    entry = only_html(f'<a href="{WHEEL}#SHA256={SHA_A.upper()}">x</a>')
    assert entry.url == f"https://index.example/simple/demo/{WHEEL}"
    assert entry.hashes == {"sha256": SHA_A}


def test_html_unknown_fragment_gives_no_hash() -> None:
    entry = only_html(f'<a href="{WHEEL}#egg=demo">x</a>')
    assert entry.hashes == {}


def test_html_anchors_without_a_file_are_skipped() -> None:
    page = parse_html(
        html_body(
            "<a>no href</a>",
            '<a href="">empty</a>',
            '<a href="../">up</a>',
            f'<a href="{WHEEL}">real</a>',
        )
    )
    assert [entry.filename for entry in page.files] == [WHEEL]


@pytest.mark.parametrize(
    ("metas", "expected"),
    [
        ({"pypi:project-status": "archived"}, ("archived", None)),
        (
            {"pypi:project-status": "quarantined", "pypi:project-status-reason": "malware"},
            ("quarantined", "malware"),
        ),
        (
            {"pypi:project-status": "deprecated", "pypi:project-status-reason": "a &amp; b"},
            ("deprecated", "a & b"),
        ),
        ({}, (None, None)),
    ],
)
def test_html_project_status_meta(
    metas: dict[str, str], expected: tuple[str | None, str | None]
) -> None:
    page = parse_html(html_body(f'<a href="{WHEEL}">x</a>', metas=metas))
    assert (page.project_status, page.project_status_reason) == expected


def test_html_without_repository_version_is_accepted() -> None:
    page = parse_html(html_body(f'<a href="{WHEEL}">x</a>'))
    assert page.api_version is None
    assert len(page.files) == 1


@pytest.mark.parametrize("version", ["2.0", "3"])
def test_html_other_major_api_version_is_refused(version: str) -> None:
    with pytest.raises(IndexResponseError, match=r"understands 1\.x") as info:
        parse_html(html_body(metas={"pypi:repository-version": version}))
    assert PAGE in info.value.message


def test_html_non_utf8_is_refused() -> None:
    body = f'<html><body><a href="{WHEEL}">caf\xe9</a></body></html>'.encode("latin-1")
    with pytest.raises(IndexResponseError, match="not UTF-8 HTML") as info:
        parse_html(body)
    assert PAGE in info.value.message


@pytest.mark.parametrize("digest", ["a" * 63, "z" * 64, "abc"])
def test_html_bad_digest_is_refused(digest: str) -> None:
    with pytest.raises(IndexResponseError, match="malformed sha256 digest") as info:
        only_html(f'<a href="{WHEEL}#sha256={digest}">x</a>')
    assert WHEEL in info.value.message


@pytest.mark.parametrize(
    "href",
    [
        "..%2Fx.whl",
        "files/..%2F..%2Fx.whl",
        "%2E%2E",
        "..%5Cx.whl",
        "a%5Cb.whl",
    ],
)
def test_html_unsafe_filenames_are_refused(href: str) -> None:
    with pytest.raises(IndexResponseError, match="unsafe file name") as info:
        parse_html(html_body(f'<a href="{href}">x</a>'))
    assert PAGE in info.value.message


def test_html_real_index_page_round_trip() -> None:
    """A page as the test index (like PyPI) writes it, with every attribute escaped."""
    body = (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        '    <meta name="pypi:repository-version" content="1.1">\n'
        '    <meta name="pypi:project-status" content="archived">\n'
        "    <title>Links for demo</title>\n  </head>\n  <body>\n"
        "    <h1>Links for demo</h1>\n"
        f'    <a href="../../files/{SDIST}#sha256={SHA_B}" '
        'data-requires-python="&gt;=3.8" data-yanked="bad &quot;release&quot;">'
        f"{SDIST}</a><br/>\n"
        "  </body>\n</html>\n"
    ).encode()
    page = parse_html(body)
    (entry,) = page.files
    assert entry.filename == SDIST
    assert entry.hashes == {"sha256": SHA_B}
    assert entry.requires_python == ">=3.8"
    assert entry.yanked_reason == 'bad "release"'
    assert page.project_status == "archived"
