"""verify._index.urls: index URLs checked and normalised, project pages, file URLs, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify._index.urls import file_url_path, normalize_index_url, project_url, redact
from verify.errors import UsageError


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://index.example/simple", "https://index.example/simple/"),
        ("https://index.example/simple/", "https://index.example/simple/"),
        ("  https://index.example/simple \n", "https://index.example/simple/"),
        ("http://127.0.0.1:8080/simple", "http://127.0.0.1:8080/simple/"),
        ("https://user:pw@index.example/simple", "https://user:pw@index.example/simple/"),
        ("https://index.example", "https://index.example/"),
        ("file:///srv/index", "file:///srv/index/"),
        ("file:///srv/index/", "file:///srv/index/"),
    ],
)
def test_normalize_index_url(url: str, expected: str) -> None:
    assert normalize_index_url(url) == expected


def test_bare_directory_is_a_file_index(tmp_path: Path) -> None:
    index = tmp_path / "my index"
    index.mkdir()
    result = normalize_index_url(str(index))
    assert result == index.resolve().as_uri() + "/"
    assert result.startswith("file:///")
    assert result.endswith("/")
    assert "my%20index" in result
    assert file_url_path(result) == index.resolve()


def test_relative_directory_is_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wheels").mkdir()
    monkeypatch.chdir(tmp_path)
    assert normalize_index_url("wheels") == (tmp_path / "wheels").resolve().as_uri() + "/"
    assert normalize_index_url("./wheels/") == (tmp_path / "wheels").resolve().as_uri() + "/"


def test_home_directory_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "idx").mkdir()
    assert normalize_index_url("~/idx") == (tmp_path / "idx").resolve().as_uri() + "/"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ftp://index.example/simple/", "is not http(s):// or file://"),
        ("git+https://index.example/simple/", "is not http(s):// or file://"),
        ("index.example/simple", "is not http(s):// or file://"),
        ("/no/such/directory/anywhere", "is not http(s):// or file://"),
        ("https:///simple/", "has no host"),
        ("http:simple", "has no host"),
    ],
)
def test_bad_index_urls_are_usage_errors(url: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        normalize_index_url(url)


def test_bad_scheme_error_hides_the_password_and_hints() -> None:
    with pytest.raises(UsageError) as info:
        normalize_index_url("ftp://alice:s3cret@index.example/simple/")
    assert "s3cret" not in info.value.one_line()
    assert "alice" in info.value.message
    assert info.value.hint is not None
    assert "simple" in info.value.hint


def test_an_existing_file_is_not_an_index(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("demo\n")
    with pytest.raises(UsageError):
        normalize_index_url(str(path))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://index.example/simple/", "https://index.example/simple/"),
        (
            "https://alice:s3cret@index.example/simple/",
            "https://alice:***@index.example/simple/",
        ),
        (
            "https://alice:s3cret@index.example:8443/simple/?x=1#frag",
            "https://alice:***@index.example:8443/simple/?x=1#frag",
        ),
        ("https://tok3n@index.example/simple/", "https://***@index.example/simple/"),
        ("https://alice:@index.example/simple/", "https://alice:***@index.example/simple/"),
        ("file:///srv/index/", "file:///srv/index/"),
        ("https://u:p%40ss@index.example/", "https://u:***@index.example/"),
        # IPv6 literals keep their brackets, or the result is not a URL any more.
        ("https://u:s3cret@[::1]:8080/simple/", "https://u:***@[::1]:8080/simple/"),
    ],
)
def test_redact(url: str, expected: str) -> None:
    assert redact(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://alice:s3cret@index.example/simple/",
        "http://me:s3cret@127.0.0.1:9/x",
        "https://s3cret@index.example/",
    ],
)
def test_redact_never_shows_the_secret(url: str) -> None:
    assert "s3cret" not in redact(url)
    assert "***" in redact(url)


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        ("https://index.example/simple/", "https://index.example/simple/demo-pkg/"),
        ("https://index.example/simple", "https://index.example/simple/demo-pkg/"),
        ("file:///srv/index/", "file:///srv/index/demo-pkg/"),
    ],
)
def test_project_url(index: str, expected: str) -> None:
    assert project_url(index, "demo-pkg") == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("file:///srv/index/demo-1.0.tar.gz", Path("/srv/index/demo-1.0.tar.gz")),
        ("file://localhost/srv/index/x.whl", Path("/srv/index/x.whl")),
        ("file:///srv/my%20index/x%2B1.whl", Path("/srv/my index/x+1.whl")),
    ],
)
def test_file_url_path(url: str, expected: Path) -> None:
    assert file_url_path(url) == expected


def test_file_url_path_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "a b+c" / "demo-1.0-py3-none-any.whl"
    assert file_url_path(path.as_uri()) == path


@pytest.mark.parametrize(
    "url", ["file://fileserver/share/x.whl", "file://192.168.0.1/x.whl", "file://host:22/x"]
)
def test_file_url_path_refuses_remote_hosts(url: str) -> None:
    with pytest.raises(UsageError, match="remote host"):
        file_url_path(url)


def test_a_project_url_keeps_any_name_one_path_segment() -> None:
    assert project_url("https://index.example/simple", "acme-tools") == (
        "https://index.example/simple/acme-tools/"
    )
    # A local sdist's filename may carry any name but a slash; it must not become markup,
    # a query or a fragment in the URL.
    assert project_url("https://index.example/simple/", "<b>x?y#z") == (
        "https://index.example/simple/%3Cb%3Ex%3Fy%23z/"
    )
