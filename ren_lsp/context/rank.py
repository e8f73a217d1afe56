"""Which files a request should carry, best first, and why.

A file's score has two parts. **What the question's words say** (``lexical.py``): BM25 over the
file's body, the names it defines, its path and its comments; the question's code-like words
(``parse_config``, ``HttpClient``) matched to the files defining them; the share of the question's
terms it matches; and two small priors that break ties (its size, how many files import it, and
how well its import neighbours match). That part is scaled by the file's kind (``kinds.py``):
tests, documentation, examples and generated code count less unless the request is about them,
since changelogs and tests repeat the words of the code a request needs. **What the editor says**:

- **selection**: it defines identifiers of the selection, a rare name counting more;
- **imports** / **importers**: the current file imports it, or it imports the current file;
- **references**: it defines names the current file uses (without importing the file, as with C
  headers, Go packages and Java's same-package classes);
- **open**: the editor has it open; **folder**: it sits beside the current file; **tests**: a
  test named after the current file.

Each signal is scaled to 0..1 over the files of the query, then weighted (``Weights``). The
question weights are fitted on real commit histories with cross-validation by repository
(``bench/context_dev.py``). The current file itself always comes first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

from ren_lsp.context import kinds
from ren_lsp.context.index import FileRecord, Index
from ren_lsp.context.question import Features, code_words, features, identifiers, question_scores
from ren_lsp.context.weights import Weights

__all__ = ["Features", "Ranked", "Request", "Weights", "code_words", "editor_scores",
           "editor_signals", "features", "identifiers", "is_test_file", "question_scores", "rank",
           "request_features"]

@attrs.frozen
class Ranked:
    """One file's place in the ranking, with what the renderer needs to pick its snippets."""

    key: str
    score: float
    reasons: tuple[str, ...]
    #: identifiers of the request that this file defines
    names: frozenset[str] = frozenset()
    #: the request's terms found in this file
    terms: frozenset[str] = frozenset()
    current: bool = False
    #: what the file is for (``kinds.py``): source, test, doc, …
    kind: str = kinds.SOURCE


@attrs.frozen
class Request:
    """What one query asks about, in the index's terms."""

    question: str = ""
    current: str | None = None
    selection: str = ""
    open_files: tuple[str, ...] = ()


def is_test_file(rel: str) -> bool:
    """Whether a path looks like a test (by its folders or its name)."""
    return kinds.is_test_path(rel)


def rank(index: Index, request: Request, *, weights: Weights | None = None,
         limit: int = 50) -> list[Ranked]:
    """The indexed files most relevant to ``request``, best first (at most ``limit``)."""
    weights = weights or Weights()
    with index.lock:
        return _rank(index, request, weights, limit)


def editor_signals(index: Index, request: Request
                   ) -> tuple[dict[str, dict[str, float]], dict[str, set[str]]]:
    """The editor's signals (selection, imports, …; raw, unscaled) and the selection's names
    each file defines (read under the index's lock)."""
    records = index.records
    current = records.get(request.current) if request.current else None
    signals: dict[str, dict[str, float]] = {}
    defined_names: dict[str, set[str]] = {}

    def add(signal: str, key: str, value: float) -> None:
        if key in records and value > 0:
            bucket = signals.setdefault(signal, {})
            bucket[key] = bucket.get(key, 0.0) + value

    for name in identifiers(request.selection):
        keys = index.definers(name)
        if not keys or len(keys) > 25:
            continue
        for key in keys:
            add("selection", key, 1.0 / len(keys))
            defined_names.setdefault(key, set()).add(name)

    if current is not None:
        for key in index.graph.imports_of(current.key):
            add("imports", key, 1.0)
        for key in index.graph.importers_of(current.key):
            add("importers", key, 1.0)
        own = {d.name for d in current.definitions}
        for name in current.references:
            if len(name) < 3 or name in own:
                continue
            keys = index.definers(name)
            if keys and len(keys) <= 4:
                for key in keys:
                    add("references", key, 1.0 / len(keys))
        folder = current.rel.rpartition("/")[0]
        stem = current.rel.rpartition("/")[2].partition(".")[0].lower()
        current_is_test = is_test_file(current.rel)
        for key, record in records.items():
            if record.root == current.root and record.rel.rpartition("/")[0] == folder:
                add("folder", key, 1.0)
            if not current_is_test and len(stem) > 2 and is_test_file(record.rel):
                name = record.rel.rpartition("/")[2].lower()
                if re.search(rf"(?:^|[_.\-]){re.escape(stem)}(?:[_.\-]|$)", name):
                    add("tests", key, 1.0)

    for key in request.open_files:
        add("open", key, 1.0)
    return signals, defined_names


