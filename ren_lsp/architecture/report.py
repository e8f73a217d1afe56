"""The Markdown report of an ``Analysis``: what Astra's commentary is given, and what the user
reads first. Long lists are cut with a count of the rest; the JSON has everything."""

from __future__ import annotations

from collections import Counter, defaultdict, deque

from ren_lsp.architecture.layout import folder_graph, folder_of, mermaid
from ren_lsp.architecture.model import Analysis, Cycle, Edge, SourceFile

TOP = 8
MAX_ROWS = 25


def _more(shown: int, total: int, what: str) -> list[str]:
    return [f"- … and {total - shown} more {what} (all of them in `ren-lsp architecture "
            "--json`)"] if total > shown else []


def _cycle_lines(number: int, cycle: Cycle) -> list[str]:
    files = cycle.files
    head = ", ".join(f"`{f}`" for f in files[:6]) + (f" and {len(files) - 6} more"
                                                     if len(files) > 6 else "")
    lines = [f"{number}. {len(files)} files: {head}."]
    closing = cycle.closing_edges
    shown = closing if len(closing) <= 8 else ()
    if shown:
        lines.append("   Closed by: " + "; ".join(f"`{e.source}:{e.line}` → `{e.target}`"
                                                 for e in shown) + ".")
    else:
        loop = _shortest_loop(cycle)
        lines.append(f"   Closed by {len(closing)} runtime imports between these files; the "
                     "shortest loop: " + " → ".join(f"`{e.source}:{e.line}`" for e in loop)
                     + f" → `{loop[0].source}`.")
    word = "Breaking" if cycle.cut_exact else "Breaking (a small set, found greedily)"
    lines.append(f"   {word} {len(cycle.cut)} import{'s' if len(cycle.cut) != 1 else ''} "
                 "ends it: " + "; ".join(f"`{e.source}:{e.line}` → `{e.target}`"
                                         for e in cycle.cut[:10])
                 + (" …" if len(cycle.cut) > 10 else "") + ".")
    return lines


def _shortest_loop(cycle: Cycle) -> list[Edge]:
    """The fewest closing edges that go round once (breadth first from each file)."""
    out: dict[str, list[Edge]] = defaultdict(list)
    for edge in cycle.closing_edges:
        out[edge.source].append(edge)
    best: list[Edge] = list(cycle.closing_edges)
    for start in cycle.files:
        paths: dict[str, list[Edge]] = {start: []}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if len(paths[node]) + 1 >= len(best):
                continue
            for edge in out[node]:
                if edge.target == start:
                    best = [*paths[node], edge]
                    break
                if edge.target not in paths:
                    paths[edge.target] = [*paths[node], edge]
                    queue.append(edge.target)
    return best


def _merge_go_packages(files: dict[str, SourceFile], imports: dict[str, set[str]],
                       importers: dict[str, set[str]]) -> dict[str, str]:
    """Go imports whole packages: count a package's files as one hub, named by its folder.
    Returns what to say after each package's name."""
    package_of = {p: folder_of(p) + "/" for p, f in files.items()
                  if f.language == "go" and not f.test}
    sizes = Counter(package_of.values())
    for table in (imports, importers):
        for path in list(table):
            table[path] = {package_of.get(p, p) for p in table[path]}
            if path in package_of:
                table.setdefault(package_of[path], set()).update(table.pop(path))
    for table in (imports, importers):
        for name, members in table.items():
            members.discard(name)
    return {name: f" (Go package, {count} files)" for name, count in sizes.items()}


