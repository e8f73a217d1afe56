"""Which files a request should carry, best first, and why.

A file's score adds up signals, each scaled to 0..1 over the files of this query and weighted
(``Weights``):

- **selection**: it defines identifiers of the selection (or code-like words of the question), a
  rare name counting more than one defined in many files;
- **imports** / **importers**: the current file imports it, or it imports the current file;
- **references**: it defines names the current file uses (without importing the file, as with C
  headers, Go packages and Java's same-package classes);
- **lexical**: BM25 of the question's words (identifiers split on case and underscores, light
  stemming) over the file's text, plus the same over its path and definitions' names;
- **open**: the editor has it open; **folder**: it sits beside the current file.

The current file itself always comes first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import attrs

from ren_lsp.context.index import FileRecord, Index
from ren_lsp.context.terms import STOPWORDS, terms_of

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_TEST_FOLDERS = frozenset({"test", "tests", "testing", "__tests__", "spec", "specs", "e2e"})
_TEST_NAME = re.compile(
    r"^(?:test_.*|.*_tests?\.\w+|.*\.(?:test|spec)\.\w+|.*Tests?\.java|conftest\.py)$")
_TEST_WORDS = frozenset({"test", "tests", "tested", "testing", "spec", "specs", "fixture",
                         "fixtures"})
#: a question's word that is surely code: snake_case, camelCase, dotted, called or quoted
_CODE_WORD = re.compile(
    r"`([^`]+)`|\b([A-Za-z_]\w*(?:_\w+|[a-z][A-Z]\w*))\b|\b([A-Za-z_]\w*)\(|\b([A-Z]\w*[a-z]\w*)\b")
K1 = 1.2
B = 0.75


@attrs.frozen
class Weights:
    """How much each signal counts (each is scaled to 0..1 over the files of a query first)."""

    selection: float = 1.6
    question_names: float = 0.6
    imports: float = 0.9
    importers: float = 0.5
    references: float = 0.5
    lexical: float = 1.0
    names_field: float = 0.6
    open: float = 0.3
    folder: float = 0.15
    #: tests named after the current file (test_edits.py for edits.py)
    tests: float = 0.5
    #: the lexical score of a test file is multiplied by this unless the request is about
    #: tests: tests repeat the words of the code they test, and questions are mostly about that
    #: code
    test_lexical: float = 0.6


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


@attrs.frozen
class Request:
    """What one query asks about, in the index's terms."""

    question: str = ""
    current: str | None = None
    selection: str = ""
    open_files: tuple[str, ...] = ()


def is_test_file(rel: str) -> bool:
    """Whether a path looks like a test (by its folders or its name)."""
    *folders, name = rel.split("/")
    return bool(_TEST_NAME.match(name)) or any(f in _TEST_FOLDERS for f in folders)


def identifiers(text: str) -> list[str]:
    """The distinct identifiers of a piece of code, in order."""
    seen: dict[str, None] = {}
    for name in _IDENTIFIER.findall(text):
        if len(name) > 1 and name.lower() not in STOPWORDS:
            seen.setdefault(name, None)
    return list(seen)


def code_words(question: str) -> list[str]:
    """Words of a question that look like code (``parse_config``, ``HttpClient``, ``run()``)."""
    found: dict[str, None] = {}
    for match in _CODE_WORD.finditer(question):
        quoted = match.group(1)
        if quoted:
            for name in identifiers(quoted):
                found.setdefault(name, None)
        else:
            name = next(group for group in match.groups()[1:] if group)
            if name.lower() not in STOPWORDS:
                found.setdefault(name, None)
    return list(found)


def rank(index: Index, request: Request, *, weights: Weights | None = None,
         limit: int = 50) -> list[Ranked]:
    """The indexed files most relevant to ``request``, best first (at most ``limit``)."""
    weights = weights or Weights()
    with index.lock:
        return _rank(index, request, weights, limit)


