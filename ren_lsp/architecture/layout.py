"""A dependency graph people can read: code folders, collapsed to the depth that keeps it within
``MAX_NODES`` nodes, and its heaviest ``MAX_EDGES`` edges, with a note of what was left out.
The full file graph is in the JSON."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import attrs

from ren_lsp.architecture.model import Edge

MAX_NODES = 40
MAX_EDGES = 60


@attrs.frozen
class FolderGraph:
    nodes: dict[str, int]  # folder -> code files in it (and below, when collapsed)
    edges: list[tuple[str, str, int]]  # (from, to, file imports)
    notes: list[str]


def folder_of(path: str, depth: int | None = None) -> str:
    """A file's folder ("." at the top), cut to its first ``depth`` parts."""
    parts = path.split("/")[:-1]
    if depth is not None:
        parts = parts[:depth]
    return "/".join(parts) or "."


def folder_graph(files: Iterable[str], edges: Iterable[Edge]) -> FolderGraph:
    """Folders at the deepest level that keeps at most ``MAX_NODES`` of them."""
    paths = sorted(files)
    deepest = max((p.count("/") for p in paths), default=0)
    depth = deepest
    while depth > 1 and len({folder_of(p, depth) for p in paths}) > MAX_NODES:
        depth -= 1
    notes = []
    sizes = Counter(folder_of(p, depth) for p in paths)
    if depth < deepest:
        hidden = len({folder_of(p) for p in paths}) - len(sizes)
        notes.append(f"Folders deeper than {depth} level{'s' if depth > 1 else ''} are drawn "
                     f"as their parent ({hidden} folders merged).")
    group = {name: name for name in sizes}
    if len(sizes) > MAX_NODES:
        kept = {name for name, _ in sizes.most_common(MAX_NODES - 1)}
        rest = [name for name in sizes if name not in kept]
        notes.append(f"The {len(rest)} smallest folders are drawn as one node, "
                     f"\"{len(rest)} other folders\".")
        for name in rest:
            group[name] = f"{len(rest)} other folders"
    nodes: Counter[str] = Counter()
    for name, count in sizes.items():
        nodes[group[name]] += count
    weights: Counter[tuple[str, str]] = Counter()
    seen: set[tuple[str, str]] = set()
    for edge in edges:
        if (edge.source, edge.target) in seen:
            continue
        seen.add((edge.source, edge.target))
        source = group.get(folder_of(edge.source, depth))
        target = group.get(folder_of(edge.target, depth))
        if source and target and source != target:
            weights[(source, target)] += 1
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ranked) > MAX_EDGES:
        notes.append(f"Only the {MAX_EDGES} heaviest of {len(ranked)} dependencies between "
                     "folders are drawn (the number on an arrow counts file imports).")
        ranked = ranked[:MAX_EDGES]
    return FolderGraph(dict(nodes), [(s, t, w) for (s, t), w in ranked], notes)


def _mermaid_id(name: str) -> str:
    return "m_" + "".join(c if c.isalnum() else "_" for c in name)


def mermaid(graph: FolderGraph) -> list[str]:
    """The graph as Mermaid lines (a fenced block)."""
    lines = ["```mermaid", "graph LR"]
    for name in sorted(graph.nodes):
        lines.append(f'  {_mermaid_id(name)}["{name} ({graph.nodes[name]})"]')
    for source, target, weight in graph.edges:
        lines.append(f"  {_mermaid_id(source)} -->|{weight}| {_mermaid_id(target)}")
    return [*lines, "```"]
