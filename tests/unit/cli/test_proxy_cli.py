"""``pip-verify proxy``'s command line: bad arguments are usage errors (exit 2), one line each."""

from __future__ import annotations

import pytest

from verify._cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--upstream", "ftp://index.example/simple/"], "--upstream must be an http(s) or file://"),
        (["--upstream", "https://index.example/simple/", "--listen", "nowhere"], "not HOST:PORT"),
        (["--upstream", "https://index.example/simple/", "--threads", "0"], "--threads"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["proxy", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("option", ["--page-budget", "--file-budget", "--verdict-max-age"])
@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_durations_must_be_positive_seconds(
    capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["proxy", "--upstream", "https://index.example/simple/", option, value])
    assert exited.value.code == 2
    assert f"argument {option}" in capsys.readouterr().err


def test_unknown_mode_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["proxy", "--upstream", "https://index.example/simple/", "--unverified", "show"]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "verify-on-request" in capsys.readouterr().err