def render(analysis: Analysis, *, title: str = "Architecture") -> str:
    """The report: folders, their graph, cycles, entry points, sizes, hubs, dependencies."""
    files = analysis.files
    languages = Counter(f.language for f in files.values())
    folders: dict[str, list[str]] = defaultdict(list)
    for path in files:
        folders[folder_of(path)].append(path)
    imports: dict[str, set[str]] = defaultdict(set)
    importers: dict[str, set[str]] = defaultdict(set)
    for edge in analysis.edges:
        imports[edge.source].add(edge.target)
        importers[edge.target].add(edge.source)
    pairs = {(e.source, e.target) for e in analysis.edges}
    language_text = ", ".join(f"{n} {lang}" for lang, n in languages.most_common())
    out = [f"# {title}", "",
           f"{len(files)} source files ({language_text}) in {len(folders)} folders, "
           f"{len(pairs)} imports between them (computed locally by ren-lsp).", ""]
    approximate = sorted({f.language for f in files.values() if f.approximate})
    if approximate:
        out += [f"> Approximate: the imports of {', '.join(approximate)} files are matched by "
                "path, not by the language's own rules.", ""]

    out += ["## Packages", "", "| folder | files | lines |", "|---|---|---|"]
    ranked = sorted(folders, key=lambda p: (-sum(files[f].lines for f in folders[p]), p))
    for name in ranked[:MAX_ROWS]:
        group = folders[name]
        out.append(f"| `{name}` | {len(group)} | {sum(files[f].lines for f in group)} |")
    if len(ranked) > MAX_ROWS:
        out.append(f"| … {len(ranked) - MAX_ROWS} more | | |")

    out += ["", "## Dependencies between packages", ""]
    graph = folder_graph(files, analysis.edges)
    out += ([*mermaid(graph), "", *graph.notes]) if graph.edges else [
        "No folder imports another."]

    out += ["", "## Cycles", ""]
    if analysis.cycles:
        out.append(f"{len(analysis.cycles)} import cycles at run time (imports inside "
                   "functions and under `if TYPE_CHECKING:` do not count):")
        out.append("")
        for number, cycle in enumerate(analysis.cycles[:TOP], 1):
            out += _cycle_lines(number, cycle)
        out += _more(min(TOP, len(analysis.cycles)), len(analysis.cycles), "cycles")
    else:
        out.append("No import cycles between files at run time.")
    if analysis.deferred_cycles:
        out += ["", f"{len(analysis.deferred_cycles)} more cycles close only through imports "
                "inside functions or for type checking, so they never run at import time."]

    out += ["", "## Entry points", ""]
    points = analysis.entry_points
    out += [f"- `{p.file}`: {p.why}" for p in points[:15]] or ["None found."]
    out += _more(min(15, len(points)), len(points), "entry points")

    out += ["", "## Largest modules", ""]
    for f in sorted(files.values(), key=lambda f: (-f.lines, f.path))[:TOP]:
        out.append(f"- `{f.path}`: {f.lines} lines, {f.definitions} definitions")

    out += ["", "## Most connected modules", ""]
    labels = _merge_go_packages(files, imports, importers)
    hubs = [p for p in imports.keys() | importers.keys()
            if (p not in files or not files[p].test) and (imports[p] or importers[p])]
    outside = {p: sum(i not in files or not files[i].test for i in importers[p]) for p in hubs}
    # what the code leans on: importers outside the tests first
    hubs.sort(key=lambda p: (-outside[p], -len(importers[p]), -len(imports[p]), p))
    for path in hubs[:TOP]:
        tests = len(importers[path]) - outside[path]
        out.append(f"- `{path}`{labels.get(path, '')}: imports {len(imports[path])}, imported by "
                   f"{len(importers[path])}" + (f" ({tests} of them tests)" if tests else ""))
    if not hubs:
        out.append("No module imports another.")

    out += ["", "## External dependencies", ""]
    third = [x for x in analysis.externals if x.kind == "third-party"]
    stdlib = [x for x in analysis.externals if x.kind == "stdlib"]
    manifests = ", ".join(f"`{m}`" for m in analysis.manifests) or "no manifest"
    out.append(f"Third-party, checked against {manifests}:")
    out.append("")
    for x in third[:MAX_ROWS]:
        mark = "declared" if x.declared else "**not declared**"
        out.append(f"- `{x.name}` ({mark}; used by {len(x.used_by)} files)")
    out += _more(min(MAX_ROWS, len(third)), len(third), "packages")
    if not third:
        out.append("- none")
    if stdlib:
        names = ", ".join(f"`{x.name}`" for x in stdlib[:20])
        out += ["", f"Standard library / built-ins ({len(stdlib)}): {names}"
                + (" …" if len(stdlib) > 20 else "") + "."]
    undeclared = [x.name for x in third if not x.declared]
    if analysis.manifests and undeclared:
        out += ["", "Used but not declared: " + ", ".join(f"`{n}`" for n in undeclared) + "."]
    if analysis.declared_unused:
        out += ["", "Declared for run time but imported nowhere (perhaps loaded by name, a "
                "plugin or a tool): " + ", ".join(f"`{n}`" for n in analysis.declared_unused)
                + "."]
    if analysis.notes:
        out += ["", "## Notes", ""] + [f"- {note}" for note in analysis.notes]
    return "\n".join(out) + "\n"
