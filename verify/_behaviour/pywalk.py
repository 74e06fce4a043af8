"""A parsed Python module walked once: the nodes to judge, where each runs, what binds names.

The walk is iterative (hostile files nest as deep as the parser allows) and decides, node by
node, whether it runs as the module loads or only when called (in a def or lambda, under a
``__main__`` guard, in a function the module does not call as it loads), and which scope's
names it sees. :class:`ModuleWalk` is the first of the classes the Python analysis is built
from, each on the one before: :mod:`~verify._behaviour.pyindex` (names),
:mod:`~verify._behaviour.pyflow` (data flow), then the checks of
:mod:`~verify._behaviour.pynodes`, :mod:`~verify._behaviour.pycalls` and
:mod:`~verify._behaviour.pyexec`.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Sequence
from typing import NamedTuple

from verify._behaviour import patterns
from verify._behaviour.collector import Collector
from verify._behaviour.profile import Phase

#: Bounds on work spent following hostile input (nesting, name chains, data flow).
MAX_DEPTH = 40
TAINT_BUDGET = 2000


class Visit(NamedTuple):
    """One AST node and where it sits."""

    node: ast.AST
    parent: ast.AST | None
    #: Runs only when something calls it: in a def or lambda, or under ``if __name__ ==
    #: "__main__"``, rather than when the module is imported.
    deferred: bool
    #: The function or class body whose local names the node sees (0 is the module).
    scope: int


# What the walk does with a node, by type (bit flags, so one dict lookup decides).
_JUDGE = 1  # has a handler in the judging pass
_NOTE = 2  # feeds the index: imports, assignments, docstrings, os.environ attributes
_NAMED = 4  # carries identifiers (homoglyph check)
_CODE = 8  # a statement or expression (layout checks)
_SCOPED = 16  # gives its children another scope or phase
_FLAG_TYPES: tuple[tuple[int, tuple[type[ast.AST], ...]], ...] = (
    (_JUDGE, (ast.Call, ast.Constant, ast.BinOp, ast.Assign, ast.AugAssign, ast.AnnAssign)),
    (_JUDGE, (ast.ClassDef, ast.Dict, ast.JoinedStr)),
    (_NOTE, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign)),
    (_NOTE, (ast.NamedExpr, ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)),
    (_NOTE, (ast.Attribute,)),
    (_NAMED, (ast.Name, ast.Attribute, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)),
    (_NAMED, (ast.arg, ast.keyword, ast.alias)),
    (_CODE, (ast.stmt, ast.expr)),
    (_SCOPED, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.If)),
)
_TYPE_FLAGS: dict[type[ast.AST], int] = {}


def _type_flags(kind: type[ast.AST]) -> int:
    flags = _TYPE_FLAGS.get(kind)
    if flags is None:
        flags = 0
        for flag, types in _FLAG_TYPES:
            if issubclass(kind, types):
                flags |= flag
        _TYPE_FLAGS[kind] = flags
    return flags


#: Fields that never lead to a node worth visiting. Contexts and operators are shared
#: singletons that would otherwise be nearly half of all visits; the rest hold plain values.
#: (``Import.names`` holds aliases, which the import handler reads itself.)
_LEAF_FIELDS = frozenset(
    {"ctx", "op", "ops", "id", "attr", "name", "asname", "arg", "module", "level", "kind",
     "conversion", "simple", "is_async", "type_comment", "names"}
)  # fmt: skip
#: Per node type: the fields that may hold child nodes, each with whether it is a list.
_CHILD_FIELDS: dict[type[ast.AST], tuple[tuple[str, bool], ...]] = {}


def _children(node: ast.AST) -> list[ast.AST]:
    kind = type(node)
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = _CHILD_FIELDS[kind] = tuple(
            (field, isinstance(getattr(node, field, None), list))
            for field in kind._fields
            if field not in _LEAF_FIELDS
        )
    children: list[ast.AST] = []
    for field, many in fields:
        value = getattr(node, field, None)
        if many:
            # Lists may also hold None (dict unpacking) or names (match class keywords).
            children += [item for item in value or () if isinstance(item, ast.AST)]
        elif isinstance(value, ast.AST):
            children.append(value)
    return children


def _arguments(args: ast.arguments) -> Iterator[ast.arg]:
    yield from args.posonlyargs
    yield from args.args
    yield from args.kwonlyargs
    if args.vararg is not None:
        yield args.vararg
    if args.kwarg is not None:
        yield args.kwarg


def is_main_guard(test: ast.expr) -> bool:
    """Whether ``test`` is ``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = (test.left, test.comparators[0])
    names = {side.id for side in sides if isinstance(side, ast.Name)}
    values = {side.value for side in sides if isinstance(side, ast.Constant)}
    return names == {"__name__"} and values == {"__main__"}


