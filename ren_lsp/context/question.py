"""What a request's question says about each file: the signals, and the question's share of a
file's score (see ``rank.py`` for the whole ranking)."""

from __future__ import annotations

import math
import re

import attrs

from ren_lsp.context import kinds, lexical, passages
from ren_lsp.context.index import Index
from ren_lsp.context.terms import STOPWORDS, query_terms
from ren_lsp.context.weights import QUESTION_SIGNALS, Weights

#: how many of the first look's best files the graph signals are computed for
GRAPH_CANDIDATES = 100

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
#: a question's word that is surely code: snake_case, camelCase, dotted, called or quoted
_CODE_WORD = re.compile(
    r"`([^`]+)`|\b([A-Za-z_]\w*(?:_\w+|[a-z][A-Z]\w*))\b|\b([A-Za-z_]\w*)\(|\b([A-Z]\w*[a-z]\w*)\b")

#: an identifier made of words (snake_case, camelCase): its request words are part of a name
_COMPOUND = re.compile(r"_|[a-z][A-Z]")


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


@attrs.frozen
class Features:
    """What a question says about each file it matches, each signal scaled to 0..1."""

    #: signal -> key -> value in 0..1
    signals: dict[str, dict[str, float]]
    #: key -> the question's terms the file matches
    hits: dict[str, set[str]]
    #: key -> the question's code words the file defines
    names: dict[str, set[str]]
    #: the question's distinct terms
    terms: tuple[str, ...]
    #: the kinds besides source code the request is about
    wanted: frozenset[str]
    #: key -> the file's kind, for every file with a signal
    kinds: dict[str, str] = attrs.Factory(dict)


def features(index: Index, question: str, *, about: str = "") -> Features:
    """The question's signals for every file it matches (read under the index's lock).

    ``about`` is more of the request's text that decides which kinds it wants (the selection).
    """
    records = index.records
    wanted = kinds.wanted_kinds(question + "\n" + about)
    raw: dict[str, dict[str, float]] = {}
    names: dict[str, set[str]] = {}
    words = code_words(question)
    for name in words:
        keys = index.definers(name)
        if not keys or len(keys) > 25:
            continue
        bucket = raw.setdefault("question_names", {})
        for key in keys:
            bucket[key] = bucket.get(key, 0.0) + 1.0 / len(keys)
            names.setdefault(key, set()).add(name)
    matches = lexical.match(index, query_terms(question, [w for w in words if _COMPOUND.search(w)]))
    raw.update({field: scores for field, scores in matches.fields.items() if scores})
    candidates = set(matches.hits) | set(names)
    if candidates:
        raw["size"] = {key: lexical.size_prior(records[key]) for key in candidates}
    signals = {signal: _scaled(values) for signal, values in raw.items() if values}
    first = _first_look(index, signals, wanted)
    # the graph breaks ties among the likely files: asking it about every file that matches a
    # word would cost more than all the rest (thousands of importer look-ups in a big tree)
    near_top = set(first[:GRAPH_CANDIDATES]) | set(names)
    fan_in = {key: math.log1p(len(index.graph.importers_of(key))) for key in near_top}
    if any(fan_in.values()):
        signals["fan_in"] = _scaled({key: value for key, value in fan_in.items() if value > 0})
    body = signals.get("body", {})
    if body:
        _graph_signals(index, near_top, body, signals)
    if matches.terms:
        # files that match more of the question's distinct words are likelier answers
        signals["coverage"] = {key: len(hits) / len(matches.terms)
                               for key, hits in matches.hits.items()}
    looked = _second_look(index, matches, first[:passages.RERANK])
    signals.update({name: _scaled(values) for name, values in looked.items() if values})
    kind_of = {key: records[key].kind for values in signals.values() for key in values}
    return Features(signals, matches.hits, names, matches.terms, wanted, kind_of)


def question_scores(found: Features, weights: Weights) -> dict[str, float]:
    """Each matching file's question score: its weighted signals times its kind's factor."""
    totals: dict[str, float] = {}
    for signal in QUESTION_SIGNALS:
        weight = getattr(weights, signal)
        if not weight:
            continue
        for key, value in found.signals.get(signal, {}).items():
            totals[key] = totals.get(key, 0.0) + weight * value
    for key in totals:
        totals[key] *= weights.kind_factor(found.kinds.get(key, kinds.SOURCE), found.wanted)
    return totals


def _scaled(values: dict[str, float]) -> dict[str, float]:
    top = max(values.values())
    return {key: value / top for key, value in values.items()} if top > 0 else {}


def _graph_signals(index: Index, candidates: set[str], body: dict[str, float],
                   signals: dict[str, dict[str, float]]) -> None:
    """Neighbours (imports and importers) matching well, and tests named after a file matching."""
    neighbours: dict[str, float] = {}
    for key in candidates:
        near = index.graph.imports_of(key) | index.graph.importers_of(key)
        best = max((body.get(other, 0.0) for other in near), default=0.0)
        if best > 0:
            neighbours[key] = best
    if neighbours:
        signals["neighbours"] = neighbours
    # a test that matches the question points at the code it tests (test_filters.py at
    # filters.py, proxy_test.go at proxy.go, immer.test.ts at immer.ts)
    by_stem: dict[str, float] = {}
    for key, value in body.items():
        record = index.records[key]
        if record.kind == kinds.TEST:
            stem = kinds.tested_stem(record.rel)
            if stem:
                by_stem[stem] = max(by_stem.get(stem, 0.0), value)
    if by_stem:
        tested: dict[str, float] = {}
        for key, record in index.records.items():
            if record.kind == kinds.SOURCE:
                found = by_stem.get(kinds.stem_of(record.rel), 0.0)
                if found:
                    tested[key] = found
        if tested:
            signals["tested"] = tested


def _first_look(index: Index, signals: dict[str, dict[str, float]], wanted: frozenset[str]
                ) -> list[str]:
    """The files best by body, names and path, kinds the request is not about last.

    Fixed rather than fitted, so that which files the graph and the second look consider does
    not depend on the weights being fitted.
    """
    first: dict[str, float] = {}
    for signal in ("body", "defs", "path"):
        for key, value in signals.get(signal, {}).items():
            first[key] = first.get(key, 0.0) + value
    default = Weights()
    for key in first:
        first[key] *= default.kind_factor(index.records[key].kind, wanted)
    return sorted(first, key=lambda key: (-first[key], key))


def _second_look(index: Index, matches: lexical.Matches, best: list[str]
                 ) -> dict[str, dict[str, float]]:
    """Passage, phrase and best-definition scores of the first look's best files."""
    if not best:
        return {}
    count = max(len(index.records), 1)
    passage, phrase = passages.second_look(best, index.text_of, matches.terms, matches.idf)
    names_idf = {t: lexical.idf(count, index.df_names.get(t, 0)) for t in matches.terms}
    definition = {}
    for key in best:
        value = passages.best_definition(index.records[key].definitions, names_idf)
        if value > 0:
            definition[key] = value
    return {"passage": passage, "phrase": phrase, "definition": definition}
