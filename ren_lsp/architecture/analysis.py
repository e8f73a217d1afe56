"""One folder's analysis: its code files and their labelled imports, each resolved by its
language's rules, then cycles, externals checked against the manifests, and entry points."""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable

import attrs

from ren_lsp.architecture.cycles import deferred_cycles, find_cycles
from ren_lsp.architecture.extract import approximate_imports, is_main_script, labelled_imports
from ren_lsp.architecture.manifests import Manifests, read_manifests
from ren_lsp.architecture.model import Analysis, Edge, EntryPoint, External, SourceFile
from ren_lsp.architecture.names import distributions_of, import_names_of
from ren_lsp.architecture.resolve import STDLIB, THIRD_PARTY, Resolution, Resolver, external_name

#: languages the context engine parses, and other code that has no import rules here
CODE_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx", "go", "rust", "java",
                            "c", "cpp"})
OTHER_CODE = frozenset({"rb", "php", "cs", "kt", "kts", "swift", "scala", "lua", "ex", "exs",
                        "erl", "hs", "ml", "clj", "dart", "jl", "pl", "shell", "vue", "svelte",
                        "m", "mm", "zig", "nim", "r"})
_TEST_DIRS = frozenset({"test", "tests", "testing", "__tests__", "testsuite", "spec", "e2e"})
_DOC_DIRS = frozenset({"doc", "docs", "documentation"})
_TEST_FILE = re.compile(r"^(test_.*\.py|.*_test\.(py|go)|conftest\.py|"
                        r".*\.(test|spec)\.[cm]?[jt]sx?)$")
_ECOSYSTEM = {"python": "python", "javascript": "node", "typescript": "node", "tsx": "node",
              "go": "go"}
_BUILD_DIRS = frozenset({"dist", "lib", "build", "out", "esm", "cjs"})
_RUST_STD = frozenset({"std", "core", "alloc"})


@attrs.frozen
class Listed:
    """A file the index lists under the folder (``path`` relative to the folder)."""

    path: str
    language: str
    definitions: int = 0
    #: the context engine's import specifiers (used for the approximate languages)
    specs: tuple[str, ...] = ()


def is_code(listed: Listed) -> bool:
    return listed.language in CODE_LANGUAGES or listed.language in OTHER_CODE


def is_test(path: str) -> bool:
    parts = path.split("/")
    return bool(_TEST_DIRS.intersection(parts[:-1])) or bool(_TEST_FILE.match(parts[-1]))


def is_doc(path: str) -> bool:
    return bool(_DOC_DIRS.intersection(path.split("/")[:-1]))


def analyze(root: str, listed: Iterable[Listed], read: Callable[[str], str | None],
            approximate: Callable[[str, str], Iterable[str]] | None = None,
            notes: Iterable[str] = (), within: str = "") -> Analysis:
    """Analyse the code files ``listed`` under ``within`` ("" or ``"dir/"``).

    Every listed file counts for resolution and manifests (a subfolder's imports resolve as in
    the whole workspace), but only those under ``within`` are analysed, and paths come out
    relative to it. ``read`` gives a file's text by its path, ``approximate(path, spec)`` the
    files an import of an approximate language names.
    """
    everything = list(listed)
    manifests = read_manifests([f.path for f in everything], read)
    resolver = Resolver([f.path for f in everything], manifests)
    resolver.note_shadows()
    files: dict[str, SourceFile] = {}
    for item in everything:
        if is_code(item) and item.path.startswith(within):
            files[item.path] = _source_file(item, read(item.path) or "")
    edges: dict[tuple[str, str, str], Edge] = {}
    used: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for source in files.values():
        for imp in source.imports:
            found = _resolve(resolver, source, imp.spec, imp.names, approximate)
            for target in found.targets:
                if target in files and target != source.path:
                    key = (source.path, target, imp.kind)
                    if key not in edges or edges[key].line > imp.line:
                        edges[key] = Edge(source.path, target, imp.line, imp.kind)
            if found.external:
                used[(found.external, found.kind, _ECOSYSTEM.get(source.language, ""))].add(
                    source.path)
    edge_list = tuple(sorted(edges.values(), key=lambda e: (e.source, e.line, e.target)))
    cycles = find_cycles(edge_list)
    externals, unused = _externals(used, manifests)
    all_notes = [*manifests.problems, *notes]
    all_notes += [f"`{file}` is named like the standard library's `{name}`: `import {name}` "
                  "gets the standard library's module, never this file; renaming it avoids "
                  "the confusion." for file, name in sorted(resolver.shadows.items())
                  if file in files]
    if not manifests.go_modules and any(f.language == "go" for f in files.values()):
        all_notes.append("No go.mod was found: Go imports are matched by folder name only.")
    if not manifests.files:
        all_notes.append("No manifest (pyproject.toml, requirements*.txt, package.json, go.mod)"
                         " is in this folder: third-party imports are not checked against one.")
    analysis = Analysis(root, files, edge_list, tuple(cycles),
                        tuple(deferred_cycles(edge_list, cycles)), tuple(externals),
                        # what a subfolder does not import, the rest of the workspace may
                        () if within else tuple(unused),
                        tuple(_entry_points(files, manifests, resolver)),
                        tuple(manifests.files), tuple(all_notes))
    return _rebase(analysis, within) if within else analysis


