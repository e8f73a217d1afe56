"""How well does the context engine pick files? recall@5 and MRR beside plain BM25, in one run.

Three kinds of cases, all from real code on this machine:

- **question**: questions written by hand from the code of pytest, httpx, aiohttp and the standard
  library, with the file(s) holding the answer (``bench/context_cases.py``); **held-out**: more
  such questions (jsonschema, pygls), written after the ranking's weights were last changed and
  never used to tune them;
- **selection**: a call in a real module (pytest, httpx, aiohttp, hypothesis) to a function or
  class imported from a sibling module, selected (the call's lines and one either side) in its
  file, as for Explain; the answer is the module that defines what is called (found with Python's
  own ``ast``, not with the engine);
- **history**: this repository's own commits: the workspace as it was before the commit, the
  most-changed module as the current file, the commit's subject as the instruction, the other
  files the commit changed as the answer.

Baselines rank whole files by BM25 (k1 1.2, b 0.75) of the question and selection text: "plain"
with lower-cased word tokens, "split" with the engine's own terms (identifiers split on case and
underscores, stemmed), so the comparison is of the ranking, not of the tokenizer. The current
file is left out of every ranking before scoring.

    .venv/bin/python bench/context_quality.py [--quick] [--show-misses]
"""

from __future__ import annotations

import argparse
import ast
import itertools
import math
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ren_lsp.context import ContextEngine
from ren_lsp.context.index import read_text
from ren_lsp.context.terms import count_terms

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TOP = 5


@dataclass
class Case:
    kind: str
    set: str
    workspace: Path
    question: str
    targets: list[str]
    current: str | None = None
    selection: str = ""


@dataclass
class Scores:
    recall: list[float] = field(default_factory=list)
    reciprocal: list[float] = field(default_factory=list)

    def add(self, ranking: Sequence[str], targets: Sequence[str]) -> None:
        wanted = set(targets)
        top = set(ranking[:TOP])
        self.recall.append(len(top & wanted) / min(len(wanted), TOP))
        rank = next((i for i, path in enumerate(ranking, 1) if path in wanted), None)
        self.reciprocal.append(1 / rank if rank else 0.0)

    @property
    def recall_at_5(self) -> float:
        return sum(self.recall) / max(len(self.recall), 1)

    @property
    def mrr(self) -> float:
        return sum(self.reciprocal) / max(len(self.reciprocal), 1)


# -- BM25 over whole files (the baselines) --------------------------------------------------------


_WORDS = re.compile(r"[a-z0-9_]{2,}")


def plain_terms(text: str) -> Counter[str]:
    return Counter(_WORDS.findall(text.lower()))


class BM25:
    """Okapi BM25 over whole documents."""

    def __init__(self, documents: dict[str, Counter[str]], k1: float = 1.2, b: float = 0.75):
        self.documents = documents
        self.k1, self.b = k1, b
        self.lengths = {key: sum(terms.values()) for key, terms in documents.items()}
        self.average = sum(self.lengths.values()) / max(len(documents), 1)
        self.df: Counter[str] = Counter()
        for terms in documents.values():
            self.df.update(terms.keys())

    def rank(self, query: Iterable[str]) -> list[str]:
        count = len(self.documents)
        words = set(query)
        idf = {w: math.log(1 + (count - self.df[w] + 0.5) / (self.df[w] + 0.5)) for w in words}
        scores = {}
        for key, terms in self.documents.items():
            norm = self.k1 * (1 - self.b + self.b * self.lengths[key] / self.average)
            score = sum(idf[w] * terms[w] * (self.k1 + 1) / (terms[w] + norm)
                        for w in words if w in terms)
            if score > 0:
                scores[key] = score
        return sorted(scores, key=lambda key: (-scores[key], key))


# -- running the cases ----------------------------------------------------------------------------


@dataclass
class Workspace:
    engine: ContextEngine
    plain: BM25
    split: BM25