def _rank(index: Index, request: Request, weights: Weights, limit: int) -> list[Ranked]:
    records = index.records
    current = records.get(request.current) if request.current else None
    signals: dict[str, dict[str, float]] = {}
    reasons: dict[str, list[str]] = {}
    defined_names: dict[str, set[str]] = {}

    def add(signal: str, key: str, value: float) -> None:
        if key in records and value > 0:
            bucket = signals.setdefault(signal, {})
            bucket[key] = bucket.get(key, 0.0) + value

    # identifiers of the selection, and code-like words of the question
    for signal, names in (("selection", identifiers(request.selection)),
                          ("question_names", code_words(request.question))):
        for name in names:
            keys = index.defined_in.get(name)
            if not keys or len(keys) > 25:
                continue
            for key in keys:
                add(signal, key, 1.0 / len(keys))
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
            keys = index.defined_in.get(name)
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

    query_terms = terms_of(request.question)
    matched: dict[str, set[str]] = {}
    if query_terms:
        _lexical(index, query_terms, weights, signals, matched)
        about_tests = bool(_TEST_WORDS & {w.lower() for w in _IDENTIFIER.findall(
            request.question)}) or (current is not None and is_test_file(current.rel))
        if not about_tests:
            lexical = signals.get("lexical", {})
            for key in lexical:
                if is_test_file(records[key].rel):
                    lexical[key] *= weights.test_lexical

    totals: dict[str, float] = {}
    for signal, values in signals.items():
        top = max(values.values())
        weight = getattr(weights, signal)
        for key, value in values.items():
            totals[key] = totals.get(key, 0.0) + weight * value / top

    for key in totals:
        reasons[key] = _reasons(key, signals, defined_names, matched, current)
    ordered = sorted((key for key in totals if current is None or key != current.key),
                     key=lambda key: (-totals[key], key))[:limit]
    ranked = [Ranked(key, round(totals[key], 4), tuple(reasons[key]),
                     frozenset(defined_names.get(key, ())), frozenset(matched.get(key, ())))
              for key in ordered]
    if current is not None:
        first = ranked[0].score if ranked else 0.0
        ranked.insert(0, Ranked(current.key, round(first + 1.0, 4), ("current file",),
                                frozenset(defined_names.get(current.key, ())),
                                frozenset(matched.get(current.key, ())), current=True))
    return ranked[:limit]


def _lexical(index: Index, query_terms: list[str], weights: Weights,
             signals: dict[str, dict[str, float]], matched: dict[str, set[str]]) -> None:
    """BM25 over each file's text, plus a saturating match on its path and definitions' names."""
    count = max(len(index.records), 1)
    average = max(index.total_length / count, 1.0)
    body_idf = {t: _idf(count, index.df_terms.get(t, 0)) for t in query_terms}
    name_idf = {t: _idf(count, index.df_names.get(t, 0)) for t in query_terms}
    scores: dict[str, float] = {}
    for key, record in index.records.items():
        score = 0.0
        hits = set()
        norm = K1 * (1 - B + B * record.length / average)
        for term in query_terms:
            frequency = record.terms.get(term)
            if frequency:
                score += body_idf[term] * frequency * (K1 + 1) / (frequency + norm)
                hits.add(term)
            in_names = record.names.get(term)
            if in_names:
                score += weights.names_field * name_idf[term] * in_names / (in_names + 0.5)
                hits.add(term)
        if score > 0:
            # files that match more of the question's distinct words are likelier answers
            score *= 0.5 + 0.5 * len(hits) / len(query_terms)
            scores[key] = score
            matched[key] = hits
    if scores:
        signals["lexical"] = scores


def _idf(count: int, frequency: int) -> float:
    return math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))


def _reasons(key: str, signals: dict[str, dict[str, float]], names: dict[str, set[str]],
             matched: dict[str, set[str]], current: FileRecord | None) -> list[str]:
    reasons = []
    defined = sorted(names.get(key, ()))
    if key in signals.get("selection", {}):
        reasons.append("defines " + _few(defined) + " (in the selection)")
    elif key in signals.get("question_names", {}):
        reasons.append("defines " + _few(defined) + " (named in the question)")
    if key in signals.get("imports", {}):
        reasons.append("imported by the current file")
    if key in signals.get("importers", {}):
        reasons.append("imports the current file")
    if key in signals.get("references", {}) and key not in signals.get("imports", {}):
        reasons.append("defines names the current file uses")
    if key in matched:
        reasons.append("matches " + _few(sorted(matched[key])))
    if key in signals.get("open", {}):
        reasons.append("open in the editor")
    if key in signals.get("tests", {}):
        reasons.append("tests the current file")
    if key in signals.get("folder", {}) and current is not None:
        reasons.append("beside the current file")
    return reasons


def _few(items: Sequence[str], most: int = 4) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")
