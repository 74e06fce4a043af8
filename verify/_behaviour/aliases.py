"""Names a module binds to other callables, for source that is analysed as text only.

Source the parser cannot read is scanned with text patterns (``exec(...b64decode...)``,
``subprocess.Popen(``). Binding the callable to another name first (``run = exec``,
``import subprocess as q``) would slip past them, so the text is first rewritten with every
such name replaced by what it is bound to, keeping every line in place.
"""

from __future__ import annotations

import re

__all__ = ["resolve_aliases"]

_NAME = r"[A-Za-z_]\w*"
_DOTTED = rf"{_NAME}(?:[ \t]*\.[ \t]*{_NAME})*"
_IMPORT_AS = re.compile(rf"^[ \t]*import[ \t]+({_DOTTED})[ \t]+as[ \t]+({_NAME})", re.MULTILINE)
_FROM_IMPORT = re.compile(
    rf"^[ \t]*from[ \t]+({_DOTTED})[ \t]+import[ \t]*\(?[ \t]*([^\n#;)]*)", re.MULTILINE
)
_IMPORTED_NAME = re.compile(rf"^({_NAME})(?:[ \t]+as[ \t]+({_NAME}))?$")
# ``run = exec`` or ``p = subprocess.Popen``, the whole statement on its own (or after ``;``).
_ASSIGNED = re.compile(
    rf"(?:^|;)[ \t]*({_NAME})[ \t]*=[ \t]*({_DOTTED})[ \t]*(?=$|;|#)", re.MULTILINE
)
#: Built-in callables whose other names matter to the text patterns.
_BUILTINS = frozenset({"exec", "eval", "compile", "__import__", "getattr", "open"})
#: Names rewritten at most: a file binding more is not worth rewriting name by name.
_MAX_ALIASES = 200


def resolve_aliases(text: str) -> str | None:
    """``text`` with the names it binds to modules and callables replaced by their targets,
    or ``None`` when it binds none. Line breaks are kept, so line numbers still hold."""
    aliases: dict[str, str] = {}
    modules: set[str] = set()
    for match in _IMPORT_AS.finditer(text):
        target, alias = _squeeze(match.group(1)), match.group(2)
        modules.add(target.split(".", 1)[0])
        if alias != target:
            aliases[alias] = target
    for match in _FROM_IMPORT.finditer(text):
        module = _squeeze(match.group(1))
        modules.add(module.split(".", 1)[0])
        for item in match.group(2).split(","):
            imported = _IMPORTED_NAME.match(item.strip())
            if imported is None:
                continue
            name, alias = imported.group(1), imported.group(2)
            # ``from base64 import b64decode as d``: ``d`` is ``base64.b64decode``; without
            # ``as``, the bare name is the qualified one.
            aliases[alias or name] = f"{module}.{name}"
    for match in _ASSIGNED.finditer(text):
        alias, target = match.group(1), _squeeze(match.group(2))
        head = target.split(".", 1)[0]
        if alias == target or alias in _BUILTINS:
            continue
        if head in _BUILTINS or head in modules or head in aliases:
            aliases[alias] = target
    if not aliases:
        return None
    resolved = {alias: _expand(target, aliases) for alias, target in aliases.items()}
    names = sorted(resolved, key=len, reverse=True)[:_MAX_ALIASES]
    # Uses only: not an attribute (``x.run``), not the binding itself (``run = ``), not a
    # keyword argument (``f(run=1)``).
    use = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, names)) + r")\b(?![ \t]*=(?!=))")
    return use.sub(lambda m: resolved[m.group(1)], text)


def _expand(target: str, aliases: dict[str, str]) -> str:
    """``target`` with its head resolved through other aliases (a bounded walk: no cycles)."""
    for _ in range(8):
        head, dot, rest = target.partition(".")
        if head not in aliases or aliases[head] == target:
            break
        target = aliases[head] + dot + rest
    return target


def _squeeze(dotted: str) -> str:
    return re.sub(r"[ \t]+", "", dotted)
