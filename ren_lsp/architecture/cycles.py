"""Import cycles: strongly connected components of the runtime edges, the edges that close each,
and the smallest set of edges whose removal breaks it.

The smallest cut (a minimum feedback arc set) is found exactly by trying every set of 1, 2, 3
edges while that stays cheap; past that, Eades, Lin and Smyth's ordering heuristic ("A fast and
effective heuristic for the feedback arc set problem", 1993) gives the edges that point backwards,
and every one of them that is not needed is put back. Such a cut is proven smallest when the
component holds as many cycles that share no edge (each needs an edge of its own); otherwise
it is marked as not exact.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from itertools import combinations

from ren_lsp.architecture.model import RUNTIME, Cycle, Edge

#: at most this many (edge set x edges) steps for the exact search
EXACT_BUDGET = 2_000_000


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


def _acyclic(pairs: Iterable[tuple[str, str]]) -> bool:
    """Kahn's algorithm: whether these edges leave no cycle."""
    out: dict[str, list[str]] = {}
    indegree: dict[str, int] = {}
    for source, target in pairs:
        out.setdefault(source, []).append(target)
        indegree[target] = indegree.get(target, 0) + 1
        indegree.setdefault(source, 0)
    ready = [node for node, degree in indegree.items() if degree == 0]
    seen = 0
    while ready:
        node = ready.pop()
        seen += 1
        for target in out.get(node, ()):
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return seen == len(indegree)


def _greedy_cut(nodes: list[str], pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out = {n: {t for s, t in pairs if s == n} for n in nodes}
    into = {n: {s for s, t in pairs if t == n} for n in nodes}
    left, right, alive = [], [], set(nodes)
    while alive:
        changed = True
        while changed:
            changed = False
            for node in sorted(alive):
                if not out[node] & alive:
                    right.append(node)
                elif not into[node] & alive:
                    left.append(node)
                else:
                    continue
                alive.discard(node)
                changed = True
        if alive:
            node = max(sorted(alive), key=lambda n: len(out[n] & alive) - len(into[n] & alive))
            left.append(node)
            alive.discard(node)
    position = {n: i for i, n in enumerate(left + right[::-1])}
    cut = [p for p in pairs if position[p[0]] > position[p[1]]]
    for pair in sorted(cut):  # put back every edge the cut does not need
        trial = [c for c in cut if c != pair]
        if _acyclic(p for p in pairs if p not in trial):
            cut = trial
    return cut


def _shortest_cycle(pairs: set[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """A shortest cycle of these edges (breadth first from every node), or None."""
    out: dict[str, list[str]] = {}
    for source, target in sorted(pairs):
        out.setdefault(source, []).append(target)
    best: list[tuple[str, str]] | None = None
    for start in sorted(out):
        back = {start: start}
        queue = deque([(start, 0)])
        closing = None
        while queue and closing is None:
            node, depth = queue.popleft()
            if best is not None and depth + 1 >= len(best):
                break  # no shorter cycle through this start
            for target in out.get(node, ()):
                if target == start:
                    closing = node
                    break
                if target not in back:
                    back[target] = node
                    queue.append((target, depth + 1))
        if closing is not None:
            path, node = [(closing, start)], closing
            while node != start:
                path.append((back[node], node))
                node = back[node]
            best = path[::-1]
            if len(best) == 2:
                return best  # nothing is shorter (no file imports itself here)
    return best


def disjoint_cycles(pairs: Iterable[tuple[str, str]], limit: int = 200) -> int:
    """How many cycles share no edge (shortest first): no cut can be smaller than that."""
    left = set(pairs)
    found = 0
    while found < limit:
        cycle = _shortest_cycle(left)
        if cycle is None:
            break
        left -= set(cycle)
        found += 1
    return found


def smallest_cut(nodes: list[str], pairs: list[tuple[str, str]]
                 ) -> tuple[list[tuple[str, str]], bool]:
    """The fewest edges whose removal leaves ``pairs`` acyclic, and whether that is proven."""
    pairs = sorted(set(pairs))
    if _acyclic(pairs):
        return [], True
    tried_below = 0  # every set smaller than this has been tried
    spent = 0
    for size in range(1, 4):
        count = 1
        for i in range(size):
            count = count * (len(pairs) - i) // (i + 1)
        if spent + count * len(pairs) > EXACT_BUDGET:
            break
        spent += count * len(pairs)
        for removed in combinations(pairs, size):
            gone = set(removed)
            if _acyclic(p for p in pairs if p not in gone):
                return list(removed), True
        tried_below = size + 1
    cut = _greedy_cut(nodes, pairs)
    # proven smallest when as many edge-disjoint cycles exist, each needing its own cut edge
    return cut, len(cut) <= tried_below or (len(pairs) <= 5000 and
                                            len(cut) <= disjoint_cycles(pairs))


def find_cycles(edges: Iterable[Edge]) -> list[Cycle]:
    """The runtime import cycles, biggest first."""
    runtime = [e for e in edges if e.kind == RUNTIME and e.source != e.target]
    first: dict[tuple[str, str], Edge] = {}
    for edge in sorted(runtime, key=lambda e: (e.source, e.target, e.line)):
        first.setdefault((edge.source, edge.target), edge)
    graph: dict[str, set[str]] = {}
    for source, target in first:
        graph.setdefault(source, set()).add(target)
    cycles = []
    for component in strongly_connected(graph):
        members = set(component)
        pairs = [p for p in first if p[0] in members and p[1] in members]
        cut, exact = smallest_cut(component, pairs)
        cycles.append(Cycle(tuple(component), tuple(first[p] for p in sorted(pairs)),
                            tuple(first[p] for p in sorted(cut)), exact))
    return sorted(cycles, key=lambda c: (-len(c.files), c.files))


def deferred_cycles(edges: Iterable[Edge], cycles: Iterable[Cycle]) -> list[tuple[str, ...]]:
    """Cycles that need a type-checking or function-level import: not import-time cycles."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if edge.source != edge.target:
            graph.setdefault(edge.source, set()).add(edge.target)
    real = {frozenset(c.files) for c in cycles}
    return [tuple(c) for c in strongly_connected(graph) if frozenset(c) not in real]
