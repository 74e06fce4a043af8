"""The keys workers share verdicts by, pinned: :func:`config_digest` and :func:`job_key`.

Workers of different releases, or of one release before and after a refactoring, meet on the
same Redis. A digest that changed without a reason would make them stop sharing verdicts (or,
worse, share them across configurations), so each is pinned here to a literal value for fixed
inputs. The pip-verify version is part of the configuration digest; it is fixed for the test.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from verify._upload.queue import config_digest, job_key
from verify.screen import ScreenSettings
from verify.settings import NetworkSettings, VerificationSettings

# The digest hashes repr() of the settings' paths, which is PosixPath(...) only on POSIX.
pytestmark = pytest.mark.skipif(os.name != "posix", reason="the pins hold POSIX path reprs")

VERSION = "0.0.0-pinned"


@pytest.fixture(autouse=True)
def _fixed_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Patched where config_digest reads it, wherever that module is.
    monkeypatch.setattr(sys.modules[config_digest.__module__], "__version__", VERSION)
    # Relative paths: the digest is the same whichever temporary directory the test runs in.
    monkeypatch.chdir(tmp_path)


def test_the_digest_of_the_default_settings_is_pinned() -> None:
    # The embedded policy, no Sigstore trust config, and no trust store file (the default
    # path, relative to the working directory, does not exist).
    settings = ScreenSettings(files=())
    assert config_digest(settings) == (
        "9317d5612f957c2fc766294fc70bee7d40024d97b4f114a94fe6917beff15268"
    )


def test_the_digest_of_every_verdict_setting_is_pinned() -> None:
    Path("policy.toml").write_text('extends = "strict"\n', encoding="utf-8")
    Path("sigstore.json").write_text('{"trust": "config"}\n', encoding="utf-8")
    Path("trust.toml").write_text("version = 1\n", encoding="utf-8")
    settings = ScreenSettings(
        files=(Path("ignored.whl"),),
        index_url="https://private.example/simple/",
        public_index_urls=("https://pypi.org/simple/",),
        verification=VerificationSettings(
            policy_path=Path("policy.toml"),
            trust_config=Path("sigstore.json"),
            expect=("demo=github:acme/demo",),
            trust_store=Path("trust.toml"),
            record=False,
            osv_url="https://osv.example/",
            vulnerability_db=Path("osv"),
        ),
        network=NetworkSettings(offline=True),
    )
    pinned = "7c3e55015bcfa55db066d71dd9e426e0f55e11f32d22078fae53eff1e35a0ff7"
    assert config_digest(settings) == pinned
    # What only changes how fast or whether screening completes is not part of it.
    faster = ScreenSettings(
        files=(),
        index_url=settings.index_url,
        public_index_urls=settings.public_index_urls,
        verification=settings.verification,
        network=NetworkSettings(
            offline=settings.network.offline,
            cache_dir=Path("elsewhere"),
            timeout=1.0,
            retries=9,
            jobs=3,
        ),
    )
    assert config_digest(faster) == pinned


def test_the_job_key_is_pinned(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel")
    assert job_key(wheel) == "b2e5c305f373966ea5def7e39277b16d9c75d201db71899475734290f92100a8"
    (tmp_path / f"{wheel.name}.publish.attestation").write_bytes(b'{"attested": true}')
    (tmp_path / f"{wheel.name}.provenance").write_bytes(b'{"provenance": 1}')
    (tmp_path / "other-1.0.tar.gz.publish.attestation").write_bytes(b"not this file's")
    assert job_key(wheel) == "ef3ebc36d42d6b4794e523aa3354cdfa7ee20041af9babeade8feff138760ab3"
