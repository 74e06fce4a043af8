"""Parsing untrusted Python: deep nesting, newer grammar, and aliases for the text scan."""

from __future__ import annotations

import ast
import sys

import pytest

from verify._behaviour.aliases import resolve_aliases
from verify._behaviour.pyparse import Parsed, parse_source

DEEP = "y = 1 if 0 else a" + ".a" * 2965 + "\n"


def _parse_from_depth(depth: int) -> Parsed:
    if depth:
        return _parse_from_depth(depth - 1)
    return parse_source(DEEP)


def test_a_deep_expression_parses_even_from_deep_inside_a_caller() -> None:
    # From 200 frames down, ast.parse itself gives up on this module.
    with pytest.raises(RecursionError):
        _deep_ast_parse(200)
    parsed = _parse_from_depth(200)
    assert parsed.tree is not None, parsed.reason
    assert parsed.rewritten == ()


def _deep_ast_parse(depth: int) -> ast.Module:
    if depth:
        return _deep_ast_parse(depth - 1)
    return ast.parse(DEEP)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("type Alias = int\n", "Alias = int"),
        ("type Pair[T: (int, str)] = tuple[T, T]\n", "Pair = tuple[T, T]"),
        ("def first[T](items: list[T]) -> T:\n    return items[0]\n", "def first(items"),
        ("class Box[T](Base):\n    pass\n", "class Box(Base)"),
        ("async def f[T](x: T) -> T:\n    return x\n", "async def f(x: T)"),
    ],
)
@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the running parser reads 3.12 syntax")
def test_type_parameter_syntax_is_rewritten_for_an_older_parser(source: str, expected: str) -> None:
    parsed = parse_source(source)
    assert parsed.tree is not None, parsed.reason
    assert parsed.rewritten == (1,)
    assert expected in ast.unparse(parsed.tree)


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="the running parser reads 3.14 syntax")
def test_unparenthesised_except_and_template_strings_are_rewritten() -> None:
    source = "try:\n    pass\nexcept ValueError, TypeError:\n    pass\nx = t'{exec(y)}'\n"
    parsed = parse_source(source)
    assert parsed.tree is not None, parsed.reason
    assert parsed.rewritten == (3, 5)
    calls = [n for n in ast.walk(parsed.tree) if isinstance(n, ast.Call)]
    # The template's field is still code: the analysis sees the call.
    assert [ast.unparse(c.func) for c in calls] == ["exec"]


def test_code_after_a_rewritten_line_keeps_its_line_numbers() -> None:
    source = "import os\ntype A = int\nos.system('x')\n"
    parsed = parse_source(source)
    assert parsed.tree is not None
    (call,) = [n for n in ast.walk(parsed.tree) if isinstance(n, ast.Call)]
    assert call.lineno == 3


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("$$$ not python\n", "invalid syntax"),
        ("print 'python 2'\n", "Missing parentheses"),
        ("x = (\n", "was never closed"),
    ],
)
def test_what_does_not_parse_says_why_and_where(source: str, reason: str) -> None:
    parsed = parse_source(source)
    assert parsed.tree is None
    assert reason in parsed.reason
    assert parsed.line == 1


def test_null_bytes_and_hopeless_nesting_are_reported_not_raised() -> None:
    assert parse_source("x = 1\x00\n").tree is None
    hopeless = parse_source("x = " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert hopeless.tree is None
    assert hopeless.reason


def test_the_fresh_stack_leaves_the_thread_stack_size_as_it_was() -> None:
    import threading

    before = threading.stack_size()
    parse_source(DEEP)
    assert threading.stack_size() == before


@pytest.mark.parametrize(
    ("source", "resolved_line"),
    [
        ("run = exec\nrun(x)\n", "exec(x)"),
        ("import base64 as q\nexec(q.b64decode(s))\n", "exec(base64.b64decode(s))"),
        ("from base64 import b64decode as d\nexec(d(s))\n", "exec(base64.b64decode(s))"),
        ("import subprocess as sp\np = sp.Popen\np('x')\n", "subprocess.Popen('x')"),
        ("e = eval; e(s)\n", "eval(s)"),
        ("from os import (system as s2)\ns2('x')\n", "os.system('x')"),
    ],
)
def test_aliases_are_resolved_for_the_text_scan(source: str, resolved_line: str) -> None:
    resolved = resolve_aliases(source)
    assert resolved is not None
    assert resolved.count("\n") == source.count("\n")
    assert resolved_line in resolved


def test_attributes_keywords_and_unrelated_names_are_left_alone() -> None:
    source = "run = exec\nobj.run(1)\nf(run=2)\nvalue = compute\nvalue()\n"
    resolved = resolve_aliases(source)
    assert resolved is not None
    assert "obj.run(1)" in resolved
    assert "f(run=2)" in resolved
    assert "value()" in resolved
    assert resolve_aliases("x = 1\nprint(x)\n") is None