def open_workspace(path: Path, cache: Path) -> Workspace:
    engine = ContextEngine([path], cache_dir=cache)
    engine.build_sync()
    texts = {key: read_text(Path(record.path)) or "" for key, record in
             engine.index.records.items()}
    return Workspace(engine, BM25({k: plain_terms(t) for k, t in texts.items()}),
                     BM25({k: count_terms(t) for k, t in texts.items()}))


Ranker = Callable[[Workspace, Case], list[str]]


def engine_ranking(space: Workspace, case: Case) -> list[str]:
    current = case.workspace / case.current if case.current else None
    result = space.engine.query(question=case.question, current=current,
                                selection=case.selection, budget=1)
    return [f.path for f in result.files]


def plain_ranking(space: Workspace, case: Case) -> list[str]:
    return space.plain.rank(plain_terms(case.question + "\n" + case.selection))


def split_ranking(space: Workspace, case: Case) -> list[str]:
    return space.split.rank(count_terms(case.question + "\n" + case.selection))


METHODS: dict[str, Ranker] = {"engine": engine_ranking, "bm25-plain": plain_ranking,
                              "bm25-split": split_ranking}


def evaluate(cases: Sequence[Case], *, cache: Path, show_misses: bool = False,
             ) -> dict[tuple[str, str], Scores]:
    """(method, kind) -> scores, plus (method, "all")."""
    spaces: dict[Path, Workspace] = {}
    results: dict[tuple[str, str], Scores] = {}
    for case in cases:
        if case.workspace not in spaces:
            spaces[case.workspace] = open_workspace(case.workspace, cache)
        space = spaces[case.workspace]
        targets = [t for t in case.targets if t in space.engine.index.records]
        if not targets:
            print(f"  (skipped, answer not indexed: {case.targets})", file=sys.stderr)
            continue
        for method, ranker in METHODS.items():
            ranking = [p for p in ranker(space, case) if p != case.current]
            for group in (case.kind, "all"):
                results.setdefault((method, group), Scores()).add(ranking, targets)
            if show_misses and method == "engine" and not set(ranking[:TOP]) & set(targets):
                print(f"  miss [{case.set}] {case.question or case.selection[:60]!r}: "
                      f"want {targets}, got {ranking[:TOP]}", file=sys.stderr)
    return results


# -- the cases ------------------------------------------------------------------------------------


def question_cases(quick: bool) -> list[Case]:
    sys.path.insert(0, str(HERE))
    from context_cases import held_out_sets, question_sets

    cases = []
    for kind, sets in (("question", question_sets()), ("held-out", held_out_sets())):
        for name, (workspace, questions) in sets.items():
            if quick and name == "stdlib":
                continue
            cases.extend(Case(kind, name, workspace, q, targets) for q, targets in questions)
    return cases