def _called_on_load(tree: ast.Module, imported: frozenset[str] = frozenset()) -> frozenset[str]:
    """Module-level functions that run when the module is loaded: called from module-level
    code (not under a ``__main__`` guard), or by the package's ``__init__`` as it is imported
    (``imported``), directly or through each other. A payload in ``def main(): ...`` followed
    by ``main()`` runs at import as surely as one written inline.
    """
    defined = {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    if not defined:
        return frozenset()
    roots: list[ast.AST] = [
        node
        for node in tree.body
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and not (isinstance(node, ast.If) and is_main_guard(node.test))
    ]
    called: set[str] = set()
    pending = _called_names(roots, defined) | (imported & defined.keys())
    while pending:
        name = pending.pop()
        if name in called:
            continue
        called.add(name)
        pending |= _called_names(defined[name].body, defined) - called
    return frozenset(called)


def _called_names(nodes: Sequence[ast.AST], defined: Collection[str]) -> set[str]:
    """Names of ``defined`` functions that ``nodes`` call (outside nested functions), or
    hand to a thread or a decorator-free callback as a bare name (``Thread(target=f)``)."""
    found: set[str] = set()
    stack = list(nodes)
    budget = TAINT_BUDGET * 50
    while stack and budget:
        budget -= 1
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            targets = [node.func, *node.args, *(k.value for k in node.keywords)]
            found.update(t.id for t in targets if isinstance(t, ast.Name) and t.id in defined)
        stack.extend(ast.iter_child_nodes(node))
    return found


class ModuleWalk:
    """One walk over a parsed module: the nodes to judge, where each runs, what binds names.

    Every node is visited once, parents before children; the walk records which nodes have a
    handler (:attr:`visits`), which may be ``os.environ``, carry identifiers or sit on long
    lines, and notes imports, assignments, parameters and docstrings for resolving names.
    """

    def __init__(self, tree: ast.Module, collector: Collector, *, forced: Phase | None) -> None:
        self.tree = tree
        self.c = collector
        #: ``install`` for setup.py, ``startup`` for .pth lines: every node runs then.
        self.forced = forced
        lines = collector.source.lines
        self.long_lines = {n for n, line in enumerate(lines, 1) if len(line) > patterns.HIDDEN_RUN}
        self.check_identifiers = not collector.source.text.isascii()
        # What the walk gathers.
        self.visits: list[Visit] = []
        self.scopes = 0
        #: Names that may stand for os.environ, and their uses. Gathered while walking, so an
        #: alias assigned after a use is missed; ``from os import environ`` is the usual form.
        self.environ_names = {"environ", "environb"}
        self.environ_uses: list[Visit] = []
        self.named: list[Visit] = []
        self.laid_out: list[Visit] = []
        self.parameters: dict[int, set[str]] = {}
        #: The function (not method, not lambda) whose body each scope is, for following its
        #: parameters back to the module's own calls of it.
        self.functions: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.aliases: dict[str, str] = {}
        self.imported: set[str] = set()
        self.star_modules: list[str] = []
        self.assigned: dict[tuple[int, str], list[ast.expr]] = {}
        self.docstrings: set[int] = set()
        self.thread_classes: set[str] = set()
        #: Module-level functions that module-level code calls: their bodies run on load.
        self.run_on_load = (
            _called_on_load(tree, collector.called_on_import) if forced is None else frozenset()
        )

    def _walk(self) -> None:
        """Visit every node once, parents before children, sorting out what judging needs.

        Iterative, not recursive: hostile files nest as deep as the parser allows. Names and
        constants, half of all nodes, are handled where their parent is rather than pushed.
        """
        stack = [Visit(self.tree, None, False, 0)]
        judged, long_lines = self.visits, self.long_lines
        while stack:
            visit = stack.pop()
            node, _, deferred, scope = visit
            kind = type(node)
            if kind is ast.Name:  # pushed by a def, class or guard: otherwise handled inline
                self._name(node, visit.parent, deferred, scope)
                continue
            flags = _type_flags(kind)
            if flags & _JUDGE:
                judged.append(visit)
            if flags & _NOTE:
                self._note(visit)
            if flags & _NAMED and self.check_identifiers:
                self.named.append(visit)
            if flags & _CODE and long_lines and getattr(node, "lineno", 0) in long_lines:
                self.laid_out.append(visit)
            scoped = self._scoped_children(visit) if flags & _SCOPED else None
            if scoped is not None:
                stack.extend(reversed(scoped))
                continue
            pending: list[Visit] = []
            for child in _children(node):
                kind = type(child)
                if kind is ast.Name:
                    self._name(child, node, deferred, scope)
                elif kind is ast.Constant:
                    judged.append(Visit(child, node, deferred, scope))
                else:
                    pending.append(Visit(child, node, deferred, scope))
            stack.extend(reversed(pending))

    def _scoped_children(self, visit: Visit) -> list[Visit] | None:
        """Children of a def, lambda, class or ``__main__`` guard, in their own scope or phase."""
        node, _, deferred, scope = visit
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            self.scopes += 1
            self.parameters[self.scopes] = {arg.arg for arg in _arguments(node.args)}
            if not isinstance(node, ast.Lambda) and not isinstance(visit.parent, ast.ClassDef):
                self.functions[self.scopes] = node
            # A function the module itself calls as it loads runs when it loads.
            body_deferred = not (
                scope == 0 and not deferred and getattr(node, "name", None) in self.run_on_load
            )
            # Decorators, defaults and annotations run when the def does; the body later.
            outer: list[ast.AST] = [node.args]
            body: list[ast.AST]
            if isinstance(node, ast.Lambda):
                body = [node.body]
            else:
                outer = [*node.decorator_list, node.args]
                outer += [node.returns] if node.returns else []
                body = list(node.body)
            children = [Visit(child, node, deferred, scope) for child in outer]
            return children + [Visit(child, node, body_deferred, self.scopes) for child in body]
        if isinstance(node, ast.ClassDef):
            self.scopes += 1
            head = [*node.decorator_list, *node.bases, *node.keywords]
            children = [Visit(child, node, deferred, scope) for child in head]
            return children + [Visit(child, node, deferred, self.scopes) for child in node.body]
        if isinstance(node, ast.If) and is_main_guard(node.test):
            children = [Visit(node.test, node, deferred, scope)]
            children += [Visit(child, node, True, scope) for child in node.body]
            return children + [Visit(child, node, deferred, scope) for child in node.orelse]
        return None

    def _name(self, node: ast.AST, parent: ast.AST | None, deferred: bool, scope: int) -> None:
        """A name: recorded only when it may be os.environ or the source is not ASCII."""
        if not (self.check_identifiers or getattr(node, "id", None) in self.environ_names):
            return
        visit = Visit(node, parent, deferred, scope)
        if self.check_identifiers:
            self.named.append(visit)
        if getattr(node, "id", None) in self.environ_names:
            self.environ_uses.append(visit)

    def _note(self, visit: Visit) -> None:
        node = visit.node
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self._note_import(node)
            if self.check_identifiers:
                self.named += [
                    Visit(alias, node, visit.deferred, visit.scope) for alias in node.names
                ]
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            self._note_assignment(node, visit.scope)
        elif isinstance(node, ast.Attribute):
            if node.attr in ("environ", "environb"):
                self.visits.append(visit)
        else:
            self._note_docstring(node)

    def _note_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".", 1)[0]
                self.aliases[bound] = alias.name if alias.asname else bound
                self.imported.add(bound)
            return
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                self.star_modules.append(module)
                continue
            bound = alias.asname or alias.name
            self.aliases[bound] = f"{module}.{alias.name}" if module else alias.name
            self.imported.add(bound)
            if self.aliases[bound] in patterns.ENVIRON_NAMES:
                self.environ_names.add(bound)

    def _note_assignment(
        self, node: ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr, scope: int
    ) -> None:
        if node.value is None:
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        environ = (isinstance(value, ast.Attribute) and value.attr in ("environ", "environb")) or (
            isinstance(value, ast.Name) and value.id in self.environ_names
        )
        for target in targets:
            if isinstance(target, ast.Name):
                self.assigned.setdefault((scope, target.id), []).append(value)
                if environ:
                    self.environ_names.add(target.id)

    def _note_docstring(self, node: ast.AST) -> None:
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        first = node.body[0] if node.body else None
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            self.docstrings.add(id(first.value))
