"""verify._format.html: the review pages and ``pip-verify diff --format html``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.dists import DistSpec, build_wheel
from verify._cli import main
from verify._dist.excerpt import ExcerptLine, excerpts
from verify._format.html import (
    CSP,
    ActionForm,
    DetailView,
    FindingView,
    HistoryEntry,
    ListRow,
    render_detail,
    render_list,
)
from verify.models import Decision, Finding, Reason, Severity

HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def test_every_value_from_a_package_is_escaped() -> None:
    finding = Finding(
        "pth-exec", Severity.CRITICAL, HOSTILE, path=HOSTILE, line=1, snippet=HOSTILE, why=HOSTILE
    )
    view = DetailView(
        title=HOSTILE,
        filename=HOSTILE,
        decision="deny",
        reasons=(Reason(HOSTILE, Decision.DENY, HOSTILE),),
        baseline=HOSTILE,
        baseline_reason=HOSTILE,
        counts={"added": 1},
        findings=(FindingView(finding, (ExcerptLine(1, HOSTILE, flagged=True),)),),
        context=(finding,),
        provenance=((HOSTILE, HOSTILE),),
        history=(HistoryEntry(HOSTILE, HOSTILE, "allow", HOSTILE, HOSTILE),),
    )
    page = render_detail(view, form=ActionForm("/-/review/" + "a" * 64, HOSTILE))
    rows = render_list(
        [
            ListRow(
                HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, (HOSTILE,), HOSTILE, HOSTILE, HOSTILE
            )
        ]
    )
    for html in (page, rows):
        assert "<script" not in html
        assert "<img" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert f'content="{CSP.replace(chr(39), "&#x27;")}"' in html


def test_an_empty_list_says_so() -> None:
    assert "Nothing is blocked." in render_list([])


def test_a_decoded_payload_is_shown_beside_the_encoded_line() -> None:
    finding = Finding(
        "decode-exec",
        Severity.CRITICAL,
        "executes code decoded by base64",
        path="pkg/__init__.py",
        line=2,
        snippet="[decoded base64] import os; os.system('id')",
    )
    excerpt = (
        ExcerptLine(1, "import base64"),
        ExcerptLine(2, "exec(base64.b64decode('aW1w'))", flagged=True),
    )
    page = render_detail(
        DetailView("demo 1.1", "demo.whl", "deny", findings=(FindingView(finding, excerpt),))
    )
    encoded = page.index("exec(base64.b64decode(")
    decoded = page.index("[decoded base64] import os")
    assert encoded < decoded
    assert '<span class="flagged">    2  exec(base64' in page


def test_excerpts_read_the_lines_around_a_flagged_one(tmp_path: Path) -> None:
    source = "\n".join(f"line {n}" for n in range(1, 21)) + "\n"
    wheel = build_wheel(DistSpec("demo", "1.0", files={"demo/__init__.py": source}), tmp_path)
    found = excerpts(wheel, [("demo/__init__.py", 10), ("demo/__init__.py", 99), ("absent.py", 1)])
    assert list(found) == [("demo/__init__.py", 10)]
    lines = found[("demo/__init__.py", 10)]
    assert [line.number for line in lines] == [7, 8, 9, 10, 11, 12, 13]
    assert [line.text for line in lines if line.flagged] == ["line 10"]
    assert excerpts(tmp_path / "not-an-archive.whl", [("x", 1)]) == {}


def test_diff_format_html_writes_one_standalone_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = build_wheel(DistSpec("tinyweb", "1.0", files={"tinyweb/__init__.py": ""}), tmp_path / "a")
    new = build_wheel(
        DistSpec(
            "tinyweb",
            "1.1",
            files={"tinyweb/__init__.py": "", "tinyweb_autoload.pth": "import os; os.getcwd()\n"},
        ),
        tmp_path / "b",
    )
    out = tmp_path / "diff.html"
    code = main(["diff", str(old), str(new), "--format", "html", "-o", str(out)])
    assert code == 1  # denied: a .pth that runs code
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    # Nothing is loaded from outside the file: no src, no stylesheet link, no URL.
    assert not re.search(r"\b(src|href)=|<link|://", page)
    assert "pth-exec" in page
    assert '<span class="flagged">    1  import os; os.getcwd()</span>' in page
    assert "tinyweb-1.0-py3-none-any.whl" in page  # the baseline
    assert capsys.readouterr().err == ""
