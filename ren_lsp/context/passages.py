"""A second look at the best candidates: their best passage, and the question's phrases in them.

Whole-file BM25 dilutes a change's place in a long file, and loses word order. So the files
ranked best by the first look (``RERANK`` of them) are read again, and two more signals scored:

- **passage**: BM25 of the question over windows of ``WINDOW`` terms (half overlapping); a file
  scores its best window, so the one function that does what the question says counts fully;
- **phrase**: how often two adjacent words of the question stand next to each other in the file
  ("server default" in ``server_default``, "double quoting" in ``_double_quoting``), rare ones
  counting more.

Only the question's terms are counted, so a file is one pass of the tokenizer.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Sequence

from ren_lsp.context.symbols import Definition
from ren_lsp.context.terms import pieces_of

RERANK = 40
#: a passage is this many terms (about 30 lines of code), the next one starting half-way
WINDOW = 200
STRIDE = 100
#: a longer text is cut here: the passage signal is for finding a place, not for reading it all
MAX_CHARS = 400_000
K1 = 1.2
B = 0.75


def second_look(keys: Sequence[str], text_of: Callable[[str], str | None],
                query_terms: Sequence[str], idf: dict[str, float]
                ) -> tuple[dict[str, float], dict[str, float]]:
    """(passage, phrase) raw scores of ``keys`` for the question's terms."""
    wanted = {t for t in query_terms if idf.get(t, 0.0) > 0}
    if not wanted:
        return {}, {}
    pairs = {(a, b) for a, b in itertools.pairwise(query_terms)
             if a in wanted and b in wanted and a != b}
    passage: dict[str, float] = {}
    phrases: dict[str, float] = {}
    for key in keys:
        text = text_of(key)
        if not text:
            continue
        terms = pieces_of(text[:MAX_CHARS])
        found = [(i, t) for i, t in enumerate(terms) if t in wanted]
        if not found:
            continue
        passage[key] = _best_window(found, len(terms), idf)
        count = _pair_count(found, pairs)
        if count:
            phrases[key] = sum((idf[a] + idf[b]) * math.log1p(n) for (a, b), n in count.items())
    return passage, phrases


def _best_window(found: Sequence[tuple[int, str]], length: int, idf: dict[str, float]) -> float:
    """BM25 of the best window of ``WINDOW`` terms (the last one may be shorter)."""
    best = 0.0
    first = 0
    for start in range(0, max(length, 1), STRIDE):
        end = start + WINDOW
        while first < len(found) and found[first][0] < start:
            first += 1
        counts: dict[str, int] = {}
        at = first
        while at < len(found) and found[at][0] < end:
            term = found[at][1]
            counts[term] = counts.get(term, 0) + 1
            at += 1
        if counts:
            size = min(end, length) - start
            norm = K1 * (1 - B + B * size / WINDOW)
            best = max(best, sum(idf[t] * n * (K1 + 1) / (n + norm) for t, n in counts.items()))
        if end >= length:
            break
    return best


def best_definition(definitions: Iterable[Definition], idf: dict[str, float]) -> float:
    """How well the file's best definition (its name and signature) matches the question.

    A file defining many names matches many words across them; the one function whose own
    name and parameters say what the question says is the sharper sign.
    """
    best = 0.0
    for definition in definitions:
        score = sum(idf[t] for t in _definition_terms(definition.name, definition.signature)
                    if t in idf)
        best = max(best, score)
    return best


@functools.lru_cache(maxsize=100_000)
def _definition_terms(name: str, signature: str) -> frozenset[str]:
    # the same definitions come back query after query: split them once
    return frozenset(pieces_of(name)) | frozenset(pieces_of(signature))


def _pair_count(found: Sequence[tuple[int, str]], pairs: set[tuple[str, str]]
                ) -> dict[tuple[str, str], int]:
    """Adjacent query terms: both in the text, one right after the other."""
    if not pairs:
        return {}
    counts: dict[tuple[str, str], int] = {}
    for (i, a), (j, b) in itertools.pairwise(found):
        if j == i + 1 and (a, b) in pairs:
            counts[a, b] = counts.get((a, b), 0) + 1
    return counts
