"""The imports of one file with their line and kind, read with tree-sitter.

Python, JavaScript/TypeScript and Go get their own queries here, because the context engine's
(``context/symbols.py``) keep neither lines nor where an import sits:

- ``type``: inside ``if TYPE_CHECKING:`` (its ``else`` is runtime), any import of a ``.pyi``
  stub, TypeScript ``import type`` / ``export type … from`` / every specifier ``type``;
- ``lazy``: inside a function (Python ``def``/``lambda``, JS functions and methods), under
  ``if __name__ == "__main__":`` (runs only as a script), and every JavaScript ``import()``;
- ``runtime``: the rest, which runs when the module loads.

Other languages keep the context engine's specifiers (their line found in the text) and are
marked approximate.
"""

from __future__ import annotations

import importlib
import re
import threading
from typing import Any

from ren_lsp.architecture.model import LAZY, RUNTIME, TYPE, Import
from ren_lsp.context.symbols import GRAMMARS, _python_from_import

PRECISE = frozenset({"python", "javascript", "typescript", "tsx", "go"})

_QUERIES = {
    "python": """
(import_statement) @import
(import_from_statement) @from
(future_import_statement) @from
""",
    "javascript": """
(import_statement source: (string) @source) @import
(export_statement source: (string) @source) @import
(call_expression function: (import) arguments: (arguments . (string) @source)) @dynamic
(call_expression function: (identifier) @_require arguments: (arguments . (string) @source)
  (#eq? @_require "require")) @require
""",
    "go": """
(package_clause (package_identifier) @package)
(import_spec path: (_) @source)
""",
}
_QUERIES["typescript"] = _QUERIES["tsx"] = _QUERIES["javascript"] + """
(import_require_clause source: (string) @source) @require
"""

_PY_FUNCTIONS = frozenset({"function_definition", "lambda"})
_JS_FUNCTIONS = frozenset({"function_declaration", "function_expression", "arrow_function",
                           "method_definition", "generator_function_declaration",
                           "generator_function", "function"})
_MAIN_GUARD = re.compile(r"""^if\s+__name__\s*==\s*['"]__main__['"]\s*:""", re.MULTILINE)