def _rebase(analysis: Analysis, within: str) -> Analysis:
    """The same analysis with paths relative to the folder ``within`` ("dir/")."""
    def path(p: str) -> str:
        return p[len(within):] if p.startswith(within) else posixpath.relpath(p, within)

    def edge(e: Edge) -> Edge:
        return attrs.evolve(e, source=path(e.source), target=path(e.target))

    def note(text: str) -> str:
        return text.replace(f"`{within}", "`")

    return attrs.evolve(
        analysis,
        files={path(p): attrs.evolve(f, path=path(p)) for p, f in analysis.files.items()},
        edges=tuple(edge(e) for e in analysis.edges),
        cycles=tuple(attrs.evolve(c, files=tuple(path(f) for f in c.files),
                                  closing_edges=tuple(edge(e) for e in c.closing_edges),
                                  cut=tuple(edge(e) for e in c.cut)) for c in analysis.cycles),
        deferred_cycles=tuple(tuple(path(f) for f in c) for c in analysis.deferred_cycles),
        externals=tuple(attrs.evolve(x, used_by=tuple(path(u) for u in x.used_by))
                        for x in analysis.externals),
        entry_points=tuple(attrs.evolve(p, file=path(p.file)) for p in analysis.entry_points),
        manifests=tuple(path(m) for m in analysis.manifests),
        notes=tuple(note(n) for n in analysis.notes))


def _source_file(item: Listed, text: str) -> SourceFile:
    lines = text.count("\n") + (bool(text) and not text.endswith("\n"))
    precise = labelled_imports(item.path, item.language, text)
    if precise is not None:
        imports, package = precise
        main = (is_main_script(text) if item.language == "python"
                else package == "main" and "func main()" in text)
        return SourceFile(item.path, item.language, lines, item.definitions, tuple(imports),
                          main, package, is_test(item.path))
    return SourceFile(item.path, item.language, lines, item.definitions,
                      tuple(approximate_imports(text, item.specs)), False, "",
                      is_test(item.path), approximate=True)


def _resolve(resolver: Resolver, source: SourceFile, spec: str, names: tuple[str, ...],
             approximate: Callable[[str, str], Iterable[str]] | None) -> Resolution:
    language = source.language
    if not source.approximate:
        if language == "python":
            return resolver.python(source.path, spec, names)
        if language == "go":
            if not resolver.manifests.go_modules and approximate is not None:
                return _approximate(source, spec, approximate)
            return resolver.go(source.path, spec)
        return resolver.javascript(source.path, spec)
    return _approximate(source, spec, approximate)


def _approximate(source: SourceFile, spec: str,
                 approximate: Callable[[str, str], Iterable[str]] | None) -> Resolution:
    targets = tuple(approximate(source.path, spec)) if approximate is not None else ()
    if targets:
        return Resolution(targets)
    name = external_name(spec, source.language)
    if not name:
        return Resolution()
    stdlib = ((source.language == "rust" and name in _RUST_STD)
              or (source.language == "java" and name in ("java", "javax"))
              or (source.language == "go" and "." not in name.split("/")[0]))
    return Resolution(external=name, kind=STDLIB if stdlib else THIRD_PARTY)


