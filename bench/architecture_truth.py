"""Independent import resolvers for ``bench/architecture.py``: the edges each language's own rules
give, computed without any of ren-lsp's code (no tree-sitter, no manifests module, no resolver).

- Python: ``ast`` for the imports and where they sit, ``importlib.machinery.PathFinder`` (the
  finder ``import`` itself uses) over the tree's ``sys.path`` for the files: the tree, its
  ``src/`` folder, and a non-package file's own folder. A standard-library name is the
  interpreter's unless the tree is a standard library. Files ``ast`` cannot parse are left out.
- Go: import blocks read by regular expressions, ``go.mod``'s ``module`` line, one package per
  folder, ``_test.go`` files never imported.
- JavaScript/TypeScript: ``import``/``export … from``/``import()``/``require`` read by regular
  expressions, relative specifiers probed on disk like TypeScript's ``node`` resolution.

Each returns ``{(from, to): kind}`` with the strongest kind (runtime > lazy > type) per pair.
"""

from __future__ import annotations

import ast
import importlib.machinery
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

STRENGTH = {"runtime": 3, "lazy": 2, "type": 1}
Edges = dict[tuple[str, str], str]


def _add(edges: Edges, pair: tuple[str, str], kind: str) -> None:
    if pair[0] != pair[1] and STRENGTH[kind] > STRENGTH.get(edges.get(pair, ""), 0):
        edges[pair] = kind


# -- Python ---------------------------------------------------------------------------------------


class _Imports(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[str, int, tuple[str, ...], str]] = []  # module, level, names, kind
        self.context = ["runtime"]

    def _visit_scope(self, node: ast.AST, kind: str) -> None:
        self.context.append(kind)
        self.generic_visit(node)
        self.context.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_scope(node, "lazy")

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_scope(node, "lazy")

    def visit_If(self, node: ast.If) -> None:
        test = ast.unparse(node.test)
        kind = ("type" if "TYPE_CHECKING" in test else
                "lazy" if "__name__" in test and "__main__" in test else None)
        if kind is None:
            self.generic_visit(node)
            return
        self.visit(node.test)
        self.context.append(kind if self.context[-1] == "runtime" else self.context[-1])
        for child in node.body:
            self.visit(child)
        self.context.pop()
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append((alias.name, 0, (), self.context[-1]))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        names = tuple(a.name for a in node.names)
        self.found.append((node.module or "", node.level, names, self.context[-1]))


def _find(name: str, path: list[str]) -> importlib.machinery.ModuleSpec | None:
    try:
        return importlib.machinery.PathFinder.find_spec(name, path)
    except (ImportError, ValueError):
        return None


def python_edges(root: Path, files: Iterable[str]) -> tuple[Edges, set[str]]:
    """The Python edges between ``files`` (relative to ``root``), and the files ast rejects."""
    files = set(files)
    base = str(root)
    stdlib_tree = all((root / m).exists() for m in ("os.py", "abc.py", "importlib/__init__.py"))
    tree_roots = [base] + ([str(root / "src")] if (root / "src").is_dir() else [])
    edges: Edges = {}
    broken: set[str] = set()

    def rel_of(spec: importlib.machinery.ModuleSpec | None) -> str | None:
        if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
            return None
        rel = os.path.relpath(spec.origin, base)
        return rel if rel in files else None

    def chain(name: str, path: list[str]) -> tuple[importlib.machinery.ModuleSpec | None, bool]:
        """The deepest spec found along ``a.b.c``, and whether ``a`` was found at all."""
        spec = None
        for depth, part in enumerate(name.split(".")):
            found = _find(part, path)
            if found is None:
                return spec, depth > 0
            spec = found
            path = list(found.submodule_search_locations or [])
            if not path:
                break
        return spec, True

    for rel in sorted(files):
        if not rel.endswith((".py", ".pyi", ".pyw")):
            continue
        try:
            tree = ast.parse((root / rel).read_bytes(), rel)
        except (SyntaxError, ValueError):
            broken.add(rel)
            continue
        visitor = _Imports()
        visitor.visit(tree)
        folder = os.path.dirname(str(root / rel))
        roots = tree_roots if os.path.exists(os.path.join(folder, "__init__.py")) else [
            folder, *tree_roots]
        for module, level, names, kind in visitor.found:
            if rel.endswith(".pyi"):
                kind = "type"  # a stub is read by type checkers only
            if level:
                package = Path(folder)
                for _ in range(level - 1):
                    package = package.parent
                if module:
                    spec, _ = chain(module, [str(package)])
                    if spec is None:
                        continue
                else:
                    spec = importlib.machinery.ModuleSpec(
                        "pkg", None, origin=str(package / "__init__.py"), is_package=True)
                    spec.submodule_search_locations = [str(package)]
            else:
                top = module.split(".")[0]
                if top in sys.builtin_module_names or (
                        top in sys.stdlib_module_names and not stdlib_tree):
                    continue  # BuiltinImporter comes before PathFinder; site-packages after
                spec, _ = chain(module, roots)
                if spec is None:
                    continue
            targets = []
            for name in names:
                sub = (_find(name, list(spec.submodule_search_locations))
                       if spec.submodule_search_locations and name != "*" else None)
                targets.append(rel_of(sub) or rel_of(spec))
            if not names:
                targets.append(rel_of(spec))
            for target in targets:
                if target:
                    _add(edges, (rel, target), kind)
    return edges, broken


