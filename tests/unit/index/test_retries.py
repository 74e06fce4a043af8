"""verify._index.retries: a host name that does not exist is not asked about again.

The resolver is the one part of a request no loopback server can play (a DNS server
answering NXDOMAIN would be a query leaving the machine), so its answers are raised from
``socket.getaddrinfo`` itself; everything above it (urllib3, requests, the session) is real.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from verify._index.retries import RetryPolicy, name_does_not_exist, retry_policy
from verify._index.session import HttpSession
from verify.errors import NetworkError

HOST = "vulns.example"
#: What glibc's resolver says for each code.
_TEXT = {
    socket.EAI_NONAME: "Name or service not known",
    socket.EAI_AGAIN: "Temporary failure in name resolution",
}


def _resolution_error(code: int) -> NameResolutionError:
    try:
        try:
            raise socket.gaierror(code, _TEXT.get(code, "No address associated with hostname"))
        except socket.gaierror as cause:
            raise NameResolutionError(HOST, None, cause) from cause  # type: ignore[arg-type]
    except NameResolutionError as error:
        return error


@pytest.mark.parametrize("code", [socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)])
def test_a_name_that_does_not_exist_is_an_answer(code: int | None) -> None:
    if code is None:
        pytest.skip("no EAI_NODATA on this platform")
    error = _resolution_error(code)
    assert name_does_not_exist(error)
    with pytest.raises(MaxRetryError) as info:
        retry_policy(3).increment("GET", "/simple/", error=error)
    assert info.value.reason is error


def test_a_resolver_that_could_not_answer_is_asked_again() -> None:
    error = _resolution_error(socket.EAI_AGAIN)
    assert not name_does_not_exist(error)
    retry = retry_policy(3).increment("GET", "/simple/", error=error)
    assert isinstance(retry, RetryPolicy)
    assert retry.connect == 2


def test_other_connection_errors_are_retried() -> None:
    error = NewConnectionError(None, "connection refused")  # type: ignore[arg-type]
    assert not name_does_not_exist(error)
    assert not name_does_not_exist(None)
    assert retry_policy(3).increment("GET", "/simple/", error=error).connect == 2


def test_post_is_retried_only_where_asked() -> None:
    assert retry_policy(1, post=True).is_retry("POST", 503)
    assert not retry_policy(1).is_retry("POST", 503)
    assert retry_policy(1).is_retry("GET", 503)


def _resolver(code: int, calls: list[str]) -> Any:
    def getaddrinfo(host: str, *args: object, **kwargs: object) -> Any:
        calls.append(host)
        raise socket.gaierror(code, _TEXT.get(code, "No address associated with hostname"))

    return getaddrinfo


@pytest.mark.parametrize("method", ["page", "query", "download"])
def test_the_session_asks_once_about_a_name_that_does_not_exist(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(socket.EAI_NONAME, calls))
    url = f"https://{HOST}/v1/query"
    with HttpSession(retries=3) as session:
        call: Callable[[], object] = {
            "page": lambda: session.get_page(url),
            "query": lambda: session.post_json(url, {"q": 1}),
            "download": lambda: session.download(url, _Sink()),
        }[method]
        with pytest.raises(NetworkError) as info:
            call()
    assert calls == [HOST]
    assert info.value.message == f"could not reach {HOST}: name or service not known"
    assert info.value.hint is not None


def test_the_session_retries_a_resolver_that_could_not_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(socket.EAI_AGAIN, calls))
    # Back-off sleeps are urllib3's; zero keeps the test quick without changing the count.
    monkeypatch.setattr(RetryPolicy, "get_backoff_time", lambda self: 0.0)
    with HttpSession(retries=2) as session, pytest.raises(NetworkError, match="could not reach"):
        session.get_page(f"https://{HOST}/simple/")
    assert calls == [HOST] * 3


class _Sink:
    def write(self, data: bytes, /) -> object:
        raise AssertionError("nothing is received from a host that does not exist")