def selection_cases(workspace: Path, package: str, limit: int, seed: int = 0) -> list[Case]:
    """Calls of functions and classes imported from sibling modules (found with ``ast``)."""
    files = sorted(p.relative_to(workspace).as_posix() for p in workspace.rglob("*.py")
                   if "__pycache__" not in p.parts)
    modules = {}
    for rel in files:
        dotted = ".".join([package, *rel[:-3].split("/")])
        modules[dotted.removesuffix(".__init__")] = rel
    trees = {}
    for rel in files:
        try:
            trees[rel] = ast.parse((workspace / rel).read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
    defined = {rel: {n.name for n in tree.body
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
               for rel, tree in trees.items()}
    found: dict[tuple[str, str], Case] = {}
    for rel, tree in trees.items():
        names, module_aliases = _imported(rel, tree, package, modules, defined)
        lines = (workspace / rel).read_text(encoding="utf-8").splitlines()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            target = None
            if isinstance(node.func, ast.Name):
                target = names.get(node.func.id)
            elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                module = module_aliases.get(node.func.value.id)
                if module and node.func.attr in defined.get(module, ()):
                    target = module
            if target is None or target == rel or (rel, target) in found:
                continue
            first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
            if last - first > 4:
                continue
            selection = "\n".join(lines[max(first - 1, 0): last + 2])
            found[(rel, target)] = Case("selection", package, workspace, "", [target], rel,
                                        selection)
    cases = list(found.values())
    random.Random(seed).shuffle(cases)
    return cases[:limit]


def _imported(rel: str, tree: ast.Module, package: str, modules: dict[str, str],
              defined: dict[str, set[str]]) -> tuple[dict[str, str], dict[str, str]]:
    """Local names bound to sibling modules' definitions, and to sibling modules."""
    names: dict[str, str] = {}
    module_aliases: dict[str, str] = {}
    here = [package, *rel[:-3].split("/")][:-1]
    if rel.endswith("__init__.py"):
        here = [package, *rel.split("/")[:-1]]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            dotted = ".".join([*base, *(node.module.split(".") if node.module else [])])
            for alias in node.names:
                local = alias.asname or alias.name
                if f"{dotted}.{alias.name}" in modules:
                    module_aliases[local] = modules[f"{dotted}.{alias.name}"]
                elif dotted in modules and alias.name in defined.get(modules[dotted], ()):
                    names[local] = modules[dotted]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in modules:
                    module_aliases[alias.asname] = modules[alias.name]
    return names, module_aliases


def history_cases(repo: Path, into: Path) -> list[Case]:
    """This repository's commits: before each, the most-changed module and the other files."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              check=True).stdout

    try:
        commits = git("rev-list", "--reverse", "HEAD").split()
    except (OSError, subprocess.CalledProcessError):
        return []
    cases = []
    for parent, commit in itertools.pairwise(commits):
        changed = []
        for line in git("diff", "--numstat", "--diff-filter=M", parent, commit).splitlines():
            added, removed, path = line.split("\t")
            if added != "-":
                changed.append((int(added) + int(removed), path))
        modules = sorted((n, p) for n, p in changed if p.startswith("ren_lsp/"))
        if not modules:
            continue
        current = modules[-1][1]
        targets = [p for _, p in changed if p != current and not p.endswith(".md")]
        if not targets:
            continue
        folder = into / parent[:12]
        if not folder.exists():
            folder.mkdir(parents=True)
            archive = subprocess.run(["git", "-C", str(repo), "archive", parent],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        subject = git("log", "-1", "--format=%s", commit).strip()
        cases.append(Case("history", "ren-lsp", folder, subject, targets, current))
    return cases


def all_cases(quick: bool, into: Path) -> list[Case]:
    import _pytest
    import aiohttp
    import httpx
    import hypothesis

    cases = question_cases(quick)
    per_package = 15 if quick else 40
    for module in (_pytest, httpx, aiohttp, hypothesis):
        workspace = Path(str(module.__file__)).parent
        cases.extend(selection_cases(workspace, module.__name__, per_package))
    cases.extend(history_cases(REPO, into))
    return cases


def fit_cases(cases: Sequence[Case], cache: Path) -> list[tuple[str, object]]:
    """(kind, ``context_dev.Case``) for each case: the question's features and the editor's
    fixed part of the scores, the answer, and BM25 "split" beside it."""
    sys.path.insert(0, str(HERE))
    import context_dev

    from ren_lsp.context.rank import Request, editor_scores, editor_signals, request_features
    from ren_lsp.context.weights import Weights

    spaces: dict[Path, Workspace] = {}
    found_cases: list[tuple[str, object]] = []
    for number, case in enumerate(cases):
        if case.workspace not in spaces:
            spaces[case.workspace] = open_workspace(case.workspace, cache)
        space = spaces[case.workspace]
        index = space.engine.index
        targets = [t for t in case.targets if t in index.records]
        if not targets:
            continue
        request = Request(question=case.question, current=case.current,
                          selection=case.selection)
        if case.current is not None and case.current not in index.records:
            index.update(case.workspace / case.current)
        with index.lock:
            found = request_features(index, request)
            signals, _ = editor_signals(index, request)
        bm25 = [p for p in split_ranking(space, case) if p != case.current]
        found_cases.append((case.kind, context_dev.Case(
            f"{case.set}-{number}", case.set, case.question, targets, found, bm25, False,
            editor_scores(signals, Weights()), case.current)))
    return found_cases


def cross_validated(found_cases: list[tuple[str, object]]) -> dict[tuple[str, str], Scores]:
    """The question weights fitted on these cases ("fitted") and, per set (a repository or a
    package), fitted on the other sets and scored on it ("cv"): the gap is over-fitting.

    The fit is ``bench/context_dev.py``'s (pairwise, then the kinds' factors); the editor's
    weights (selection, imports, …) stay as they are.
    """
    import context_dev

    from ren_lsp.context.weights import Weights

    every: list[context_dev.Case] = [c for _, c in found_cases]  # type: ignore[misc]
    fitted = context_dev.fit(every, Weights())
    print("weights fitted on these cases:", context_dev._changed(fitted), file=sys.stderr)
    held_out = {name: context_dev.fit([c for c in every if c.repo != name], Weights())
                for name in sorted({c.repo for c in every})}
    results: dict[tuple[str, str], Scores] = {}
    for (kind, _), fit_case in zip(found_cases, every, strict=True):
        for method, weights in (("fitted", fitted), ("cv", held_out[fit_case.repo])):
            ranking = context_dev.ranking(fit_case, weights)
            for group in (kind, "all"):
                results.setdefault((method, group), Scores()).add(ranking, fit_case.gold)
    return results


def report(results: dict[tuple[str, str], Scores]) -> None:
    kinds = [*sorted({kind for _, kind in results} - {"all"}), "all"]
    methods = [*METHODS, *(m for m in ("fitted", "cv") if (m, "all") in results)]
    print(f"{'cases':<12} {'n':>4}  " + "  ".join(f"{m:>21}" for m in methods))
    print(f"{'':<12} {'':>4}  " + "  ".join(f"{'recall@5    MRR':>21}" for _ in methods))
    for kind in kinds:
        n = len(results[("engine", kind)].recall)
        row = "  ".join(f"{results[(m, kind)].recall_at_5:>12.3f} {results[(m, kind)].mrr:>8.3f}"
                        for m in methods)
        print(f"{kind:<12} {n:>4}  {row}")
    engine, plain, split = (results[(m, "all")] for m in METHODS)
    print(f"\nengine vs bm25-plain: recall@5 x{engine.recall_at_5 / plain.recall_at_5:.2f}, "
          f"MRR x{engine.mrr / plain.mrr:.2f}; vs bm25-split: recall@5 "
          f"x{engine.recall_at_5 / split.recall_at_5:.2f}, MRR x{engine.mrr / split.mrr:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer cases, no standard library")
    parser.add_argument("--fit", action="store_true",
                        help="also fit the question weights on these cases, and cross-validate "
                             "the fit by set (repository or package)")
    parser.add_argument("--save-features", type=Path, metavar="FILE",
                        help="keep the cases' features for bench/context_dev.py --extra FILE")
    parser.add_argument("--show-misses", action="store_true",
                        help="list the cases where the engine's top 5 misses every answer")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as temporary:
        cases = all_cases(args.quick, Path(temporary) / "history")
        results = evaluate(cases, cache=Path(temporary) / "cache", show_misses=args.show_misses)
        if args.fit or args.save_features:
            found = fit_cases(cases, Path(temporary) / "cache")
            if args.save_features:
                import pickle

                args.save_features.write_bytes(pickle.dumps(found))
            if args.fit:
                results.update(cross_validated(found))
    report(results)
    print(f"({len(cases)} cases in {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
