"""The review page in a real headless browser (Debian's Chromium and ChromeDriver, driven by
Selenium), on both servers that serve it:

* the proxy: a reviewer finds the blocked release, reads the flagged line, allows the file with
  a reason, and pip then installs it through the proxy;
* the upload gate: uploads refused by a real pypiserver's gate are listed (one sent by an
  uploader whose name is markup, which shows as text), a reviewer allows one, and twine's next
  upload of the same bytes is published.

Skipped, saying why, where Chromium, ChromeDriver or Selenium is not installed (``.ci/run``
installs them).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.dists import DistSpec, build_sdist, build_wheel
from tests.helpers.gate import (
    GateProcess,
    gate_args,
    post_upload,
    twine_upload,
    write_htpasswd,
)
from tests.helpers.policies import without_provenance_requirement
from tests.helpers.proxy import ProxyProcess
from tests.helpers.pypiserver import PypiServer

pytestmark = pytest.mark.integration

TOKEN = "correct-horse-battery-staple"
#: The .pth line quotes markup: the page must show it as text, never run it.
HOOK_LINE = "import os; os.environ.get('<script>window.hacked = 1</script>')"
HOOKED = DistSpec(
    "acme",
    "1.1",
    files={"acme/__init__.py": "", "acme_hook.pth": HOOK_LINE + "\n"},
)


def _browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip(
            "Chromium and ChromeDriver are not installed: apt-get install chromium chromium-driver"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (it is in the test extra)")
    return chromium, driver


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    chromium, driver_path = _browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def upstream(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    package_index.add(dist_factory.wheel("acme", "1.0"))
    package_index.add(dist_factory.wheel(HOOKED))
    return package_index


def sign_in(driver: Any, name: str, token: str) -> None:
    """Send the reviewer's HTTP Basic credentials with every request the browser makes."""
    credentials = base64.b64encode(f"{name}:{token}".encode()).decode()
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {credentials}"}}
    )


def test_a_reviewer_allows_a_blocked_file_and_pip_installs_it(
    browser: Any, upstream: PackageIndex, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    reviewers = tmp_path / "reviewers"
    reviewers.write_text(f"alice:{TOKEN}\n", encoding="utf-8")
    args = (
        "--upstream",
        upstream.url,
        "--cache-dir",
        str(tmp_path / "cache"),
        "--policy",
        str(without_provenance_requirement()),
        "--review-tokens",
        str(reviewers),
    )
    target = tmp_path / "target"
    with ProxyProcess(*args) as proxy:
        # A client asks for acme: the proxy verifies 1.1, denies it, and lists 1.0.
        assert requests.get(proxy.index_url + "acme/", timeout=60).status_code == 200
        browser.get(proxy.url + "-/review")
        assert "401" in browser.title or "acme" not in browser.page_source
        sign_in(browser, "alice", TOKEN)

        browser.get(proxy.url + "-/review")
        rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert len(rows) == 1
        assert "acme 1.1" in rows[0].text
        assert "pth-exec" in rows[0].text
        assert "blocked" in rows[0].text
        rows[0].find_element(By.LINK_TEXT, "acme-1.1-py3-none-any.whl").click()

        flagged = browser.find_elements(By.CSS_SELECTOR, "pre span.flagged")
        assert any(HOOK_LINE in line.text for line in flagged)
        # The markup in the package's file is text on the page, not an element or a script.
        assert browser.find_elements(By.TAG_NAME, "script") == []
        assert browser.execute_script("return window.hacked === undefined")

        before = pip_install(proxy.index_url, target)
        assert before.returncode != 0
        browser.find_element(By.NAME, "reason").send_keys("hook reviewed: harmless")
        browser.find_element(By.CSS_SELECTOR, "button[value=allow]").click()

        # The click posts the form; the detail page comes back once the decision is kept
        # (a 303), which on a busy machine is not yet there when click() returns.
        history = WebDriverWait(browser, 30).until(
            lambda driver: driver.find_element(
                By.XPATH, "//h2[text()='History']/following-sibling::table"
            )
        )
        assert "alice" in history.text
        assert "hook reviewed: harmless" in history.text
        browser.get(proxy.url + "-/review")
        assert "allowed by alice" in browser.find_element(By.CSS_SELECTOR, "tbody tr").text

        after = pip_install(proxy.index_url, target)
    assert after.returncode == 0, after.stdout + after.stderr
    assert (target / "acme-1.1.dist-info").is_dir()


def pip_install(index_url: str, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-cache-dir",
            "--index-url",
            index_url,
            "--target",
            str(target),
            "acme==1.1",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )


#: Uploaders name themselves (HTTP Basic) and the list shows who uploaded. (A project name
#: cannot carry markup: the gate refuses names PEP 508 does not allow.)
MARKUP_UPLOADER = "<script>window.hacked=1</script>"


def test_a_reviewer_allows_a_quarantined_upload_and_twine_publishes_it(
    browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    packages = tmp_path / "packages"
    packages.mkdir()
    htpasswd = write_htpasswd(tmp_path / "htpasswd", "uploader", "secret")
    reviewers = tmp_path / "reviewers"
    reviewers.write_text(f"alice:{TOKEN}\n", encoding="utf-8")
    wheel = build_wheel(HOOKED, tmp_path / "dist")
    other = build_sdist(
        DistSpec("other-tool", "1.0", files={"hook.pth": HOOK_LINE + "\n"}), tmp_path / "dist"
    )
    with (
        PypiServer(packages, extra_args=("-P", str(htpasswd), "-a", "update")) as upstream,
        GateProcess(
            *gate_args(
                tmp_path,
                f"http://127.0.0.1:{upstream.port}/",
                "--review-tokens",
                str(reviewers),
            )
        ) as gate,
    ):
        refused = twine_upload(gate.url, wheel)
        assert refused.returncode != 0
        assert "pth-exec" in refused.stdout + refused.stderr
        answer = post_upload(gate.url, other, auth=(MARKUP_UPLOADER, "secret"))
        assert answer.status_code == 403, answer.reason + answer.text
        assert list(packages.iterdir()) == []

        sign_in(browser, "alice", TOKEN)
        browser.get(gate.url + "-/review")
        rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert len(rows) == 2
        texts = "\n".join(row.text for row in rows)
        # The markup is the row's text, not an element of the page.
        assert f"uploaded by {MARKUP_UPLOADER}" in texts
        assert browser.find_elements(By.TAG_NAME, "script") == []
        assert browser.execute_script("return window.hacked === undefined")
        assert "uploaded by uploader" in texts

        browser.find_element(By.LINK_TEXT, wheel.name).click()
        flagged = browser.find_elements(By.CSS_SELECTOR, "pre span.flagged")
        assert any(HOOK_LINE in line.text for line in flagged)
        assert browser.execute_script("return window.hacked === undefined")
        browser.find_element(By.NAME, "reason").send_keys("our plugin loader, reviewed")
        browser.find_element(By.CSS_SELECTOR, "button[value=allow]").click()
        history = WebDriverWait(browser, 30).until(
            lambda driver: driver.find_element(
                By.XPATH, "//h2[text()='History']/following-sibling::table"
            )
        )
        assert "our plugin loader, reviewed" in history.text

        published = twine_upload(gate.url, wheel)
        assert published.returncode == 0, published.stdout + published.stderr
        assert [p.name for p in packages.iterdir()] == [wheel.name]
        accepted = [d for d in gate.decisions() if d.get("decision") == "accepted"]
        assert accepted[-1]["allowed_by"] == "alice"
