"""Tests of the test helpers: fixture distributions and the local simple-API index."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from email.parser import HeaderParser
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import pytest
import requests

from tests.helpers import (
    HTML_TYPE,
    JSON_TYPE,
    V1_HTML_TYPE,
    DistFactory,
    DistSpec,
    PackageIndex,
    assert_no_traceback,
    build_sdist,
    build_wheel,
    sha256_file,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PIP_ACCEPT = f"{JSON_TYPE}, {V1_HTML_TYPE}; q=0.1, text/html; q=0.01"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.metas: dict[str, str | None] = {}
        self._current: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._current = dict(attrs)
        elif tag == "meta":
            d = dict(attrs)
            self.metas[str(d.get("name"))] = d.get("content")

    def handle_data(self, data: str) -> None:
        if self._current is not None and data.strip():
            self.anchors.append((self._current, data.strip()))
            self._current = None


def parse_html(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def demo_wheel(dist_factory: DistFactory) -> Path:
    return dist_factory.wheel(
        "Demo-Pkg",
        "1.0",
        requires_python=">=3.8,<4",
        requires_dist=["requests>=2", 'rich; extra == "fancy"'],
        entry_points={"console_scripts": {"demo": "demo_pkg:main"}},
        files={"demo_pkg/__init__.py": "def main():\n    print('demo ok')\n"},
    )


# -- distributions ---------------------------------------------------------------------


def _record_rows(zf: zipfile.ZipFile) -> list[list[str]]:
    [record] = [n for n in zf.namelist() if n.endswith(".dist-info/RECORD")]
    return list(csv.reader(io.StringIO(zf.read(record).decode())))


def test_wheel_record_matches_every_member(demo_wheel: Path) -> None:
    assert demo_wheel.name == "demo_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(demo_wheel) as zf:
        rows = _record_rows(zf)
        names = zf.namelist()
        assert sorted(row[0] for row in rows) == sorted(names)
        assert names[-1] == "demo_pkg-1.0.dist-info/RECORD"
        for path, digest, size in rows:
            if path.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = zf.read(path)
            algo, _, b64 = digest.partition("=")
            assert algo == "sha256"
            assert "=" not in b64
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert b64 == expected.decode()
            assert int(size) == len(data)
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_wheel_metadata_wheel_and_entry_points(demo_wheel: Path) -> None:
    with zipfile.ZipFile(demo_wheel) as zf:
        meta = HeaderParser().parsestr(zf.read("demo_pkg-1.0.dist-info/METADATA").decode())
        wheel = HeaderParser().parsestr(zf.read("demo_pkg-1.0.dist-info/WHEEL").decode())
        eps = zf.read("demo_pkg-1.0.dist-info/entry_points.txt").decode()
    assert meta["Metadata-Version"] == "2.1"
    assert meta["Name"] == "Demo-Pkg"
    assert meta["Version"] == "1.0"
    assert meta["Requires-Python"] == ">=3.8,<4"
    assert meta.get_all("Requires-Dist") == ["requests>=2", 'rich; extra == "fancy"']
    assert meta.get_all("Provides-Extra") == ["fancy"]
    assert wheel["Wheel-Version"] == "1.0"
    assert wheel["Root-Is-Purelib"] == "true"
    assert wheel.get_all("Tag") == ["py3-none-any"]
    assert eps == "[console_scripts]\ndemo = demo_pkg:main\n"


def test_wheel_defaults_and_metadata_extra(tmp_path: Path) -> None:
    spec = DistSpec(
        "Odd.Name_pkg",
        "1.0-1",
        metadata_extra={"Author-email": "a@example.invalid", "Project-URL": ["A, x", "B, y"]},
        tag="py2.py3-none-any",
    )
    path = build_wheel(spec, tmp_path)
    assert path.name == "odd_name_pkg-1.0.post1-py2.py3-none-any.whl"
    with zipfile.ZipFile(path) as zf:
        assert zf.read("odd_name_pkg/__init__.py") == b'__version__ = "1.0-1"\n'
        info = "odd_name_pkg-1.0.post1.dist-info"
        meta = HeaderParser().parsestr(zf.read(f"{info}/METADATA").decode())
        wheel = HeaderParser().parsestr(zf.read(f"{info}/WHEEL").decode())
        assert f"{info}/entry_points.txt" not in zf.namelist()
    assert meta["Author-email"] == "a@example.invalid"
    assert meta.get_all("Project-URL") == ["A, x", "B, y"]
    assert wheel.get_all("Tag") == ["py2-none-any", "py3-none-any"]


def test_dist_spec_rejects_escaping_paths(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="relative"):
        build_wheel(DistSpec("x", "1", files={"../evil.py": ""}), tmp_path)
    with pytest.raises(ValueError, match="single line"):
        build_wheel(DistSpec("x", "1", metadata_extra={"Summary": "a\nb"}), tmp_path)


def test_sdist_layout(tmp_path: Path) -> None:
    spec = DistSpec(
        "Demo-Pkg",
        "2.0",
        requires_python=">=3.9",
        requires_dist=[
            "requests>=2",
            'rich; extra == "fancy"',
            'colorama; sys_platform == "win32" and extra == "fancy"',
        ],
        entry_points={"console_scripts": {"demo": "demo_pkg:main"}, "x.plugins": {"p": "m:f"}},
    )
    path = build_sdist(spec, tmp_path)
    assert path.name == "demo_pkg-2.0.tar.gz"
    with tarfile.open(path, "r:gz") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert names == sorted(names)
        assert names == [
            "demo_pkg-2.0/PKG-INFO",
            "demo_pkg-2.0/demo_pkg/__init__.py",
            "demo_pkg-2.0/pyproject.toml",
        ]
        assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
        pkg_info_file = tar.extractfile("demo_pkg-2.0/PKG-INFO")
        pyproject_file = tar.extractfile("demo_pkg-2.0/pyproject.toml")
        assert pkg_info_file is not None
        assert pyproject_file is not None
        pkg_info = HeaderParser().parsestr(pkg_info_file.read().decode())
        pyproject = tomllib.loads(pyproject_file.read().decode())
    assert pkg_info["Name"] == "Demo-Pkg"
    assert pkg_info["Version"] == "2.0"
    assert pkg_info["Requires-Python"] == ">=3.9"
    assert pyproject["build-system"]["build-backend"] == "setuptools.build_meta"
    project = pyproject["project"]
    assert project["name"] == "Demo-Pkg"
    assert project["version"] == "2.0"
    assert project["requires-python"] == ">=3.9"
    assert project["dependencies"] == ["requests>=2"]
    assert project["optional-dependencies"] == {
        "fancy": ["rich", 'colorama; sys_platform == "win32"']
    }
    assert project["scripts"] == {"demo": "demo_pkg:main"}
    assert project["entry-points"] == {"x.plugins": {"p": "m:f"}}
    # gzip header carries no timestamp and no file name
    raw = path.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"
    assert raw[3] & 0x08 == 0


def test_builds_are_reproducible(tmp_path: Path) -> None:
    spec = DistSpec(
        "Repro",
        "1.0",
        files={"repro/__init__.py": "X = 1\n", "repro/data.bin": b"\x00\x01"},
        requires_dist=["a", "b>1"],
        entry_points={"console_scripts": {"r": "repro:main"}},
    )
    first = [build_wheel(spec, tmp_path / "a"), build_sdist(spec, tmp_path / "a")]
    second = [build_wheel(spec, tmp_path / "b"), build_sdist(spec, tmp_path / "b")]
    assert [sha256_file(p) for p in first] == [sha256_file(p) for p in second]
    changed = build_wheel(
        DistSpec("Repro", "1.0", files={"repro/__init__.py": "X = 2\n"}), tmp_path
    )
    assert sha256_file(changed) != sha256_file(first[0])


# -- index: negotiation ------------------------------------------------------------------


def test_json_project_page(
    package_index: PackageIndex, demo_wheel: Path, http: requests.Session
) -> None:
    uploaded = datetime(2025, 3, 4, 5, 6, 7, 890, tzinfo=timezone.utc)
    package_index.add(demo_wheel, upload_time=uploaded)
    page_url = package_index.url + "demo-pkg/"
    resp = http.get(page_url, headers={"Accept": PIP_ACCEPT})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == JSON_TYPE
    assert resp.headers["Vary"] == "Accept"
    data = resp.json()
    assert data["meta"] == {"api-version": "1.1"}
    assert data["name"] == "demo-pkg"
    assert data["versions"] == ["1.0"]
    assert "project-status" not in data
    [entry] = data["files"]
    digest = sha256_file(demo_wheel)
    assert entry == {
        "filename": demo_wheel.name,
        "url": f"../../files/{demo_wheel.name}",
        "hashes": {"sha256": digest},
        "requires-python": ">=3.8,<4",  # taken from the wheel's METADATA
        "yanked": False,
        "size": demo_wheel.stat().st_size,
        "upload-time": "2025-03-04T05:06:07.000890Z",
        "core-metadata": False,
        "provenance": None,
    }
    file_resp = http.get(urljoin(page_url, entry["url"]))
    assert file_resp.status_code == 200
    assert hashlib.sha256(file_resp.content).hexdigest() == digest


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, HTML_TYPE),
        ("*/*", HTML_TYPE),
        ("text/html", HTML_TYPE),
        (V1_HTML_TYPE, V1_HTML_TYPE),
        ("application/vnd.pypi.simple.latest+json", JSON_TYPE),
        (PIP_ACCEPT, JSON_TYPE),
        (f"text/html, {JSON_TYPE}; q=0.5", HTML_TYPE),
        (f"{JSON_TYPE}; q=0.2, {V1_HTML_TYPE}; q=0.9", V1_HTML_TYPE),
        (f"*/*, {JSON_TYPE}", JSON_TYPE),
    ],
)
def test_negotiation(
    package_index: PackageIndex,
    demo_wheel: Path,
    http: requests.Session,
    accept: str | None,
    expected: str,
) -> None:
    package_index.add(demo_wheel)
    # a None value makes requests drop its default "Accept: */*"
    resp = http.get(package_index.url + "demo-pkg/", headers={"Accept": accept})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].split(";")[0] == expected
    assert package_index.requests_log[-1] == ("GET", "/simple/demo-pkg/", accept)


def test_unacceptable_accept_is_406(package_index: PackageIndex, http: requests.Session) -> None:
    resp = http.get(package_index.url, headers={"Accept": "application/xml"})
    assert resp.status_code == 406


def test_html_project_page(
    package_index: PackageIndex, demo_wheel: Path, http: requests.Session
) -> None:
    package_index.add(
        demo_wheel, yanked="broken <build>", provenance=b'{"version": 1}', requires_python=">=3.9"
    )
    resp = http.get(package_index.url + "demo-pkg/", headers={"Accept": "text/html"})
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'data-requires-python="&gt;=3.9"' in resp.text
    assert 'data-yanked="broken &lt;build&gt;"' in resp.text
    page = parse_html(resp.text)
    assert page.metas["pypi:repository-version"] == "1.1"
    assert "pypi:project-status" not in page.metas
    [(attrs, text)] = page.anchors
    assert text == demo_wheel.name
    assert attrs["href"] == f"../../files/{demo_wheel.name}#sha256={sha256_file(demo_wheel)}"
    assert attrs["data-requires-python"] == ">=3.9"
    assert attrs["data-yanked"] == "broken <build>"
    assert attrs["data-provenance"] == f"../../provenance/{demo_wheel.name}"
    prov = http.get(urljoin(resp.url, str(attrs["data-provenance"])))
    assert prov.status_code == 200
    assert prov.json() == {"version": 1}


def test_yanked_and_provenance_in_json(
    package_index: PackageIndex, dist_factory: DistFactory, http: requests.Session
) -> None:
    package_index.absolute_urls = True
    plain = dist_factory.wheel("demo", "1.0")
    package_index.add(plain, yanked=True, provenance=b"{}")
    package_index.add(dist_factory.sdist("demo", "1.10"), yanked="bad release")
    package_index.add(dist_factory.wheel("demo", "1.9"))
    data = http.get(package_index.url + "demo/", headers={"Accept": JSON_TYPE}).json()
    assert data["versions"] == ["1.0", "1.9", "1.10"]
    by_name = {f["filename"]: f for f in data["files"]}
    assert by_name["demo-1.0-py3-none-any.whl"]["yanked"] is True
    assert by_name["demo-1.10.tar.gz"]["yanked"] == "bad release"
    assert by_name["demo-1.9-py3-none-any.whl"]["yanked"] is False
    assert by_name["demo-1.9-py3-none-any.whl"]["requires-python"] is None
    base = package_index.base_url
    assert by_name["demo-1.0-py3-none-any.whl"]["url"] == f"{base}files/demo-1.0-py3-none-any.whl"
    prov_url = f"{base}provenance/demo-1.0-py3-none-any.whl"
    assert by_name["demo-1.0-py3-none-any.whl"]["provenance"] == prov_url
    assert http.get(prov_url).json() == {}
    assert by_name["demo-1.9-py3-none-any.whl"]["provenance"] is None
    assert http.get(f"{base}provenance/demo-1.9-py3-none-any.whl").status_code == 404
    html_page = http.get(package_index.url + "demo/", headers={"Accept": "text/html"}).text
    attrs = {text: a for a, text in parse_html(html_page).anchors}
    assert attrs["demo-1.0-py3-none-any.whl"]["data-yanked"] == ""
    assert "data-yanked" not in attrs["demo-1.9-py3-none-any.whl"]


def test_project_list(
    package_index: PackageIndex, dist_factory: DistFactory, http: requests.Session
) -> None:
    package_index.add(dist_factory.wheel("Zeta_Pkg", "1"))
    package_index.add(dist_factory.wheel("alpha", "1"))
    data = http.get(package_index.url, headers={"Accept": JSON_TYPE}).json()
    assert data == {
        "meta": {"api-version": "1.1"},
        "projects": [{"name": "alpha"}, {"name": "zeta-pkg"}],
    }
    page = parse_html(http.get(package_index.url, headers={"Accept": "text/html"}).text)
    assert [(a["href"], t) for a, t in page.anchors] == [
        ("alpha/", "alpha"),
        ("zeta-pkg/", "zeta-pkg"),
    ]


@pytest.mark.parametrize(
    ("mode", "accept", "expected"),
    [
        ("json-only", "text/html", JSON_TYPE),
        ("json-only", None, JSON_TYPE),
        ("html-only", PIP_ACCEPT, HTML_TYPE),
        ("html-only", JSON_TYPE, HTML_TYPE),
    ],
)
def test_modes_ignore_accept(
    package_index: PackageIndex,
    demo_wheel: Path,
    http: requests.Session,
    mode: str,
    accept: str | None,
    expected: str,
) -> None:
    package_index.add(demo_wheel)
    package_index.mode = "json-only" if mode == "json-only" else "html-only"
    resp = http.get(package_index.url + "demo-pkg/", headers={"Accept": accept or ""})
    assert resp.headers["Content-Type"].split(";")[0] == expected
    if expected == JSON_TYPE:
        assert resp.json()["name"] == "demo-pkg"
    else:
        assert parse_html(resp.text).anchors[0][1] == demo_wheel.name


def test_project_status(
    package_index: PackageIndex, demo_wheel: Path, http: requests.Session
) -> None:
    package_index.add(demo_wheel)
    package_index.project_status["Demo_Pkg"] = "archived"
    package_index.project_status["gone"] = "quarantined"
    data = http.get(package_index.url + "demo-pkg/", headers={"Accept": JSON_TYPE}).json()
    assert data["project-status"] == {"status": "archived"}
    page = parse_html(
        http.get(package_index.url + "demo-pkg/", headers={"Accept": "text/html"}).text
    )
    assert page.metas["pypi:project-status"] == "archived"
    gone = http.get(package_index.url + "gone/", headers={"Accept": JSON_TYPE})
    assert gone.status_code == 200
    assert gone.json()["files"] == []
    assert gone.json()["project-status"] == {"status": "quarantined"}


# -- index: routing and knobs ------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["Demo_Pkg/", "DEMO.pkg/", "demo-pkg", "Demo-Pkg"])
def test_non_normalized_names_redirect(
    package_index: PackageIndex, demo_wheel: Path, http: requests.Session, spelling: str
) -> None:
    package_index.add(demo_wheel)
    resp = http.get(package_index.url + spelling, allow_redirects=False)
    assert resp.status_code == 301
    assert urljoin(resp.url, resp.headers["Location"]) == package_index.url + "demo-pkg/"
    followed = http.get(package_index.url + spelling, headers={"Accept": JSON_TYPE})
    assert followed.status_code == 200
    assert followed.json()["name"] == "demo-pkg"
    assert [r.status_code for r in followed.history] == [301]


def test_unknown_project_and_file_are_404(
    package_index: PackageIndex, http: requests.Session
) -> None:
    assert http.get(package_index.url + "nope/").status_code == 404
    assert http.get(package_index.base_url + "files/nope-1.0.tar.gz").status_code == 404
    assert http.get(package_index.base_url + "files/../conftest.py").status_code == 404
    redirected = http.get(package_index.url + "No_Pe/", allow_redirects=False)
    assert redirected.status_code == 301


def test_tamper_keeps_advertised_digest(
    package_index: PackageIndex, demo_wheel: Path, http: requests.Session
) -> None:
    package_index.add(demo_wheel)
    original = sha256_file(demo_wheel)
    package_index.tamper(demo_wheel.name, b"evil bytes")
    data = http.get(package_index.url + "demo-pkg/", headers={"Accept": JSON_TYPE}).json()
    assert data["files"][0]["hashes"] == {"sha256": original}
    assert data["files"][0]["size"] == demo_wheel.stat().st_size
    served = http.get(package_index.file_url(demo_wheel.name))
    assert served.content == b"evil bytes"
    assert hashlib.sha256(served.content).hexdigest() != original
    assert sha256_file(demo_wheel) == original  # the source file is untouched
    with pytest.raises(KeyError):
        package_index.tamper("unknown-1.0.tar.gz", b"")


def test_fail_next_and_requests_log(
    package_index: PackageIndex, demo_wheel: Path, http: requests.Session
) -> None:
    package_index.add(demo_wheel)
    package_index.fail_next(2)
    package_index.fail_next(1, status=429)
    statuses = [
        http.get(package_index.url + "demo-pkg/", headers={"Accept": JSON_TYPE}).status_code
        for _ in range(4)
    ]
    assert statuses == [503, 503, 429, 200]
    assert package_index.requests_log == [("GET", "/simple/demo-pkg/", JSON_TYPE)] * 4
    head = http.head(package_index.file_url(demo_wheel.name))
    assert head.status_code == 200
    assert int(head.headers["Content-Length"]) == demo_wheel.stat().st_size
    assert package_index.requests_log[-1] == ("HEAD", f"/files/{demo_wheel.name}", "*/*")


def test_existing_directory_contents_are_served(
    tmp_path: Path, dist_factory: DistFactory, http: requests.Session
) -> None:
    dist_factory.wheel("preloaded", "3.0", requires_python=">=3.10")
    with PackageIndex(dist_factory.dest) as index:
        assert index.url == f"http://127.0.0.1:{index.port}/simple/"
        data = http.get(index.url + "preloaded/", headers={"Accept": JSON_TYPE}).json()
        assert [f["filename"] for f in data["files"]] == ["preloaded-3.0-py3-none-any.whl"]
        assert data["files"][0]["requires-python"] == ">=3.10"
        url = index.url
    with pytest.raises(requests.ConnectionError):
        http.get(url, timeout=5)


def test_server_is_quiet(
    package_index: PackageIndex, http: requests.Session, capfd: pytest.CaptureFixture[str]
) -> None:
    http.get(package_index.url)
    http.get(package_index.url + "missing/")
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_file_index(package_index: PackageIndex, dist_factory: DistFactory, tmp_path: Path) -> None:
    wheel = dist_factory.wheel("Demo-Pkg", "1.0", requires_python=">=3.8")
    sdist = dist_factory.sdist("other", "2.0")
    package_index.add(wheel, provenance=b'{"p": 1}', yanked="oops")
    package_index.add(sdist)
    package_index.tamper(sdist.name, b"tampered")
    package_index.project_status["other"] = "deprecated"
    url = package_index.write_file_index(tmp_path / "static")
    assert url == (tmp_path / "static").resolve().as_uri() + "/"
    root = tmp_path / "static"
    assert sorted(p.name for p in root.iterdir()) == [
        ".provenance",
        "demo-pkg",
        "index.html",
        "other",
    ]
    listing = parse_html((root / "index.html").read_text())
    assert [a["href"] for a, _ in listing.anchors] == ["demo-pkg/", "other/"]

    page = parse_html((root / "demo-pkg" / "index.html").read_text())
    [(attrs, text)] = page.anchors
    assert text == wheel.name
    href, _, fragment = str(attrs["href"]).partition("#")
    assert href.startswith("file://")
    assert fragment == f"sha256={sha256_file(wheel)}"
    served = Path(url2pathname(urlsplit(href).path))
    assert served.read_bytes() == wheel.read_bytes()
    assert attrs["data-requires-python"] == ">=3.8"
    assert attrs["data-yanked"] == "oops"
    prov = Path(url2pathname(urlsplit(str(attrs["data-provenance"])).path))
    assert prov.read_bytes() == b'{"p": 1}'

    other = parse_html((root / "other" / "index.html").read_text())
    assert other.metas["pypi:project-status"] == "deprecated"
    [(o_attrs, _)] = other.anchors
    o_href, _, o_fragment = str(o_attrs["href"]).partition("#")
    assert o_fragment == f"sha256={sha256_file(sdist)}"
    assert Path(url2pathname(urlsplit(o_href).path)).read_bytes() == b"tampered"


# -- fixtures and small helpers ----------------------------------------------------------


def test_isolated_pip_env(tmp_path: Path) -> None:
    pip_vars = {
        k: v
        for k, v in os.environ.items()
        if k.upper().startswith("PIP_") and not k.upper().startswith("PIP_VERIFY_")
    }
    assert pip_vars == {"PIP_CONFIG_FILE": os.devnull}
    # pip-verify's own settings: an empty offline vulnerability database, never the network.
    database = Path(os.environ["PIP_VERIFY_VULNERABILITY_DB"])
    assert database.is_dir()
    assert not list(database.iterdir())
    for key in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        path = Path(os.environ[key])
        assert path.is_dir()
        assert tmp_path not in path.parents
    assert not list(tmp_path.iterdir())


def test_assert_no_traceback() -> None:
    assert_no_traceback("all good\nerror: nice message\n")
    with pytest.raises(AssertionError, match="traceback"):
        assert_no_traceback('Traceback (most recent call last):\n  File "x"\nValueError\n')


# -- real pip --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pip_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    bindir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    return bindir / ("python.exe" if sys.platform == "win32" else "python")


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.integration
def test_real_pip_installs_wheel_and_resolves_from_indexes(
    pip_venv: Path, demo_wheel: Path, package_index: PackageIndex, tmp_path: Path
) -> None:
    result = _pip(pip_venv, "install", "--no-index", "--no-deps", str(demo_wheel))
    assert result.returncode == 0, result.stderr
    run = subprocess.run(
        [str(pip_venv), "-c", "import demo_pkg; demo_pkg.main()"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout == "demo ok\n"
    script = pip_venv.parent / ("demo.exe" if sys.platform == "win32" else "demo")
    assert script.exists()
    show = _pip(pip_venv, "show", "demo-pkg")
    assert "Requires: requests" in show.stdout

    # pip negotiates JSON with the HTTP index, follows the relative URL and checks the hash
    package_index.add(demo_wheel)
    dl = tmp_path / "dl"
    args = ["download", "--no-deps", "-d", str(dl), "demo-pkg"]
    result = _pip(pip_venv, *args, "--index-url", package_index.url)
    assert result.returncode == 0, result.stderr
    assert (dl / demo_wheel.name).read_bytes() == demo_wheel.read_bytes()
    page_requests = [r for r in package_index.requests_log if r[1] == "/simple/demo-pkg/"]
    assert page_requests
    assert str(page_requests[0][2]).startswith(JSON_TYPE)

    # the static file index works too, and a tampered file is rejected by its hash
    file_url = package_index.write_file_index(tmp_path / "static")
    result = _pip(pip_venv, *args[:3], str(tmp_path / "dl2"), "demo-pkg", "--index-url", file_url)
    assert result.returncode == 0, result.stderr
    package_index.tamper(demo_wheel.name, b"not a wheel")
    result = _pip(
        pip_venv, *args[:3], str(tmp_path / "dl3"), "demo-pkg", "--index-url", package_index.url
    )
    assert result.returncode != 0
    assert "HASH" in result.stderr.upper()
