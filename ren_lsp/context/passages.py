"""A second look at the best candidates: their best passage, and the question's phrases in them.

Whole-file BM25 dilutes a change's place in a long file, and loses word order. So the files
ranked best by the first look (``RERANK`` of them) are read again, and two more signals scored:

- **passage**: BM25 of the question over windows of ``WINDOW`` lines (half overlapping); a file
  scores its best window, so the one function that does what the question says counts fully;
- **phrase**: how often two adjacent words of the question stand next to each other in the file
  ("server default" in ``server_default``, "double quoting" in ``_double_quoting``), rare ones
  counting more.

Only the question's terms are counted, so a file is one pass of the tokenizer.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence

from ren_lsp.context.symbols import Definition
from ren_lsp.context.terms import pieces_of

RERANK = 40
WINDOW = 30
STRIDE = 15
#: a longer text is cut here: the passage signal is for finding a place, not for reading it all
MAX_CHARS = 400_000
K1 = 1.2
B = 0.75


def second_look(keys: Sequence[str], text_of: Callable[[str], str | None],
                query_terms: Sequence[str], idf: dict[str, float]
                ) -> tuple[dict[str, float], dict[str, float]]:
    """(passage, phrase) raw scores of ``keys`` for the question's terms."""
    wanted = {t for t in query_terms if idf.get(t, 0.0) > 0}
    pairs = {(a, b) for a, b in itertools.pairwise(query_terms)
             if a in wanted and b in wanted and a != b}
    windows: dict[str, list[tuple[int, dict[str, int]]]] = {}
    phrases: dict[str, float] = {}
    if not wanted:
        return {}, {}
    for key in keys:
        text = text_of(key)
        if not text:
            continue
        lines = _line_terms(text[:MAX_CHARS].split("\n"), wanted)
        windows[key] = _windows(lines)
        count = _pair_count(lines, pairs)
        if count:
            phrases[key] = sum((idf[a] + idf[b]) * math.log1p(n) for (a, b), n in count.items())
    lengths = [length for found in windows.values() for length, _ in found]
    average = max(sum(lengths) / len(lengths), 1.0) if lengths else 1.0
    passage: dict[str, float] = {}
    for key, found in windows.items():
        best = 0.0
        for length, counts in found:
            norm = K1 * (1 - B + B * length / average)
            score = sum(idf[t] * n * (K1 + 1) / (n + norm) for t, n in counts.items())
            best = max(best, score)
        if best > 0:
            passage[key] = best
    return passage, phrases


def best_definition(definitions: Iterable[Definition], idf: dict[str, float]) -> float:
    """How well the file's best definition (its name and signature) matches the question.

    A file defining many names matches many words across them; the one function whose own
    name and parameters say what the question says is the sharper sign.
    """
    best = 0.0
    for definition in definitions:
        terms = set(pieces_of(definition.name)) | set(pieces_of(definition.signature))
        score = sum(idf[t] for t in terms if t in idf)
        best = max(best, score)
    return best


#: one line: how many terms it has, and the question's terms in it with their positions
_Line = tuple[int, list[tuple[int, str]]]


def _line_terms(lines: Iterable[str], wanted: set[str]) -> list[_Line]:
    result = []
    for line in lines:
        terms = pieces_of(line)
        result.append((len(terms), [(i, t) for i, t in enumerate(terms) if t in wanted]))
    return result


def _windows(lines: Sequence[_Line]) -> list[tuple[int, dict[str, int]]]:
    found = []
    for start in range(0, max(len(lines), 1), STRIDE):
        length = 0
        counts: dict[str, int] = {}
        for size, terms in lines[start:start + WINDOW]:
            length += size
            for _, term in terms:
                counts[term] = counts.get(term, 0) + 1
        if counts:
            found.append((length, counts))
        if start + WINDOW >= len(lines):
            break
    return found


def _pair_count(lines: Sequence[_Line], pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Adjacent query terms, counted where both are in one line and nothing stands between."""
    if not pairs:
        return {}
    counts: dict[tuple[str, str], int] = {}
    for _, terms in lines:
        for (i, a), (j, b) in itertools.pairwise(terms):
            if j == i + 1 and (a, b) in pairs:
                counts[a, b] = counts.get((a, b), 0) + 1
    return counts
