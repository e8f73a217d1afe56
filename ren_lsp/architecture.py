"""A workspace's architecture, computed locally: modules, their dependencies, cycles, hubs.

The report is Markdown and useful on its own (Astra's commentary is streamed below it, and if
Astra cannot be reached the local part still stands).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

import attrs

ENTRY_NAMES = {"__main__.py", "main.py", "cli.py", "main.go", "main.rs", "index.js",
               "index.ts", "main.ts", "app.py", "manage.py", "main.c", "main.cpp", "Main.java"}


@attrs.frozen
class Module:
    """One source file: its size, what it imports inside the workspace and outside it."""

    path: str  # posix, relative to the workspace
    lines: int
    imports: frozenset[str] = frozenset()  # paths of workspace files
    external: frozenset[str] = frozenset()  # names of outside packages
    definitions: int = 0
    entry: bool = False  # e.g. has `if __name__ == "__main__"`


def package_of(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "." if parent == "." else parent


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted; only real cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    found.append(sorted(component))
    return sorted(found)


def _mermaid_id(name: str) -> str:
    return "m_" + "".join(c if c.isalnum() else "_" for c in name)


def report(modules: Iterable[Module], *, title: str = "Architecture", top: int = 8) -> str:
    """The Markdown report: packages, a Mermaid graph between packages, cycles, hubs."""
    mods = {m.path: m for m in modules}
    packages: dict[str, list[Module]] = defaultdict(list)
    for module in mods.values():
        packages[package_of(module.path)].append(module)
    package_edges: dict[str, set[str]] = defaultdict(set)
    for module in mods.values():
        for target in module.imports:
            if target in mods and package_of(target) != package_of(module.path):
                package_edges[package_of(module.path)].add(package_of(target))
    imported_by: dict[str, set[str]] = defaultdict(set)
    for module in mods.values():
        for target in module.imports:
            if target in mods:
                imported_by[target].add(module.path)

    out = [f"# {title}", "",
           f"{len(mods)} source files in {len(packages)} packages (computed locally by "
           "ren-lsp).", "", "## Packages", "", "| package | files | lines |", "|---|---|---|"]
    for name in sorted(packages, key=lambda p: (-sum(m.lines for m in packages[p]), p)):
        group = packages[name]
        out.append(f"| `{name}` | {len(group)} | {sum(m.lines for m in group)} |")

    out += ["", "## Dependencies between packages", ""]
    if package_edges:
        out += ["```mermaid", "graph LR"]
        for name in sorted(packages):
            out.append(f'  {_mermaid_id(name)}["{name}"]')
        for source in sorted(package_edges):
            for target in sorted(package_edges[source]):
                out.append(f"  {_mermaid_id(source)} --> {_mermaid_id(target)}")
        out += ["```"]
    else:
        out.append("No package imports another.")

    file_graph = {path: {t for t in m.imports if t in mods} for path, m in mods.items()}
    cycles = strongly_connected(file_graph)
    out += ["", "## Cycles", ""]
    out += [f"- {' → '.join(f'`{p}`' for p in cycle)}" for cycle in cycles] or [
        "No import cycles between files."]

    entries = sorted(p for p, m in mods.items() if m.entry or PurePosixPath(p).name in ENTRY_NAMES)
    out += ["", "## Entry points", ""]
    out += [f"- `{p}`" for p in entries] or ["None found."]

    out += ["", "## Largest modules", ""]
    for m in sorted(mods.values(), key=lambda m: (-m.lines, m.path))[:top]:
        out.append(f"- `{m.path}`: {m.lines} lines, {m.definitions} definitions")

    out += ["", "## Most connected modules", ""]
    def degree(path: str) -> int:
        return len(file_graph[path]) + len(imported_by[path])

    for path in sorted(mods, key=lambda p: (-degree(p), p))[:top]:
        if degree(path):
            out.append(f"- `{path}`: imports {len(file_graph[path])}, imported by "
                       f"{len(imported_by[path])}")

    external: dict[str, int] = defaultdict(int)
    for m in mods.values():
        for name in m.external:
            external[name] += 1
    out += ["", "## External dependencies", ""]
    out += [f"- `{name}` (used by {count} files)" for name, count in
            sorted(external.items(), key=lambda kv: (-kv[1], kv[0]))] or ["None found."]
    return "\n".join(out) + "\n"
