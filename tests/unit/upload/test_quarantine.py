"""verify._upload.quarantine and ``pip-verify quarantine``: holding, listing, releasing and
dropping refused uploads (releases go to a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import argparse
import base64
import getpass
import io
import json
import logging
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest

import verify._upload.quarantine as quarantine_module
from verify._cli import quarantine as quarantine_cli
from verify._index.session import HttpSession
from verify._upload.quarantine import (
    EntryState,
    HeldUpload,
    Quarantine,
    QuarantineEntry,
)
from verify.errors import IncompleteError, InvalidInputError, NetworkError, UsageError

SHA_A = "a" * 64
SHA_B = "b" * 64
#: A boundary, CRLFs, a NUL and non-UTF-8 bytes: what must survive byte for byte.
BODY = (
    b'--xyzzy\r\nContent-Disposition: form-data; name=":action"\r\n\r\nfile_upload\r\n'
    b'--xyzzy\r\nContent-Disposition: form-data; name="content"; filename="demo-1.0.tar.gz"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n\x1f\x8b\x00\xff\xfe binary\r\n--xyzzy--\r\n"
)
CONTENT_TYPE = "multipart/form-data; boundary=xyzzy"
REPORT = '{\n  "format": "pip-verify/report/v1",\n  "decision": "deny"\n}\n'
POSIX = os.name == "posix"


class Clock:
    """A clock that moves one minute on every reading."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def held(
    sha256: str = SHA_A,
    filename: str = "demo-1.0.tar.gz",
    *,
    uploader: str | None = "alice",
    reason: str = "pip-verify refused demo-1.0.tar.gz: install-hooks: runs code at install",
) -> HeldUpload:
    return HeldUpload(
        filename=filename,
        name="demo",
        version="1.0",
        sha256=sha256,
        content_type=CONTENT_TYPE,
        uploader=uploader,
        client="127.0.0.1:54321",
        reason=reason,
        report_json=REPORT,
    )


@pytest.fixture
def body(tmp_path: Path) -> Path:
    path = tmp_path / "request.bin"
    path.write_bytes(BODY)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "quarantine"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def quarantine(root: Path, clock: Clock) -> Quarantine:
    return Quarantine(root, clock=clock)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _partials(root: Path) -> list[Path]:
    staging = root / ".partial"
    return sorted(staging.iterdir()) if staging.exists() else []


# -- a stand-in upstream index ------------------------------------------------------------


class _Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.status = 200
        self.reason = "OK"
        #: (path, lower-cased headers, body) of every request, in order.
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/legacy/"


class _UpstreamHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        server = cast(_Upstream, self.server)
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        headers = {key.lower(): value for key, value in self.headers.items()}
        server.received.append((self.path, headers, data))
        answer = server.reason.encode()
        self.send_response(server.status, server.reason)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def session() -> Iterator[HttpSession]:
    with HttpSession(timeout=10, retries=0) as http:
        yield http


def _closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/legacy/"


# -- hold ---------------------------------------------------------------------------------


def test_hold_writes_every_file_privately(
    quarantine: Quarantine, root: Path, body: Path, clock: Clock
) -> None:
    entry = quarantine.hold(held(), body)

    assert entry.path == root / SHA_A
    assert entry.id == entry.sha256 == SHA_A
    assert (entry.filename, entry.name, entry.version) == ("demo-1.0.tar.gz", "demo", "1.0")
    assert entry.state is EntryState.HELD
    assert entry.received == clock.now
    assert entry.received.tzinfo is not None
    assert entry.attempts == 1
    assert entry.released_by is None
    assert entry.upstream_status is None
    assert sorted(p.name for p in entry.path.iterdir()) == [
        "report.json",
        "request.body",
        "upload.json",
    ]
    assert quarantine.body_path(entry).read_bytes() == BODY
    assert body.read_bytes() == BODY  # copied, not moved
    assert quarantine.report_json(entry) == REPORT
    record = json.loads((entry.path / "upload.json").read_text())
    assert record["format"] == "pip-verify/quarantine/v1"
    assert record["content_type"] == CONTENT_TYPE
    assert record["uploader"] == "alice"
    assert record["client"] == "127.0.0.1:54321"
    assert datetime.fromisoformat(record["received"]) == clock.now
    assert _partials(root) == []
    if POSIX:
        assert _mode(entry.path) == 0o700
        assert _mode(root / ".partial") == 0o700
        for name in ("request.body", "upload.json", "report.json"):
            assert _mode(entry.path / name) == 0o600, name
    assert quarantine.list() == [entry]


