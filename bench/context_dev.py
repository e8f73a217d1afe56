"""Fit the question weights of the ranking on the retrieval development set, and show over-fitting.

The development set (``../shared/retrieval-dev``, its README says how to lay out its workspaces)
is 120 commits of six public repositories: the commit's subject is the question, the source files
it changed are the answer. This script indexes each case's workspace with the engine, keeps what
the question says about each file (``rank.features``), and scores the engine's list as returned
(tests and docs it ranks above the answer take up ranks), beside plain BM25 over the source files
(``run.py``'s own baseline) in the same run.

``--fit`` fits the weights by coordinate ascent on MRR (a small learning-to-rank fit over a grid)
and reports them **cross-validated by repository**: for each repository, the weights fitted on
the other five are scored on it, so what is learned on some repositories is measured on others.
The weights fitted on all six are printed for ``rank.Weights``; the fitted score beside the
cross-validated one shows how much is over-fitting. ``run.py`` with ``ren-lsp context --json``
is the acceptance measurement; this is the quick loop.

``--sketch`` indexes each workspace a second time as a large build does (definitions and imports
sketched by ``sketch.py``, the request's candidates parsed on demand and ranked again, as
``ContextEngine.query`` does), and scores that list beside the parsed one: what ranking loses
when a workspace is too large to parse up front.

    RETRIEVAL_WORK=DIR .venv/bin/python bench/context_dev.py [--dev DIR] [--fit] [--sketch]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import pickle
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import attrs

from ren_lsp.context.index import Index
from ren_lsp.context.kinds import SOURCE
from ren_lsp.context.rank import Features, Weights, features, question_scores
from ren_lsp.context.weights import QUESTION_SIGNALS

HERE = Path(__file__).resolve().parent
DEV = HERE.parent.parent / "shared" / "retrieval-dev"

#: the weights the fit may change, each with the grid it searches
GRID: dict[str, tuple[float, ...]] = {
    **{name: (0.0, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.3, 1.7, 2.2, 3.0)
       for name in ("defs", "path", "notes", "question_names", "size", "fan_in", "neighbours",
                    "tested", "passage", "phrase", "definition", "coverage")},
    **{name: (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
       for name in ("test", "doc", "example", "tooling", "generated", "vendored", "config",
                    "other")},
}


@dataclass
class Case:
    id: str
    repo: str
    query: str
    gold: list[str]
    found: Features
    bm25: list[str]
    path_hint: bool
    #: the editor's part of each file's score (selection, imports, …; not fitted here)
    editor: dict[str, float] = field(default_factory=dict)
    #: the current file, left out of the list before scoring
    current: str | None = None
    #: the question's features as a large build ranks them (``--sketch``)
    sketched: Features | None = None


def sketched_features(workspace: Path, query: str) -> Features:
    """The features as a large build gives them: sketched definitions, then the candidates
    parsed and the question asked again (``ContextEngine.query``)."""
    from ren_lsp.context import CANDIDATES, builder

    saved = builder.SKETCH_FILES
    builder.SKETCH_FILES = 0
    try:
        index = Index([workspace], workers=0)
        index.build_sync()
    finally:
        builder.SKETCH_FILES = saved
    found = features(index, query)
    totals = question_scores(found, Weights())
    top = sorted(totals, key=lambda key: (-totals[key], key))[:CANDIDATES]
    if index.ensure_symbols(top):
        found = features(index, query)
    return found


def load_cases(dev: Path, repos: Sequence[str], limit: int | None,
               sketch: bool = False) -> list[Case]:
    """Index every case's workspace and keep the question's features (and BM25's list)."""
    sys.path.insert(0, str(dev))
    import common
    import run

    rows = [json.loads(line) for line in (dev / "cases.jsonl").read_text().splitlines()]
    rows = [row for row in rows if not repos or row["repo"] in repos][:limit]
    cases = []
    for number, row in enumerate(rows, 1):
        workspace = common.workspace_dir(row["repo"], row["parent"])
        if not workspace.is_dir():
            raise SystemExit(f"{workspace} is missing: run the dev set's prepare.py first "
                             f"(RETRIEVAL_WORK is {os.environ.get('RETRIEVAL_WORK', 'unset')})")
        index = Index([workspace])
        index.build_sync()
        found = features(index, row["query"])
        cases.append(Case(row["id"], row["repo"], row["query"], row["gold"], found,
                          run.rank_bm25(row, workspace), bool(row.get("path_hint")),
                          sketched=sketched_features(workspace, row["query"]) if sketch
                          else None))
        print(f"\r{number}/{len(rows)} indexed", end="", file=sys.stderr)
    print(file=sys.stderr)
    return cases


def ranking(case: Case, weights: Weights, limit: int = 50) -> list[str]:
    """The engine's list for a case as ``ren-lsp context`` returns it, the current file left out."""
    totals = question_scores(case.found, weights)
    for key, value in case.editor.items():
        totals[key] = totals.get(key, 0.0) + value
    return sorted((k for k in totals if totals[k] > 0 and k != case.current),
                  key=lambda k: (-totals[k], k))[:limit]


def score(ranked: Sequence[str], gold: Sequence[str]) -> tuple[float, float, float]:
    """(recall@1, recall@5, reciprocal rank), as ``run.py`` computes them."""
    wanted = set(gold)
    first = next((i for i, path in enumerate(ranked, 1) if path in wanted), None)
    return (len(wanted & set(ranked[:1])) / len(wanted),
            len(wanted & set(ranked[:5])) / len(wanted), 1 / first if first else 0.0)


def mean_scores(cases: Sequence[Case], rank_of: Callable[[Case], Sequence[str]]
                ) -> tuple[float, float, float]:
    rows = [score(rank_of(case), case.gold) for case in cases] or [(0.0, 0.0, 0.0)]
    r1, r5, rr = (sum(column) / len(rows) for column in zip(*rows, strict=True))
    return r1, r5, rr


def objective(cases: Sequence[Case], weights: Weights) -> float:
    """What the fit maximises: MRR, with recall@1 breaking near ties."""
    r1, _, mrr = mean_scores(cases, lambda case: ranking(case, weights))
    return mrr + 0.25 * r1


def fit(cases: Sequence[Case], start: Weights, rounds: int = 3, method: str = "pairwise"
        ) -> Weights:
    """A linear fit of the signals' weights, then coordinate ascent of the kinds' factors.

    ``pairwise`` (RankNet's loss): each answer should outscore each other candidate of a
    comparable kind, a logistic loss on the difference. ``listwise`` (ListNet's): the answers'
    share of a softmax over the candidates. Both are L2-regularised and convex, keep the
    weights non-negative and count every case the same, so the fit is stable from fold to fold
    (on the dev set the pairwise fit over-fits less). The kinds' factors (multiplicative) are
    then chosen on their grids by MRR.
    """
    best = (_listwise if method == "listwise" else _pairwise)(cases, start)
    best_value = objective(cases, best)
    for _ in range(rounds):
        improved = False
        for name, grid in GRID.items():
            if name in QUESTION_SIGNALS:
                continue
            for value in grid:
                if value == getattr(best, name):
                    continue
                candidate = attrs.evolve(best, **{name: value})
                candidate_value = objective(cases, candidate)
                if candidate_value > best_value + 1e-9:
                    best, best_value, improved = candidate, candidate_value, True
        if not improved:
            break
    return best


#: how the pairwise fit's weights are scaled: their sum, as the hand-set weights had it
SIGNAL_TOTAL = 3.0
NEGATIVES = 30


def _pairwise(cases: Sequence[Case], start: Weights, l2: float = 0.003, steps: int = 400,
              rate: float = 2.0) -> Weights:
    names = [name for name in QUESTION_SIGNALS if name != "body"] + ["body"]
    pairs: list[tuple[float, float, list[float]]] = []
    for case in cases:
        found = case.found
        comparable = [key for key in ranking(case, start, limit=10_000)
                      if start.kind_factor(found.kinds.get(key, SOURCE), found.wanted) == 1.0]
        vectors = {key: [found.signals.get(name, {}).get(key, 0.0) for name in names]
                   for key in comparable}
        gold = [key for key in comparable if key in case.gold]
        others = [key for key in comparable if key not in case.gold][:NEGATIVES]
        if not gold or not others:
            continue
        weight = 1.0 / (len(gold) * len(others))
        for g in gold:
            for o in others:
                offset = case.editor.get(g, 0.0) - case.editor.get(o, 0.0)
                pairs.append((weight, offset,
                              [a - b for a, b in zip(vectors[g], vectors[o], strict=True)]))
    total = sum(w for w, _, _ in pairs) or 1.0
    w = [1.0] * len(names)
    for _ in range(steps):
        gradient = [l2 * x for x in w]
        for weight, offset, difference in pairs:
            margin = offset + sum(a * b for a, b in zip(w, difference, strict=True))
            pull = weight / total / (1.0 + math.exp(min(margin, 50.0)))
            for i, value in enumerate(difference):
                gradient[i] -= pull * value
        w = [max(0.0, x - rate * g) for x, g in zip(w, gradient, strict=True)]
    scale = SIGNAL_TOTAL / (sum(w) or 1.0)
    return attrs.evolve(start, **{name: round(x * scale, 3) for name, x in zip(names, w,
                                                                                strict=True)})


def _listwise(cases: Sequence[Case], start: Weights, l2: float = 0.01, steps: int = 300,
              rate: float = 0.5) -> Weights:
    """ListNet with a linear model: the answers' share of a softmax over the candidates."""
    names = [name for name in QUESTION_SIGNALS if name != "body"] + ["body"]
    lists: list[tuple[list[list[float]], list[float], list[bool]]] = []
    for case in cases:
        found = case.found
        comparable = [key for key in ranking(case, start, limit=10_000)
                      if start.kind_factor(found.kinds.get(key, SOURCE), found.wanted) == 1.0
                      ][:NEGATIVES]
        is_gold = [key in case.gold for key in comparable]
        if not any(is_gold) or all(is_gold):
            continue
        lists.append(([[found.signals.get(name, {}).get(key, 0.0) for name in names]
                       for key in comparable], [case.editor.get(key, 0.0) for key in comparable],
                      is_gold))
    w = [1.0] * len(names)
    for _ in range(steps):
        gradient = [l2 * x for x in w]
        for vectors, offsets, is_gold in lists:
            scores = [o + sum(a * b for a, b in zip(w, v, strict=True))
                      for v, o in zip(vectors, offsets, strict=True)]
            top = max(scores)
            exp = [math.exp(x - top) for x in scores]
            total = sum(exp)
            gold_total = sum(e for e, g in zip(exp, is_gold, strict=True) if g)
            # d(-log(gold_total / total)) / dw = E_all[v] - E_gold[v]
            for i in range(len(names)):
                expected_all = sum(e * v[i] for e, v in zip(exp, vectors, strict=True)) / total
                expected_gold = sum(e * v[i] for e, v, g in zip(exp, vectors, is_gold,
                                                                strict=True) if g) / gold_total
                gradient[i] += (expected_all - expected_gold) / len(lists)
        w = [max(0.0, x - rate * g) for x, g in zip(w, gradient, strict=True)]
    scale = SIGNAL_TOTAL / (sum(w) or 1.0)
    return attrs.evolve(start, **{name: round(x * scale, 3) for name, x in zip(names, w,
                                                                                strict=True)})


def table(title: str, cases: Sequence[Case], systems: dict[str, Callable[[Case], Sequence[str]]],
          repos: Sequence[str]) -> None:
    print(f"\n{title}")
    print(f"{'repo':22} {'n':>3}  " + "  ".join(f"{name + ' R@1':>13} {'R@5':>5} {'MRR':>5}"
                                              for name in systems))
    groups = [(repo, [c for c in cases if c.repo == repo]) for repo in repos]
    groups += [("ALL", list(cases)), ("ALL, no path hint", [c for c in cases if not c.path_hint])]
    for label, group in groups:
        cells = []
        for rank_of in systems.values():
            r1, r5, mrr = mean_scores(group, rank_of)
            cells.append(f"{r1:13.3f} {r5:5.3f} {mrr:5.3f}")
        print(f"{label:22} {len(group):3}  " + "  ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--dev", type=Path, default=Path(os.environ.get("RETRIEVAL_DEV", DEV)))
    parser.add_argument("--repo", action="append", default=[])
    parser.add_argument("--limit", type=int)
    parser.add_argument("--fit", action="store_true", help="fit the weights, cross-validated")
    parser.add_argument("--method", choices=("pairwise", "listwise"), default="pairwise")
    parser.add_argument("--features", type=Path,
                        help="keep the indexed features in this file (reused when it exists)")
    parser.add_argument("--sketch", action="store_true",
                        help="also rank as a large build does (definitions sketched)")
    parser.add_argument("--extra", type=Path, metavar="FILE",
                        help="fit on the project's own cases too (bench/context_quality.py "
                             "--save-features FILE), each of their sets one more fold")
    args = parser.parse_args()
    if not (args.dev / "cases.jsonl").is_file():
        print(f"no development set at {args.dev} (--dev DIR or $RETRIEVAL_DEV)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    if args.features is not None and args.features.is_file():
        cases = pickle.loads(args.features.read_bytes())
    else:
        cases = load_cases(args.dev, args.repo, args.limit, args.sketch)
        if args.features is not None:
            args.features.write_bytes(pickle.dumps(cases))
    dev_cases = list(cases)
    extra: list[Case] = []
    if args.extra is not None:
        extra = [case for _, case in pickle.loads(args.extra.read_bytes())]
        cases = [*cases, *extra]
    repos = sorted({case.repo for case in cases}, key=[c.repo for c in cases].index)
    print(f"{len(dev_cases)} dev cases and {len(extra)} of the project's, from {len(repos)} "
          f"repositories or sets, in {time.perf_counter() - started:.1f} s")
    current = Weights()
    systems: dict[str, Callable[[Case], Sequence[str]]] = {
        "bm25": lambda case: case.bm25, "engine": lambda case: ranking(case, current)}
    if any(case.sketched is not None for case in cases):
        systems["sketched"] = lambda case: ranking(
            dataclasses.replace(case, found=case.sketched or case.found), current)
    if args.fit:
        fitted_all = fit(cases, current, method=args.method)
        held_out: dict[str, Weights] = {}
        for repo in repos:
            held_out[repo] = fit([c for c in cases if c.repo != repo], current,
                                 method=args.method)
            print(f"fitted without {repo}: {_changed(held_out[repo])}", file=sys.stderr)
        systems["fitted"] = lambda case: ranking(case, fitted_all)
        systems["cv"] = lambda case: ranking(case, held_out[case.repo])
        print("\nweights fitted on all cases (for rank.Weights):", _changed(fitted_all))
    dev_repos = [repo for repo in repos if any(c.repo == repo for c in dev_cases)]
    table("the development set: recall@1, recall@5 and MRR, the engine's list as returned; bm25 "
          "over source files (run.py's baseline)", dev_cases, systems, dev_repos)
    if extra:
        table("the project's own cases (bench/context_quality.py; bm25 'split', current file "
              "left out)", extra, systems, [repo for repo in repos if repo not in dev_repos])
    return 0


def _changed(weights: Weights) -> str:
    default = Weights()
    names = dict.fromkeys((*QUESTION_SIGNALS, *GRID))
    return ", ".join(f"{name}={getattr(weights, name)}" + (
        "" if getattr(weights, name) != getattr(default, name) else " (as now)") for name in names)


if __name__ == "__main__":
    sys.exit(main())