# -- Go -------------------------------------------------------------------------------------------

_GO_BLOCK = re.compile(r"^import\s*\((.*?)\)", re.MULTILINE | re.DOTALL)
_GO_SINGLE = re.compile(r'^import\s+(?:[\w.]+\s+)?"([^"]+)"', re.MULTILINE)
_GO_LINE = re.compile(r'^\s*(?:[\w.]+\s+)?"([^"]+)"', re.MULTILINE)


def go_edges(root: Path, files: Iterable[str]) -> Edges:
    files = set(files)
    modules = {}
    for rel in files:
        if os.path.basename(rel) == "go.mod":
            match = re.search(r"^module\s+(\S+)", (root / rel).read_text(), re.MULTILINE)
            if match:
                modules[os.path.dirname(rel)] = match.group(1)
    packages: dict[str, list[str]] = {}
    for rel in files:
        if rel.endswith(".go") and not rel.endswith("_test.go"):
            packages.setdefault(os.path.dirname(rel), []).append(rel)
    edges: Edges = {}
    for rel in sorted(f for f in files if f.endswith(".go")):
        text = (root / rel).read_text(errors="replace")
        specs = _GO_SINGLE.findall(text)
        for block in _GO_BLOCK.findall(text):
            specs += _GO_LINE.findall(block)
        for spec in specs:
            for folder, module in modules.items():
                if spec == module or spec.startswith(module + "/"):
                    target = os.path.normpath(os.path.join(folder, spec[len(module):].lstrip("/")))
                    for other in packages.get("" if target == "." else target, ()):
                        _add(edges, (rel, other), "runtime")
    return edges


# -- JavaScript and TypeScript --------------------------------------------------------------------

_JS_IMPORT = re.compile(
    r"""(?:^|[;\s])(?:import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]""")
_JS_CALL = re.compile(r"""\b(import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)""")
_PROBE = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs")


def _probe(root: Path, target: str, files: set[str]) -> str | None:
    target = os.path.normpath(target)
    stem, ext = os.path.splitext(target)
    candidates = [target] if ext in _PROBE else []
    if ext == ".js":
        candidates += [stem + ".ts", stem + ".tsx"]
    candidates += [target + e for e in _PROBE] + [os.path.join(target, "index" + e)
                                                   for e in _PROBE]
    return next((c for c in candidates if c in files and (root / c).is_file()), None)


def js_edges(root: Path, files: Iterable[str]) -> Edges:
    files = set(files)
    edges: Edges = {}
    for rel in sorted(f for f in files if f.endswith(_PROBE)):
        text = (root / rel).read_text(errors="replace")
        found = [("type" if t else "runtime", s) for t, s in _JS_IMPORT.findall(text)]
        found += [("lazy" if word == "import" else "runtime", s)
                  for word, s in _JS_CALL.findall(text)]
        for kind, spec in found:
            if spec.startswith("."):
                target = _probe(root, os.path.join(os.path.dirname(rel), spec), files)
                if target:
                    _add(edges, (rel, target), kind)
    return edges