@pytest.mark.parametrize("failing", ["fsync", "rename"])
def test_a_failed_hold_leaves_no_entry(
    quarantine: Quarantine,
    root: Path,
    body: Path,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    real = getattr(os, failing)
    # The second file written (fsync), or the move into place (rename).
    fail_on = 2 if failing == "fsync" else 1
    calls = 0

    def broken(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == fail_on:
            raise OSError(28, "No space left on device")
        return real(*args)

    with monkeypatch.context() as patch:
        patch.setattr(os, failing, broken)
        with pytest.raises(IncompleteError, match="No space left on device"):
            quarantine.hold(held(), body)
    assert calls >= fail_on

    assert quarantine.list() == []
    assert not (root / SHA_A).exists()
    assert _partials(root) == []  # the writer removed its own leftovers


def test_a_crash_leaves_nothing_listed_and_the_leftover_is_cleaned(
    root: Path, body: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Killed(BaseException):
        """The process dying: no cleanup runs."""

    def die(*args: Any) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(os, "rename", die)
        patch.setattr(quarantine_module, "_remove_tree", lambda path: False)
        with pytest.raises(Killed):
            Quarantine(root, clock=clock).hold(held(), body)

    (leftover,) = _partials(root)
    assert (leftover / "upload.json").is_file()  # complete-looking, but not in place
    assert Quarantine(root).list() == []
    assert _partials(root) == [leftover]  # young: maybe another process is writing it
    old = time.time() - quarantine_module.PARTIAL_GRACE_SECONDS - 60
    for path in (leftover, *leftover.iterdir()):
        os.utime(path, (old, old))

    fresh = Quarantine(root, clock=clock)

    assert _partials(root) == []
    assert fresh.list() == []
    entry = fresh.hold(held(), body)
    assert fresh.list() == [entry]


def test_clean_partial_reports_what_it_removed(quarantine: Quarantine, root: Path) -> None:
    stale = root / ".partial" / "stale"
    stale.mkdir(parents=True)
    (stale / "request.body").write_bytes(b"x")
    assert quarantine.clean_partial() == 0
    assert quarantine.clean_partial(older_than=-60) == 1
    assert not stale.exists()


def test_holding_the_same_bytes_again_records_an_attempt(
    quarantine: Quarantine, root: Path, body: Path, clock: Clock
) -> None:
    first = quarantine.hold(held(), body)
    body.write_bytes(b"a different request carrying the same file")
    again = quarantine.hold(held(uploader="bob", reason="refused again"), body)

    assert again.path == first.path
    assert again.received == first.received
    assert again.uploader == "alice"
    assert again.attempts == 2
    assert quarantine.body_path(again).read_bytes() == BODY  # the first request is kept
    assert [e.id for e in quarantine.list()] == [SHA_A]
    lines = (first.path / "attempts.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "client": "127.0.0.1:54321",
            "reason": "refused again",
            "received": clock.now.isoformat(),
            "uploader": "bob",
        }
    ]
    if POSIX:
        assert _mode(first.path / "attempts.jsonl") == 0o600
    assert _partials(root) == []


def test_a_concurrent_hold_of_the_same_bytes_wins(
    quarantine: Quarantine, root: Path, body: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.rename

    def rename_after_another_process(src: Any, dst: Any) -> None:
        # Another process moves its entry into place first (its own rename is the real one).
        patch.setattr(os, "rename", real)
        Quarantine(root).hold(held(uploader="bob"), body)
        real(src, dst)

    with monkeypatch.context() as patch:
        patch.setattr(os, "rename", rename_after_another_process)
        mine = quarantine.hold(held(uploader="alice"), body)

    assert mine.uploader == "bob"  # the entry in place is kept ...
    assert mine.attempts == 2  # ... and this refusal is recorded in it
    assert [e.id for e in quarantine.list()] == [SHA_A]
    assert _partials(root) == []


@pytest.mark.parametrize("sha256", ["../../escape", "A" * 64, "a" * 63, "", "g" * 64])
def test_hold_refuses_an_id_that_is_not_a_digest(
    quarantine: Quarantine, root: Path, body: Path, sha256: str
) -> None:
    with pytest.raises(InvalidInputError, match="not a lowercase hex sha256"):
        quarantine.hold(held(sha256), body)
    assert not root.exists()


def test_hold_with_an_unreadable_body_is_an_incomplete_error(
    quarantine: Quarantine, root: Path, tmp_path: Path
) -> None:
    with pytest.raises(IncompleteError, match=r"missing\.bin"):
        quarantine.hold(held(), tmp_path / "missing.bin")
    assert quarantine.list() == []
    assert _partials(root) == []


# -- list and get -------------------------------------------------------------------------


def test_list_is_newest_first_and_skips_damaged_entries(
    quarantine: Quarantine,
    root: Path,
    body: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    older = quarantine.hold(held(SHA_A, "demo-1.0.tar.gz"), body)
    newer = quarantine.hold(held(SHA_B, "demo-1.0-py3-none-any.whl"), body)
    not_json = root / ("c" * 64)
    not_json.mkdir()
    (not_json / "upload.json").write_text("{not json")
    other_format = root / ("d" * 64)
    other_format.mkdir()
    (other_format / "upload.json").write_text('{"format": "something/else"}')
    missing_field = root / ("e" * 64)
    missing_field.mkdir()
    record = json.loads((older.path / "upload.json").read_text())
    del record["filename"]
    record["sha256"] = "e" * 64
    (missing_field / "upload.json").write_text(json.dumps(record))
    (root / "notes").mkdir()  # not an entry at all: ignored silently

    with caplog.at_level(logging.WARNING, logger="verify"):
        entries = quarantine.list()

    assert [e.id for e in entries] == [SHA_B, SHA_A]
    assert entries == [newer, older]
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert len(caplog.records) == 3
    assert "c" * 64 in warned
    assert "d" * 64 in warned
    assert "e" * 64 in warned
    assert "notes" not in warned


def test_list_of_a_missing_directory_is_empty(tmp_path: Path) -> None:
    assert Quarantine(tmp_path / "nowhere").list() == []


def test_get_by_id_prefix_or_filename(quarantine: Quarantine, body: Path) -> None:
    entry = quarantine.hold(held(SHA_A, "demo-1.0.tar.gz"), body)
    quarantine.hold(held(SHA_B, "demo-1.0-py3-none-any.whl"), body)

    assert quarantine.get(SHA_A) == entry
    assert quarantine.get("aaaaaa") == entry
    assert quarantine.get("AAAAAAAA") == entry
    assert quarantine.get(" demo-1.0.tar.gz ") == entry
    assert quarantine.get("demo-1.0-py3-none-any.whl").id == SHA_B


def test_get_refuses_ambiguous_unknown_and_short_keys(quarantine: Quarantine, body: Path) -> None:
    quarantine.hold(held("abcdef" + "0" * 58, "demo-1.0.tar.gz"), body)
    quarantine.hold(held("abcdef" + "1" * 58, "demo-1.0.tar.gz"), body)

    with pytest.raises(UsageError, match="'abcdef' matches 2 uploads: abcdef111111") as info:
        quarantine.get("abcdef")
    assert info.value.exit_code == 2
    with pytest.raises(UsageError, match="matches 2 uploads"):
        quarantine.get("demo-1.0.tar.gz")
    assert quarantine.get("abcdef1").id == "abcdef" + "1" * 58
    with pytest.raises(UsageError, match="no quarantined upload matches 'abcdef2'"):
        quarantine.get("abcdef2")
    with pytest.raises(UsageError, match="too short"):
        quarantine.get("abc")
    with pytest.raises(UsageError, match="no quarantined upload matches"):
        quarantine.get("../" + "abcdef" + "0" * 58)
    with pytest.raises(UsageError, match="empty"):
        quarantine.get("  ")


# -- drop ---------------------------------------------------------------------------------


def test_drop_removes_the_entry(quarantine: Quarantine, root: Path, body: Path) -> None:
    kept = quarantine.hold(held(SHA_B), body)
    dropped = quarantine.hold(held(SHA_A, "demo-1.0-py3-none-any.whl"), body)

    assert quarantine.drop("aaaaaaa") == dropped

    assert not dropped.path.exists()
    assert quarantine.list() == [kept]
    assert _partials(root) == []
    with pytest.raises(UsageError, match="no quarantined upload matches"):
        quarantine.drop(SHA_A)


# -- release ------------------------------------------------------------------------------


def test_release_forwards_the_request_byte_for_byte(
    quarantine: Quarantine, body: Path, upstream: _Upstream, session: HttpSession, clock: Clock
) -> None:
    quarantine.hold(held(), body)

    released = quarantine.release(
        "aaaaaa",
        upstream_url=upstream.url,
        session=session,
        by="carol",
        why="reviewed the install hook",
        authorization="Basic dXNlcjpwdw==",
    )

    ((path, headers, data),) = upstream.received
    assert path == "/legacy/"
    assert data == BODY
    assert headers["content-type"] == CONTENT_TYPE
    assert headers["authorization"] == "Basic dXNlcjpwdw=="
    assert released.state is EntryState.RELEASED
    assert released.released_by == "carol"
    assert released.release_reason == "reviewed the install hook"
    assert released.released_at == clock.now
    assert released.released_to == upstream.url
    assert released.upstream_status == 200
    assert quarantine.get(SHA_A) == released
    record = (released.path / "release.json").read_text()
    assert json.loads(record)["upstream_reason"] == "OK"
    assert "dXNlcjpwdw" not in record  # the credentials are sent, never stored
    if POSIX:
        assert _mode(released.path / "release.json") == 0o600

    with pytest.raises(UsageError, match="already released by carol"):
        quarantine.release(
            SHA_A,
            upstream_url=upstream.url,
            session=session,
            by="carol",
            why="again",
            authorization=None,
        )
    assert len(upstream.received) == 1


def test_a_refused_release_stays_held(
    quarantine: Quarantine, body: Path, upstream: _Upstream, session: HttpSession
) -> None:
    entry = quarantine.hold(held(), body)
    upstream.status, upstream.reason = 403, "Invalid or non-existent authentication"

    with pytest.raises(IncompleteError) as info:
        quarantine.release(
            SHA_A,
            upstream_url=upstream.url,
            session=session,
            by="carol",
            why="reviewed",
            authorization=None,
        )

    assert info.value.message == (
        "the upstream index refused the release: HTTP 403 Invalid or non-existent authentication"
    )
    assert info.value.exit_code == 3
    assert len(upstream.received) == 1
    assert quarantine.get(SHA_A) == entry
    assert not (entry.path / "release.json").exists()


def test_an_unreachable_upstream_is_a_network_error(
    quarantine: Quarantine, body: Path, session: HttpSession
) -> None:
    entry = quarantine.hold(held(), body)

    with pytest.raises(NetworkError) as info:
        quarantine.release(
            SHA_A,
            upstream_url=_closed_port_url(),
            session=session,
            by="carol",
            why="reviewed",
            authorization=None,
        )

    assert info.value.exit_code == 3
    assert "could not reach 127.0.0.1" in info.value.message
    assert quarantine.get(SHA_A) == entry
    assert quarantine.get(SHA_A).state is EntryState.HELD


@pytest.mark.parametrize(("by", "why"), [("", "reviewed"), ("carol", "  ")])
def test_a_release_needs_who_and_why(
    quarantine: Quarantine,
    body: Path,
    upstream: _Upstream,
    session: HttpSession,
    by: str,
    why: str,
) -> None:
    quarantine.hold(held(), body)
    with pytest.raises(UsageError, match="a release needs"):
        quarantine.release(
            SHA_A, upstream_url=upstream.url, session=session, by=by, why=why, authorization=None
        )
    assert upstream.received == []
    assert quarantine.get(SHA_A).state is EntryState.HELD


# -- the command line ---------------------------------------------------------------------


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    quarantine_cli.register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    code: int = args.handler(args)
    return code


@pytest.fixture
def two_held(quarantine: Quarantine, body: Path) -> tuple[QuarantineEntry, QuarantineEntry]:
    older = quarantine.hold(held(SHA_A, "demo-1.0.tar.gz"), body)
    newer = quarantine.hold(held(SHA_B, "demo-1.0-py3-none-any.whl", uploader=None), body)
    return older, newer


def test_cli_list_text(
    root: Path,
    two_held: tuple[QuarantineEntry, QuarantineEntry],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert cli("quarantine", "--quarantine", str(root), "list") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    newer = next(i for i, line in enumerate(lines) if "b" * 12 in line)
    older = next(i for i, line in enumerate(lines) if "a" * 12 in line)
    assert newer < older
    assert "b" * 13 not in out  # ids are shortened to 12 digits
    assert "demo-1.0-py3-none-any.whl" in lines[newer]
    assert "2025-03-01 12:01:00Z" in lines[older]
    assert "alice" in lines[older]
    assert "held" in lines[older]
    assert "install-hooks" in lines[older]


def test_cli_list_json(
    root: Path,
    two_held: tuple[QuarantineEntry, QuarantineEntry],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("quarantine", "list", "--quarantine", str(root), "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in rows] == [SHA_B, SHA_A]
    assert rows[1]["filename"] == "demo-1.0.tar.gz"
    assert rows[1]["state"] == "held"
    assert rows[1]["received"] == "2025-03-01T12:01:00+00:00"
    assert rows[0]["uploader"] is None
    assert rows == [entry.to_dict() for entry in reversed(two_held)]


def test_cli_list_of_an_empty_quarantine(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root.mkdir()
    monkeypatch.setenv("PIP_VERIFY_QUARANTINE", str(root))
    assert cli("quarantine", "list") == 0
    assert "no quarantined uploads" in capsys.readouterr().out


def test_cli_show_and_show_report(
    root: Path,
    two_held: tuple[QuarantineEntry, QuarantineEntry],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("quarantine", "--quarantine", str(root), "show", "aaaaaa") == 0
    out = capsys.readouterr().out
    assert f"id:       {SHA_A}" in out
    assert "filename: demo-1.0.tar.gz" in out
    assert "project:  demo 1.0" in out
    assert "state:    held" in out
    assert "uploader: alice" in out

    assert cli("quarantine", "--quarantine", str(root), "show", SHA_B, "--report") == 0
    assert capsys.readouterr().out == REPORT


def test_cli_show_escapes_control_characters(
    quarantine: Quarantine, root: Path, body: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quarantine.hold(held(uploader="mallory\x1b[2J\x07"), body)
    assert cli("quarantine", "--quarantine", str(root), "show", SHA_A) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "uploader: mallory\\x1b[2J\\x07" in out


def test_cli_release_with_username_and_password(
    root: Path,
    two_held: tuple[QuarantineEntry, QuarantineEntry],
    upstream: _Upstream,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIP_VERIFY_UPSTREAM_PASSWORD", "s3cret")
    code = cli(
        "quarantine",
        "--quarantine",
        str(root),
        "release",
        "demo-1.0.tar.gz",
        "--upstream",
        upstream.url,
        "--by",
        "carol",
        "--reason",
        "reviewed",
        "--username",
        "uploader",
        "--retries",
        "0",
    )

    assert code == 0
    assert capsys.readouterr().out == f"released demo-1.0.tar.gz to {upstream.url} (HTTP 200)\n"
    ((_, headers, data),) = upstream.received
    assert data == BODY
    expected = base64.b64encode(b"uploader:s3cret").decode()
    assert headers["authorization"] == f"Basic {expected}"
    assert Quarantine(root).get(SHA_A).state is EntryState.RELEASED
    assert Quarantine(root).get(SHA_B).state is EntryState.HELD


def test_cli_release_redacts_credentials_in_the_url(
    root: Path,
    two_held: tuple[QuarantineEntry, QuarantineEntry],
    upstream: _Upstream,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = upstream.url.replace("http://", "http://uploader:hunter2@")
    argv = ["quarantine", "--quarantine", str(root), "release", SHA_A, "--upstream", url]
    assert cli(*argv, "--by", "carol", "--reason", "reviewed", "--retries", "0") == 0

    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert "uploader:***@127.0.0.1" in out
    expected = base64.b64encode(b"uploader:hunter2").decode()
    assert upstream.received[0][1]["authorization"] == f"Basic {expected}"
    record = (root / SHA_A / "release.json").read_text()
    assert "hunter2" not in record


def test_cli_release_prompts_for_the_password_only_on_a_terminal(
    root: Path,
    two_held: tuple[QuarantineEntry, QuarantineEntry],
    upstream: _Upstream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ["quarantine", "--quarantine", str(root), "release", SHA_A]
    argv += ["--upstream", upstream.url, "--by", "carol", "--reason", "ok", "--username", "u"]
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(UsageError, match="no password for u") as info:
        cli(*argv)
    assert info.value.hint is not None
    assert "PIP_VERIFY_UPSTREAM_PASSWORD" in info.value.hint
    assert upstream.received == []

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return "typed"

    monkeypatch.setattr("sys.stdin", Terminal(""))
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    assert cli(*argv) == 0
    assert prompts == ["password for u at 127.0.0.1: "]
    expected = base64.b64encode(b"u:typed").decode()
    assert upstream.received[0][1]["authorization"] == f"Basic {expected}"


def test_cli_release_refuses_a_password_without_a_username(
    root: Path,
    two_held: tuple[QuarantineEntry, QuarantineEntry],
    upstream: _Upstream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIP_VERIFY_UPSTREAM_PASSWORD", "s3cret")
    argv = ["quarantine", "--quarantine", str(root), "release", SHA_A, "--upstream", upstream.url]
    with pytest.raises(UsageError, match="--username is not"):
        cli(*argv, "--by", "carol", "--reason", "ok")
    assert upstream.received == []


@pytest.mark.parametrize("url", ["ftp://index.example/legacy/", "index.example/legacy/"])
def test_cli_release_refuses_a_url_that_is_not_http(
    root: Path, two_held: tuple[QuarantineEntry, QuarantineEntry], url: str
) -> None:
    argv = ["quarantine", "--quarantine", str(root), "release", SHA_A, "--upstream", url]
    with pytest.raises(UsageError, match="not an http"):
        cli(*argv, "--by", "carol", "--reason", "ok")
    assert Quarantine(root).get(SHA_A).state is EntryState.HELD


def test_cli_release_to_a_refusing_upstream(
    root: Path,
    two_held: tuple[QuarantineEntry, QuarantineEntry],
    upstream: _Upstream,
) -> None:
    upstream.status, upstream.reason = 400, "File already exists."
    argv = ["quarantine", "--quarantine", str(root), "release", SHA_A, "--upstream", upstream.url]
    with pytest.raises(IncompleteError, match="HTTP 400 File already exists"):
        cli(*argv, "--by", "carol", "--reason", "ok", "--retries", "0")
    assert Quarantine(root).get(SHA_A).state is EntryState.HELD


def test_cli_drop(
    root: Path,
    two_held: tuple[QuarantineEntry, QuarantineEntry],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("quarantine", "drop", "--quarantine", str(root), "bbbbbbbb") == 0
    assert capsys.readouterr().out == (
        f"dropped demo-1.0-py3-none-any.whl (bbbbbbbbbbbb, held) from {root}\n"
    )
    assert [e.id for e in Quarantine(root).list()] == [SHA_A]


def test_cli_needs_a_quarantine_directory(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UsageError, match="no quarantine directory given") as info:
        cli("quarantine", "list")
    assert info.value.exit_code == 2
    assert info.value.hint is not None
    assert "PIP_VERIFY_QUARANTINE" in info.value.hint

    with pytest.raises(UsageError, match="does not exist"):
        cli("quarantine", "--quarantine", str(tmp_path / "typo"), "list")

    monkeypatch.setenv("PIP_VERIFY_QUARANTINE", str(tmp_path / "typo"))
    with pytest.raises(UsageError, match="typo does not exist"):
        cli("quarantine", "list")


def test_cli_quarantine_after_the_action_wins(
    root: Path,
    two_held: tuple[QuarantineEntry, QuarantineEntry],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    argv = ["quarantine", "--quarantine", str(other), "list", "--quarantine", str(root)]
    assert cli(*argv, "--format", "json") == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_cli_unknown_id(root: Path, two_held: tuple[QuarantineEntry, QuarantineEntry]) -> None:
    with pytest.raises(UsageError, match="no quarantined upload matches 'cccccc'"):
        cli("quarantine", "--quarantine", str(root), "show", "cccccc")
