"""Parsing untrusted Python source: on a fresh stack, and past syntax newer than this parser.

Two ways a hostile module used to escape the analysis by not parsing:

* **Depth.** CPython builds the AST against the recursion limit *of the calling thread*, so
  an expression nested a few thousand levels deep parses at the top of a fresh interpreter
  (and runs when imported) but not from deep inside an analysis. A parse that fails on depth
  is retried on a fresh thread, with a stack of its own.
* **Newer grammar.** A module may use syntax that the Python it targets accepts but the one
  running pip-verify does not (``type X = int`` on 3.11). Known constructs of that kind are
  rewritten, line by line and with every line kept in place, into what this parser accepts
  and what runs the same code at the same time (type parameters only name types; they run
  nothing), so the rest of the module is analysed as usual.

Whatever still does not parse is reported by the caller, which then falls back to a text scan.
"""

from __future__ import annotations

import ast
import re
import sys
import threading
import warnings
from dataclasses import dataclass

__all__ = ["Parsed", "parse_source"]

#: Rewrites tried on one module before giving up: each one fixes a single line.
_MAX_REWRITES = 64
#: The stack of the thread a deep parse is retried on. CPython's own parser stops at its
#: fixed depth limits well within this.
_FRESH_STACK = 64 * 1024 * 1024
_STACK_GUARD = threading.Lock()

_TYPE_ALIAS = re.compile(r"^(\s*)type\s+([A-Za-z_]\w*)\s*(?=[\[=])")
_GENERIC_DEF = re.compile(r"^(\s*(?:async\s+)?def\s+[A-Za-z_]\w*\s*)\[")
_GENERIC_CLASS = re.compile(r"^(\s*class\s+[A-Za-z_]\w*\s*)\[")
_BARE_EXCEPT_TUPLE = re.compile(r"^(\s*except\*?\s*)([^(:][^:]*,[^:]*?)(\s*:.*)$")
_TEMPLATE_PREFIX = re.compile(r"(?<![\w'\"])([rR]?)[tT]([rR]?)(?=['\"])")


@dataclass(frozen=True, slots=True)
class Parsed:
    """The module, or why it could not be parsed."""

    tree: ast.Module | None
    #: Why the source does not parse (empty when it does).
    reason: str = ""
    #: Where the parser gave up, when it says.
    line: int | None = None
    #: Lines rewritten from a newer grammar before the parse succeeded.
    rewritten: tuple[int, ...] = ()


def parse_source(text: str) -> Parsed:
    """Parse ``text`` as a module; never raises."""
    lines: list[str] | None = None
    rewritten: list[int] = []
    source = text
    while True:
        parsed = _parse(source)
        if parsed.tree is not None or parsed.line is None or len(rewritten) >= _MAX_REWRITES:
            break
        if lines is None:
            lines = text.split("\n")
        index = parsed.line - 1
        if not 0 <= index < len(lines):
            break
        replacement = _rewrite(lines[index])
        if replacement is None or replacement == lines[index]:
            break
        lines[index] = replacement
        rewritten.append(parsed.line)
        source = "\n".join(lines)
    if parsed.tree is None:
        return parsed
    return Parsed(parsed.tree, rewritten=tuple(rewritten))


def _parse(text: str) -> Parsed:
    try:
        return Parsed(_ast_parse(text))
    except RecursionError:
        pass
    except Exception as exc:
        return _failure(exc)
    return _parse_on_fresh_stack(text)


def _ast_parse(text: str) -> ast.Module:
    # The parser warns about invalid escapes and the like; analysing hostile files must
    # neither print that nor fail under warnings-as-errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text)


def _parse_on_fresh_stack(text: str) -> Parsed:
    outcome: list[Parsed] = []

    def run() -> None:
        try:
            outcome.append(Parsed(_ast_parse(text)))
        except Exception as exc:
            outcome.append(_failure(exc))

    with _STACK_GUARD:
        # stack_size applies to threads started after it; restore it for everyone else.
        previous: int | None = threading.stack_size()
        try:
            threading.stack_size(_FRESH_STACK)
        except (ValueError, RuntimeError):  # a platform that cannot size thread stacks
            previous = None
        try:
            thread = threading.Thread(target=run, name="pip-verify-parse", daemon=True)
            thread.start()
        finally:
            if previous is not None:
                threading.stack_size(previous)
    thread.join()
    return outcome[0] if outcome else Parsed(None, "the parser failed")


def _failure(exc: BaseException) -> Parsed:
    if isinstance(exc, SyntaxError):
        return Parsed(None, exc.msg or "syntax error", exc.lineno)
    if isinstance(exc, RecursionError):
        return Parsed(None, "nested too deeply")
    if isinstance(exc, MemoryError):
        return Parsed(None, "too complex to parse")
    if isinstance(exc, ValueError):  # null bytes, on Pythons before 3.12
        return Parsed(None, str(exc))
    return Parsed(None, f"the parser failed: {type(exc).__name__}")


def _rewrite(line: str) -> str | None:
    """``line`` in this parser's grammar, when it holds a known newer construct."""
    if sys.version_info < (3, 12):
        alias = _TYPE_ALIAS.match(line)
        if alias is not None:
            # ``type X[T] = value`` becomes ``X = value``. The alias's value is evaluated
            # lazily; analysing it as if it ran now can only report more, never less.
            value: str | None = line[alias.end() :]
            if value is not None and value.startswith("["):
                value = _drop_brackets(value)
            return None if value is None else f"{alias.group(1)}{alias.group(2)} {value.lstrip()}"
        for pattern in (_GENERIC_DEF, _GENERIC_CLASS):
            generic = pattern.match(line)
            if generic is not None:
                signature = _drop_brackets(line[generic.end() - 1 :])
                return None if signature is None else generic.group(1) + signature
    if sys.version_info < (3, 14):
        bare = _BARE_EXCEPT_TUPLE.match(line)
        if bare is not None and " as " not in bare.group(2):
            return f"{bare.group(1)}({bare.group(2).strip()}){bare.group(3)}"
        if _TEMPLATE_PREFIX.search(line):
            # A template string evaluates its fields like an f-string does.
            return _TEMPLATE_PREFIX.sub(lambda m: f"{m.group(1)}{m.group(2)}f", line)
    return None


def _drop_brackets(text: str) -> str | None:
    """``text`` without its leading balanced ``[...]`` group (``None`` if it does not close
    on this line)."""
    depth = 0
    for index, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
            if depth == 0:
                return text[index + 1 :]
    return None