def editor_scores(signals: dict[str, dict[str, float]], weights: Weights) -> dict[str, float]:
    """The editor's part of each file's score: its signals scaled to 0..1 and weighted."""
    totals: dict[str, float] = {}
    for signal, values in signals.items():
        top = max(values.values())
        weight = getattr(weights, signal)
        for key, value in values.items():
            totals[key] = totals.get(key, 0.0) + weight * value / top
    return totals


def request_features(index: Index, request: Request) -> Features:
    """The question's features for a request (a request from a test is about tests)."""
    current = index.records.get(request.current) if request.current else None
    about = request.selection
    if current is not None and is_test_file(current.rel):
        about += "\ntest"
    return features(index, request.question, about=about)


def _rank(index: Index, request: Request, weights: Weights, limit: int) -> list[Ranked]:
    records = index.records
    current = records.get(request.current) if request.current else None
    signals, defined_names = editor_signals(index, request)
    found = request_features(index, request)
    for key, names in found.names.items():
        defined_names.setdefault(key, set()).update(names)
    totals = question_scores(found, weights)
    for key, value in editor_scores(signals, weights).items():
        totals[key] = totals.get(key, 0.0) + value

    ordered = sorted((key for key in totals if totals[key] > 0 and (
        current is None or key != current.key)), key=lambda key: (-totals[key], key))[:limit]
    ranked = [Ranked(key, round(totals[key], 4),
                     tuple(_reasons(key, signals, found, defined_names, current, records)),
                     frozenset(defined_names.get(key, ())), frozenset(found.hits.get(key, ())),
                     kind=records[key].kind)
              for key in ordered]
    if current is not None:
        first = ranked[0].score if ranked else 0.0
        ranked.insert(0, Ranked(current.key, round(first + 1.0, 4), ("current file",),
                                frozenset(defined_names.get(current.key, ())),
                                frozenset(found.hits.get(current.key, ())), current=True,
                                kind=current.kind))
    return ranked[:limit]


def _reasons(key: str, signals: dict[str, dict[str, float]], found: Features,
             names: dict[str, set[str]], current: FileRecord | None,
             records: dict[str, FileRecord]) -> list[str]:
    reasons = []
    defined = sorted(names.get(key, ()))
    if key in signals.get("selection", {}):
        reasons.append("defines " + _few(defined) + " (in the selection)")
    elif key in found.signals.get("question_names", {}):
        reasons.append("defines " + _few(defined) + " (named in the question)")
    if key in signals.get("imports", {}):
        reasons.append("imported by the current file")
    if key in signals.get("importers", {}):
        reasons.append("imports the current file")
    if key in signals.get("references", {}) and key not in signals.get("imports", {}):
        reasons.append("defines names the current file uses")
    if key in found.hits:
        fields = [field for field in ("path", "defs", "notes")
                  if key in found.signals.get(field, {})]
        where = f" (in its {_FIELD_NAMES[fields[0]]})" if len(fields) == 1 else ""
        reasons.append("matches " + _few(sorted(found.hits[key])) + where)
    if key in signals.get("open", {}):
        reasons.append("open in the editor")
    if key in signals.get("tests", {}):
        reasons.append("tests the current file")
    if key in signals.get("folder", {}) and current is not None:
        reasons.append("beside the current file")
    kind = records[key].kind
    if kind != kinds.SOURCE:
        wanted = kind in found.wanted
        lowered = not wanted and key in found.hits
        reasons.append(kinds.LABELS[kind] + (
            ", ranked lower: the request is not about it" if lowered else ""))
    return reasons


_FIELD_NAMES = {"path": "path", "defs": "definitions' names", "notes": "comments"}


def _few(items: Sequence[str], most: int = 4) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")
