"""A second look at the best candidates: their best passage, and the question's phrases in them.

Whole-file BM25 dilutes a change's place in a long file, and loses word order. So the files
ranked best by the first look (``RERANK`` of them) are read again, and two more signals scored:

- **passage**: BM25 of the question over windows of ``WINDOW`` terms (half overlapping); a file
  scores its best window, so the one function that does what the question says counts fully;
- **phrase**: how often two adjacent words of the question stand next to each other in the file
  ("server default" in ``server_default``, "double quoting" in ``_double_quoting``), rare ones
  counting more.

Only the question's terms are counted, and only where they can be: the file's lower-cased text
is searched for the terms' prefixes (one pass of the regular-expression engine), and only the
words found are split into terms, so a file is never tokenized whole. Positions are characters:
a passage is ``WINDOW`` characters (about 30 lines), the next one starting half-way.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence

from ren_lsp.context.symbols import Definition
from ren_lsp.context.terms import PIECES, normal, pieces_of

RERANK = 40
#: a passage is this many characters (about 30 lines of code), the next one starting half-way
WINDOW = 1800
STRIDE = 900
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
    search = _prefix_pattern(wanted)
    for key in keys:
        text = text_of(key)
        if not text:
            continue
        text = text[:MAX_CHARS]
        found = occurrences(text, wanted, search)
        if not found:
            continue
        passage[key] = _best_window(found, len(text), idf)
        count = _pair_count(text, found, pairs)
        if count:
            phrases[key] = sum((idf[a] + idf[b]) * math.log1p(n) for (a, b), n in count.items())
    return passage, phrases


#: (start, end, term): where a piece of the text that is one of the question's terms lies
Occurrence = tuple[int, int, str]


def occurrences(text: str, wanted: set[str], search: re.Pattern[str] | None = None
                ) -> list[Occurrence]:
    """Every piece of ``text`` whose term is in ``wanted``, in order: the same pieces as
    splitting the whole text (``terms.pieces_of``), found without splitting all of it.

    A piece's term is its lower-cased form stemmed, and the stemmer only cuts a word's end (or
    turns a final y into i), so every such piece starts with its term less the last letter:
    only the words holding one of those prefixes are split.
    """
    lowered = text.lower()
    if len(lowered) != len(text):
        # a few letters lower to two ("İ"), which would shift the offsets: split it all
        return [(m.start(), m.end(), term) for m in PIECES.finditer(text)
                if (term := normal(m.group())) in wanted]
    search = search or _prefix_pattern(wanted)
    found: list[Occurrence] = []
    done = 0
    for match in search.finditer(lowered):
        at = match.start()
        if at < done:
            continue
        start = at
        while start > 0 and lowered[start - 1] in _LETTERS:
            start -= 1
        end = _LETTERS_RUN.match(lowered, at).end()  # type: ignore[union-attr]
        for piece in PIECES.finditer(text, start, end):
            term = normal(piece.group())
            if term in wanted:
                found.append((piece.start(), piece.end(), term))
        done = end
    return found


_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
_LETTERS_RUN = re.compile(r"[a-z]*")


def _prefix_pattern(wanted: set[str]) -> re.Pattern[str]:
    prefixes = {term[:-1] if len(term) > 2 else term for term in wanted}
    return re.compile("|".join(sorted(map(re.escape, prefixes), key=len, reverse=True)))


def _best_window(found: Sequence[Occurrence], length: int, idf: dict[str, float]) -> float:
    """BM25 of the best window of ``WINDOW`` characters (the last one may be shorter)."""
    best = 0.0
    first = 0
    for start in range(0, max(length, 1), STRIDE):
        end = start + WINDOW
        while first < len(found) and found[first][0] < start:
            first += 1
        counts: dict[str, int] = {}
        at = first
        while at < len(found) and found[at][0] < end:
            term = found[at][2]
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


def _pair_count(text: str, found: Sequence[Occurrence], pairs: set[tuple[str, str]]
                ) -> dict[tuple[str, str], int]:
    """Adjacent query terms: both in the text, one right after the other (no letter between,
    so no other piece: ``server_default``, "server default", ``serverDefault``)."""
    if not pairs:
        return {}
    counts: dict[tuple[str, str], int] = {}
    for (_, end, a), (start, _, b) in itertools.pairwise(found):
        if (a, b) in pairs and not _LETTER.search(text, end, start):
            counts[a, b] = counts.get((a, b), 0) + 1
    return counts


_LETTER = re.compile(r"[A-Za-z]")
