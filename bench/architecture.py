"""Is the architecture analysis right, and what does it cost, on real trees?

For each tree, in a fresh process (so each peak RSS is its own): index it as the server does, run
the analysis (``ren_lsp.architecture.analyze_index``), and score its file edges against an
independent resolver (``architecture_truth.py``: ``ast`` + ``importlib``'s PathFinder for Python,
go.mod rules for Go, on-disk probing for TypeScript) over the same files, side by side with the
context engine's own graph (``index.graph.imports_of``, path-suffix rules; what the report used
before). Prints per tree: files, edges, edges per second of the analysis, the independent
resolver's time as the baseline (ratio), peak RSS, edge precision / recall of both graphs, the
share of shared edges whose kind (runtime / type / lazy) agrees; then the standard library's
biggest runtime cycle (is it one in the independent graph too?) and its top hubs.

Trees: the running Python's standard library, this project, and the newest workspace of each
repository of ``retrieval-dev`` (``$RETRIEVAL_WORK`` or the temp dir's ``retrieval-dev-work``; see
``shared/retrieval-dev/README.md``) when prepared.

    .venv/bin/python bench/architecture.py [--tree PATH ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
CASES = Path("/work/shared/retrieval-dev/cases.jsonl")
PRECISE = {"python", "go", "javascript", "typescript", "tsx"}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def retrieval_trees() -> list[Path]:
    """The newest case workspace of each retrieval-dev repository, where prepared."""
    work = Path(os.environ.get("RETRIEVAL_WORK", Path(tempfile.gettempdir()) /
                               "retrieval-dev-work"))
    if not CASES.exists() or not work.is_dir():
        return []
    newest: dict[str, dict[str, str]] = {}
    for line in CASES.read_text().splitlines():
        case = json.loads(line)
        if case["repo"] not in newest or case["date"] > newest[case["repo"]]["date"]:
            newest[case["repo"]] = case
    trees = [work / f"{repo.replace('/', '+')}-{case['parent'][:12]}"
             for repo, case in sorted(newest.items())]
    return [tree for tree in trees if tree.is_dir()]


def score(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float]:
    hits = len(found & truth)
    return (hits / len(found) if found else 1.0, hits / len(truth) if truth else 1.0)


def base_graph_class() -> type | None:
    """The context engine's ``Graph`` as it was on main before this branch (the old report's
    edges), loaded from git; None outside a checkout."""
    try:
        base = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=HERE, check=True,
                              capture_output=True, text=True).stdout.strip()
        source = subprocess.run(["git", "show", f"{base}:ren_lsp/context/graph.py"], cwd=HERE,
                                check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    namespace: dict[str, object] = {"__name__": "base_graph"}
    exec(compile(source, "base_graph.py", "exec"), namespace)
    return namespace["Graph"]  # type: ignore[return-value]


def measure(tree: Path) -> dict[str, object]:
    """One tree, in this process: index, analyse, resolve independently, score."""
    from architecture_truth import go_edges, js_edges, python_edges

    from ren_lsp.architecture import analyze_index
    from ren_lsp.architecture.cycles import strongly_connected
    from ren_lsp.context import ContextEngine

    started = time.perf_counter()
    engine = ContextEngine([tree], use_cache=False)
    engine.build_sync()
    indexed = time.perf_counter() - started
    rss_indexed = peak_rss_mb()
    started = time.perf_counter()
    analysis = analyze_index(engine.index)
    analysed = time.perf_counter() - started
    assert analysis is not None
    rss = peak_rss_mb()

    files = {p: f.language for p, f in analysis.files.items() if f.language in PRECISE}
    started = time.perf_counter()
    listed = list(engine.index.records)
    truth_kinds, broken = python_edges(tree, [p for p in files if files[p] == "python"])
    truth_kinds.update(go_edges(tree, [p for p in listed if p.endswith((".go", "go.mod"))]))
    truth_kinds.update(js_edges(tree, [p for p in files if files[p] not in ("python", "go")]))
    truth_time = time.perf_counter() - started
    scored = {p for p in files if p not in broken}
    truth = {pair for pair in truth_kinds if pair[0] in scored}
    strength = {"runtime": 3, "lazy": 2, "type": 1}
    ours: dict[tuple[str, str], str] = {}
    for edge in analysis.edges:
        pair = (edge.source, edge.target)
        if pair[0] in scored and strength[edge.kind] > strength.get(ours.get(pair, ""), 0):
            ours[pair] = edge.kind
    context = {(key, other) for key in scored
               for other in engine.index.graph.imports_of(key) if other in files}
    before: set[tuple[str, str]] | None = None
    graph_class = base_graph_class()
    old_time = 0.0
    if graph_class is not None:
        # what the old report did beyond the index: its graph's edges, every file's text
        started = time.perf_counter()
        old = graph_class(engine.index.records)
        for record in engine.index.records.values():
            old.add(record)
        old_edges = {key: old.imports_of(key) for key in engine.index.records}
        for key in engine.index.records:
            engine.index.text_of(key)
        old_time = time.perf_counter() - started
        before = {(key, other) for key in scored for other in old_edges[key] if other in files}
    shared = set(ours) & truth
    result: dict[str, object] = {
        "tree": str(tree), "files": len(analysis.files), "scored": len(scored),
        "edges": len(analysis.edges), "index_s": indexed, "analysis_s": analysed,
        "truth_s": truth_time, "old_s": old_time, "rss_mb": rss,
        "analysis_rss_mb": rss - rss_indexed,
        "ours": score(set(ours), truth), "context": score(context, truth),
        "before": score(before, truth) if before is not None else (0.0, 0.0),
        "kinds": sum(ours[p] == truth_kinds[p] for p in shared) / len(shared) if shared else 1,
        "missed": sorted(truth - set(ours))[:5], "extra": sorted(set(ours) - truth)[:5],
    }
    if analysis.cycles:
        biggest = analysis.cycles[0]
        runtime_truth: dict[str, set[str]] = {}
        for (source, target), kind in truth_kinds.items():
            if kind == "runtime":
                runtime_truth.setdefault(source, set()).add(target)
        in_truth = any(set(biggest.files) <= set(c) for c in strongly_connected(runtime_truth))
        result["biggest_cycle"] = {
            "files": list(biggest.files), "cut": [f"{e.source}:{e.line} -> {e.target}"
                                                  for e in biggest.cut],
            "exact": biggest.cut_exact, "in_truth": in_truth,
            "cycles": len(analysis.cycles)}
    importers: dict[str, set[str]] = {}
    for edge in analysis.edges:
        importers.setdefault(edge.target, set()).add(edge.source)
    truth_importers: dict[str, set[str]] = {}
    for source, target in truth_kinds:
        truth_importers.setdefault(target, set()).add(source)
    hubs = sorted((p for p in importers if not analysis.files[p].test),
                  key=lambda p: (-len(importers[p]), p))[:5]
    result["hubs"] = [(p, len(importers[p]), len(truth_importers.get(p, ()))) for p in hubs]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", type=Path, help="analyse these trees only")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.one:
        sys.stdout.write(json.dumps(measure(args.one)) + "\n")
        return 0
    trees = args.tree or [Path(sysconfig.get_paths()["stdlib"]), HERE.parent,
                          *retrieval_trees()]
    rows = []
    for tree in trees:
        done = subprocess.run([sys.executable, __file__, "--one", str(tree)],
                              capture_output=True, text=True, check=False)
        if done.returncode:
            print(f"{tree}: failed\n{done.stderr[-2000:]}")
            continue
        rows.append(json.loads(done.stdout))
    print(f"{'tree':<28} {'files':>5} {'edges':>6} {'edges/s':>8} {'vs ast':>6} {'vs old':>6} "
          f"{'index s':>7} {'RSS MB':>7} {'+an MB':>6} {'P new':>6} {'R new':>6} {'P ctx':>6} "
          f"{'R ctx':>6} {'P old':>6} {'R old':>6} {'kinds':>5}")
    for row in rows:
        name = Path(str(row["tree"])).resolve().name[:28]
        rate = float(row["edges"]) / float(row["analysis_s"])  # type: ignore[arg-type]
        ratio = float(row["truth_s"]) / float(row["analysis_s"])  # type: ignore[arg-type]
        old_ratio = float(row["old_s"]) / float(row["analysis_s"])  # type: ignore[arg-type]
        ours, ctx, old = row["ours"], row["context"], row["before"]
        print(f"{name:<28} {row['files']:>5} {row['edges']:>6} {rate:>8.0f} {ratio:>5.2f}x "
              f"{old_ratio:>5.2f}x "
              f"{row['index_s']:>7.1f} {row['rss_mb']:>7.0f} {row['analysis_rss_mb']:>6.0f} "
              f"{ours[0]:>6.3f} {ours[1]:>6.3f} "
              f"{ctx[0]:>6.3f} {ctx[1]:>6.3f} {old[0]:>6.3f} {old[1]:>6.3f} {row['kinds']:>5.3f}")
    print("\nedges/s: file edges found per second of analysis (index built beforehand); 'vs ast':"
          " the independent resolver's time over the analysis's (>1: the analysis is faster); 'vs"
          " old': the same for the old report's work (its graph, reading every file);"
          " RSS: the process's peak (index + analysis), +an: what the analysis added to it;"
          " P/R: edge precision / recall against"
          " the independent resolver (new: the analysis, ctx: the context engine's graph, old: that"
          " graph as on main before this branch, which the report used);"
          " kinds: shared edges whose runtime/type/lazy kind agrees.")
    for row in rows:
        if row["missed"] or row["extra"]:
            print(f"\n{Path(str(row['tree'])).name}: missed {row['missed']}, extra {row['extra']}")
    for row in rows[:1]:
        cycle = row.get("biggest_cycle")
        if cycle:
            print(f"\n{Path(str(row['tree'])).name}: {cycle['cycles']} runtime cycles; the biggest"
                  f" has {len(cycle['files'])} files {cycle['files'][:12]}; cut"
                  f" ({'exact' if cycle['exact'] else 'greedy'}): {cycle['cut']}; also a cycle in"
                  f" the independent graph: {cycle['in_truth']}")
        print("top hubs (file, importers, importers in the independent graph):", row["hubs"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