def _externals(used: dict[tuple[str, str, str], set[str]], manifests: Manifests
               ) -> tuple[list[External], list[str]]:
    found = []
    imported_dists: set[str] = set()
    for (name, kind, ecosystem), users in used.items():
        declared = True  # the standard library needs no declaration
        if kind == THIRD_PARTY and ecosystem == "python":
            dists = distributions_of(name)
            imported_dists |= dists
            declared = bool(dists & set(manifests.python))
        elif kind == THIRD_PARTY and ecosystem == "node":
            # a host's module (`vscode`) is declared by its types package
            declared = name in manifests.node or f"@types/{name}" in manifests.node
        elif kind == THIRD_PARTY and ecosystem == "go":
            declared = name in manifests.go
        elif kind == THIRD_PARTY:
            declared = False
        found.append(External(name, kind, declared, tuple(sorted(users))))
    found.sort(key=lambda x: (x.kind != THIRD_PARTY, -len(x.used_by), x.name))
    names = {x.name for x in found}
    unused = [dist for dist, runtime in sorted(manifests.python.items()) if runtime
              and dist not in imported_dists and not import_names_of(dist) & names]
    # a module or package of the tree itself resolves to its files, never to an external
    local = set(manifests.go_modules.values()) | {
        str(data["name"]) for data in manifests.packages.values() if "name" in data}
    for table in (manifests.node, manifests.go):
        unused += [name for name, runtime in sorted(table.items()) if runtime
                   and not any(n == name or n.startswith(name + "/") for n in names)
                   and not name.startswith("@types/") and name not in local]
    return found, unused


def _entry_points(files: dict[str, SourceFile], manifests: Manifests,
                  resolver: Resolver) -> list[EntryPoint]:
    points: dict[str, tuple[int, str]] = {}  # path -> (rank: declared first, why)

    def add(path: str | None, why: str, rank: int = 0) -> None:
        if path and path in files and not is_test(path) and not is_doc(path):
            points.setdefault(path, (rank, why))

    for script in manifests.scripts:
        parts = tuple(p for p in script.module.split(".") if p)
        add(resolver.module_file(parts), script.why)
    for folder, data in manifests.packages.items():
        for field, value in _package_entries(data):
            target = posixpath.normpath(posixpath.join(folder, value))
            hit = resolver.js_file(target)
            built = target.split("/")
            if hit is None and len(built) > 1 and built[0] in _BUILD_DIRS:
                # `dist/index.js` is built from `src/index.ts`
                hit = resolver.js_file(posixpath.splitext("/".join(["src", *built[1:]]))[0])
            add(hit, f"package.json `{field}`")
    for path, source in sorted(files.items()):
        if source.language == "python" and path.rpartition("/")[2] == "__main__.py":
            package = path.rpartition("/")[0].replace("/", ".")
            add(path, f"`python -m {package}`" if package else "`python .`", 1)
        elif source.language == "python" and source.main:
            add(path, "runs as a script (`if __name__ == \"__main__\"`)", 2)
        elif source.language == "go" and source.main and not source.test:
            folder = path.rpartition("/")[0] or "."
            add(path, f"Go `package main` (the command in `{folder}`)", 1)
    return [EntryPoint(path, why) for path, (_, why) in
            sorted(points.items(), key=lambda item: (item[1][0], item[0]))]


def _package_entries(data: dict[str, object]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    bin_field = data.get("bin")
    if isinstance(bin_field, str):
        found.append(("bin", bin_field))
    elif isinstance(bin_field, dict):
        found += [(f"bin.{k}", v) for k, v in bin_field.items() if isinstance(v, str)]
    for field in ("main", "module"):
        value = data.get(field)
        if isinstance(value, str):
            found.append((field, value))

    def walk(value: object, where: str) -> None:
        if isinstance(value, str):
            found.append((where, value))
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{where}[{key!r}]")
        elif isinstance(value, list):
            for inner in value:
                walk(inner, where)

    walk(data.get("exports"), "exports")
    return found
