"""``.pth`` files: the lines the site module executes at every interpreter start-up."""

from __future__ import annotations

import ast
import re

from verify._behaviour.collector import Collector, fixed, fixed_line
from verify._behaviour.profile import Phase
from verify._behaviour.pyanalysis import parse_module, run_analysis, scan_python_text
from verify._behaviour.textscan import scan_invisible

_PTH_EXEC = re.compile(r"[ \t]*import[ \t]")
_PTH_MODULE = re.compile(r"[ \t]*import[ \t]+([\w.]+)")
#: Lines of a .pth file parsed one by one when the file as a whole does not parse.
_PTH_MAX_LINES = 1_000


def analyse_pth(c: Collector) -> None:
    """The site module executes ``.pth`` lines that start with ``import``, at every start-up."""
    lines = c.source.lines
    # site only executes lines starting exactly with "import " or "import\t"; indented ones
    # are flagged too, because a reader cannot tell them apart and no path starts that way.
    executable = [number for number, line in enumerate(lines, 1) if _PTH_EXEC.match(line)]
    for number in executable:
        module = _PTH_MODULE.match(lines[number - 1])
        key = f"import {module.group(1)}" if module else "import"
        c.add(
            "pth-exec",
            key,
            f"runs code at every interpreter start-up ({key})",
            number,
            Phase.STARTUP,
        )
    if not executable:
        return
    phase_at = fixed(Phase.STARTUP)
    wanted = set(executable)
    # Keep every line in place (blank the path lines) so line numbers match the file.
    code = "\n".join(line if n in wanted else "" for n, line in enumerate(lines, 1))
    tree, _, _ = parse_module(code)
    if tree is not None:
        run_analysis(c, tree, code, forced=Phase.STARTUP, phase_at=phase_at)
    else:
        # site runs each line on its own, so one broken line does not hide the others.
        for number in executable[:_PTH_MAX_LINES]:
            line_tree, reason, _ = parse_module(lines[number - 1])
            if line_tree is not None:
                ast.increment_lineno(line_tree, number - 1)
                run_analysis(c, line_tree, code, forced=Phase.STARTUP, phase_at=phase_at)
            else:
                c.unparsable(reason, number)
                scan_python_text(c, lines[number - 1], fixed_line(number), phase_at)
    scan_invisible(c, phase_at)