class _Parsers:
    """Grammars and queries made once; a parser per thread (parsers are not thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[str, tuple[Any, Any] | None] = {}
        self._local = threading.local()

    def get(self, language: str) -> tuple[Any, Any] | None:
        with self._lock:
            if language not in self._made:
                self._made[language] = _load(language)
        made = self._made[language]
        if made is None:
            return None
        parsers: dict[str, Any] = self._local.__dict__.setdefault("parsers", {})
        if language not in parsers:
            import tree_sitter

            parsers[language] = tree_sitter.Parser(made[0])
        return parsers[language], made[1]


def _load(language: str) -> tuple[Any, Any] | None:
    try:
        import tree_sitter

        module_name, function = GRAMMARS[language]
        grammar = tree_sitter.Language(getattr(importlib.import_module(module_name), function)())
        return grammar, tree_sitter.Query(grammar, _QUERIES[language])
    except (ImportError, AttributeError, ValueError, OSError, KeyError):
        return None  # not installed here: the file's imports come from the context engine


_PARSERS = _Parsers()


def is_main_script(text: str) -> bool:
    """Whether a Python file runs code when started as a script."""
    return bool(_MAIN_GUARD.search(text))


def labelled_imports(path: str, language: str, text: str) -> tuple[list[Import], str] | None:
    """The imports of a file and (Go) its package name; None when no precise grammar loads."""
    if language not in PRECISE:
        return None
    made = _PARSERS.get(language)
    if made is None:
        return None
    parser, query = made
    import tree_sitter

    tree = parser.parse(text.encode("utf-8", errors="surrogatepass"))
    imports: list[Import] = []
    package = ""
    stub = path.endswith(".pyi")
    for _, captures in tree_sitter.QueryCursor(query).matches(tree.root_node):
        if language == "python":
            for node in captures.get("import", []):
                kind = TYPE if stub else _python_kind(node)
                imports.extend(_python_import(node, kind))
            for node in captures.get("from", []):
                imports.append(_python_from(node, TYPE if stub else _python_kind(node)))
        elif language == "go":
            for node in captures.get("package", []):
                package = _text(node)
            for node in captures.get("source", []):
                imports.append(Import(_text(node).strip("\"`"), node.start_point[0] + 1))
        else:
            imports.extend(_js_import(captures))
    imports.sort(key=lambda i: (i.line, i.spec))
    return imports, package


def _text(node: Any) -> str:
    return bytes(node.text or b"").decode("utf-8", errors="replace")


def _python_kind(node: Any) -> str:
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in _PY_FUNCTIONS:
            return LAZY
        if (parent.type == "if_statement" and child.type == "block"
                and parent.child_by_field_name("consequence") == child):
            condition = _text(parent.child_by_field_name("condition") or child)
            if "TYPE_CHECKING" in condition:
                return TYPE
            if "__name__" in condition and "__main__" in condition:
                return LAZY  # runs only when the file is started as a script
        child, parent = parent, parent.parent
    return RUNTIME


def _python_import(node: Any, kind: str) -> list[Import]:
    """``import a.b, c as d`` -> ``a.b`` and ``c``."""
    found = []
    for name in node.children_by_field_name("name"):
        if name.type == "aliased_import":
            name = name.child_by_field_name("name") or name
        found.append(Import(_text(name), node.start_point[0] + 1, kind))
    return found


def _python_from(node: Any, kind: str) -> Import:
    """``from .a import b, c as d`` -> ``.a`` with names ``(b, c)``; ``*`` kept as a name."""
    spec, _, names_text = _python_from_import(node).partition(":")  # the context engine's
    names = [name for name in names_text.split(",") if name]
    if any(child.type == "wildcard_import" for child in node.children):
        names.append("*")
    if node.type == "future_import_statement":
        spec = "__future__"
    return Import(re.sub(r"\s+", "", spec), node.start_point[0] + 1, kind, tuple(names))


def _js_import(captures: dict[str, list[Any]]) -> list[Import]:
    sources = captures.get("source", [])
    if not sources:
        return []
    spec = _text(sources[0]).strip("\"'`")
    line = sources[0].start_point[0] + 1
    if "dynamic" in captures:
        return [Import(spec, line, LAZY)]
    if "require" in captures:
        node = captures["require"][0]
        return [Import(spec, line, LAZY if _in_js_function(node) else RUNTIME)]
    node = captures["import"][0]
    return [Import(spec, line, TYPE if _js_type_only(node) else RUNTIME)]


def _in_js_function(node: Any) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in _JS_FUNCTIONS:
            return True
        parent = parent.parent
    return False


def _js_type_only(node: Any) -> bool:
    """``import type {A}``, ``export type {A} from``, or ``import {type A, type B}``."""
    if any(child.type == "type" for child in node.children):
        return True
    clause = next((c for c in node.children if c.type in ("import_clause", "export_clause")),
                  None)
    if clause is None:
        return False
    named = next((c for c in clause.children if c.type == "named_imports"), None)
    specifiers = [c for c in (named or clause).children
                  if c.type in ("import_specifier", "export_specifier")]
    if not specifiers or any(c.type not in ("named_imports", "{", "}", ",")
                             for c in clause.children if c is not named):
        return False  # a default or namespace import is a value
    return all(any(g.type == "type" for g in s.children) for s in specifiers)


def approximate_imports(text: str, specs: tuple[str, ...]) -> list[Import]:
    """The context engine's specifiers with the first line that mentions each (runtime)."""
    found = []
    for spec in specs:
        needle = spec.removeprefix("mod:").split("{")[0].split("::")[-1] or spec
        at = text.find(needle)
        found.append(Import(spec, text.count("\n", 0, at) + 1 if at >= 0 else 0))
    return found
