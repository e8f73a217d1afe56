"""What a question's words say about each file: BM25 per field, and priors a search engine uses.

Each file is four fields, scored apart and weighted by the ranking (a BM25F in spirit, with the
field weights fitted on real commit histories, ``bench/context_dev.py``):

- **body**: the whole text; **defs**: the names it defines; **path**: its folders and file name;
  **notes**: its comments and docstrings (what its authors say it does).

Besides those, two query-independent priors that break ties among the matching files: its size
(larger files hold more behaviour, and most changes land in them) and how many files import it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import compress, repeat
from operator import add, and_, mul, or_, rshift, truediv
from typing import TYPE_CHECKING

import attrs

from ren_lsp.context import postings

if TYPE_CHECKING:
    from ren_lsp.context.index import FileRecord, Index

K1 = 1.2
B = 0.75
#: the names and path fields are short: a term that occurs there at all counts almost fully
NAME_K1 = 0.5

FIELDS = ("body", "defs", "path", "notes")


@attrs.define
class Matches:
    """The raw per-file scores of one question, for the files that match any of its terms."""

    #: field -> key -> BM25 score
    fields: dict[str, dict[str, float]] = attrs.Factory(dict)
    #: key -> the question's terms the file matches (in any field)
    hits: dict[str, set[str]] = attrs.Factory(dict)
    #: the question's distinct terms
    terms: tuple[str, ...] = ()
    #: each term's idf over the source files (what the body's BM25 used)
    idf: dict[str, float] = attrs.Factory(dict)


def idf(count: int, frequency: int) -> float:
    """Lucene's BM25 idf: never negative, so a very common term still counts a little."""
    return math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))


def match(index: Index, query_terms: list[str]) -> Matches:
    """BM25 of ``query_terms`` over each field of every indexed file (read under the lock).

    A packed bag (a build's batch's, the cache's) is scored through its segment's postings
    (``postings.py``): the same counts, summed in the same order, so the same scores.
    """
    result = Matches(terms=tuple(query_terms))
    if not query_terms:
        return result
    count = max(len(index.records), 1)
    fields: list[_Field] = []
    source_df, source_count = _source_df(index, query_terms)
    for name, df, total, k1 in (("body", index.df_terms, index.total_length, K1),
                                ("defs", index.df_names, index.total_names, NAME_K1),
                                ("path", index.df_path, index.total_path, NAME_K1),
                                ("notes", index.df_notes, index.total_notes, K1)):
        related = _related(index, name, query_terms) if name in ("defs", "path") else {}
        weights = {t: idf(count, df[t]) for t in (*query_terms, *related) if df.get(t, 0)}
        if name == "body":
            if source_count:
                weights = {t: idf(source_count, source_df.get(t, 0)) for t in weights}
            result.idf = dict(weights)
        result.fields[name] = {}
        if weights:
            fields.append(_Field(name, weights, related, max(total / count, 1.0), k1,
                                 _ATTRIBUTE[name]))
    # Each file's bag is asked for each term (not the bag walked for the terms), and only for
    # the terms some file of the field holds: a few lookups per file instead of one per word
    # it holds. In the question's order, so that the scores' sums are the same in every process.
    wanted = tuple(dict.fromkeys(query_terms))
    plan = [(field.name == "body", field.attribute, tuple(t for t in wanted if t in field.weights),
             tuple(field.related), field.related, field.weights.get, field.k1, field.k1 + 1,
             field.average, result.fields[field.name]) for field in fields]
    scored = {attribute: _from_postings(index, attribute, terms, weight, k1, k1_plus, average,
                                        is_body)
              for is_body, attribute, terms, _, _, weight, k1, k1_plus, average, _ in plan
              if attribute in postings.FIELDS}
    for key, record in index.records.items():
        hits: set[str] | None = None
        for (is_body, attribute, terms, related_terms, related, weight, k1, k1_plus, average,
             scores) in plan:
            bag: Mapping[str, int] = getattr(record, attribute)
            if bag.__class__ is postings.Packed:  # scored through its postings, above
                found = scored[attribute].get(key)
                if found is None:
                    continue
                score, common = found
                expanded: Sequence[str] = ()
            else:
                if not bag:
                    continue
                common = [t for t in terms if t in bag]
                expanded = [t for t in related_terms if t in bag] if related_terms else ()
                if not common and not expanded:
                    continue
                length = record.length if is_body else sum(bag.values())
                norm = k1 * (1 - B + B * length / average)
                score = 0.0
                for term in common:
                    frequency = bag[term]
                    score += weight(term, 0.0) * frequency * k1_plus / (frequency + norm)
                for term in expanded:
                    frequency = bag[term]
                    score += PARTIAL * weight(term, 0.0) * frequency * k1_plus / (
                        frequency + norm)
            if score > 0:
                scores[key] = score
                if hits is None:
                    hits = set()
                hits.update(common)
                hits.update(related[t] for t in expanded)
        if hits:
            result.hits[key] = hits
    return result


def _from_postings(index: Index, attribute: str, terms: tuple[str, ...],
                   weight: Callable[[str, float], float], k1: float, k1_plus: float,
                   average: float, is_body: bool) -> dict[str, tuple[float, list[str]]]:
    """key -> (BM25 of ``terms``, the terms it holds) for the files whose ``attribute`` bag is
    packed: a term at a time through its postings, each file's sum in the terms' order and
    each step the same expression as ``match``'s for a bag (so the same floats). The fields
    scored so have no related terms.

    A common word's postings name most files: each term's postings go through ``map`` (at C
    speed); which terms a file holds is a bit mask, its list made once per distinct mask."""
    found: dict[str, tuple[float, list[str]]] = {}
    held_terms: dict[int, list[str]] = {}
    packed = index.packed_docs(attribute)
    norms_of = index.derived(("norms", attribute, k1, average), lambda: {
        segment: {doc: k1 * (1 - B + B * (record.length if is_body else getattr(
            record, attribute).total) / average) for doc, record in docs.items()}
        for segment, docs in packed.items()})
    for segment, docs in packed.items():
        norms = norms_of[segment]
        gone = len(docs) < len(segment.packed[attribute])  # files changed or gone since
        sums: dict[int, float] = {}
        masks: dict[int, int] = {}
        for bit, term in enumerate(terms):
            held: Iterable[int] | None = segment.docs(attribute, term)
            if held is None:
                continue
            numbers = list(map(rshift, held, repeat(32)))
            if gone:
                live = list(map(norms.__contains__, numbers))
                numbers, held = list(compress(numbers, live)), list(compress(held, live))
            counts = list(map(and_, held, repeat(postings.COUNT_MASK)))
            # weight * frequency * k1_plus / (frequency + norm), per posting
            steps = map(truediv, map(mul, map(mul, repeat(weight(term, 0.0)), counts),
                                     repeat(k1_plus)),
                        map(add, counts, map(norms.__getitem__, numbers)))
            sums.update(zip(numbers, map(add, map(sums.get, numbers, repeat(0.0)), steps),
                            strict=False))
            masks.update(zip(numbers, map(or_, map(masks.get, numbers, repeat(0)),
                                          repeat(1 << bit)), strict=False))
        for doc, score in sums.items():
            mask = masks[doc]
            common = held_terms.get(mask)
            if common is None:
                common = held_terms[mask] = [t for i, t in enumerate(terms) if mask >> i & 1]
            found[docs[doc].key] = (score, common)
    return found


@attrs.frozen
class _Field:
    name: str
    #: term -> idf, for the question's terms and their related name terms
    weights: dict[str, float]
    #: a related name term -> the question's term it stands for
    related: dict[str, str]
    average: float
    k1: float
    attribute: str


#: a name term that only shares a prefix with a question's term counts this much
PARTIAL = 0.5
#: the shortest shared prefix that counts ("env" for environment, "attr" for attributes)
MIN_PREFIX = 3


def _related(index: Index, field: str, query_terms: list[str]) -> dict[str, str]:
    """Name terms that abbreviate or extend a question's term -> that term.

    Names abbreviate (``env``, ``attr``, ``cfg``-less ``config``) and extend (``storage`` for
    "stored") the words a request uses; the body matches exact terms only.
    """
    table = index.df_names if field == "defs" else index.df_path
    found: dict[str, str] = {}
    vocabulary: list[str] | None = None
    for term in query_terms:
        for size in range(MIN_PREFIX, len(term)):
            prefix = term[:size]
            if prefix in table and prefix not in query_terms:
                found.setdefault(prefix, term)
        if len(term) >= 4:
            vocabulary = vocabulary if vocabulary is not None else index.vocabulary(field)
            at = bisect.bisect_right(vocabulary, term)
            while at < len(vocabulary) and vocabulary[at].startswith(term):
                if vocabulary[at] not in query_terms:
                    found.setdefault(vocabulary[at], term)
                at += 1
    return found


_ATTRIBUTE = {"body": "terms", "defs": "names", "path": "path_terms", "notes": "notes"}


def size_prior(record: FileRecord) -> float:
    """log(1 + the number of terms): grows slowly, so it only breaks near ties."""
    return math.log1p(record.length)


def _source_df(index: Index, query_terms: list[str]) -> tuple[dict[str, int], int]:
    """In how many source files each term occurs, and how many source files there are.

    Tests repeat the words of the code they test, so a word of one module is not rare over all
    files; over the source files it is. The files whose body is packed are counted through
    their postings.
    """
    from ren_lsp.context import kinds

    df: dict[str, int] = dict.fromkeys(query_terms, 0)
    count = 0
    for record in index.records.values():
        if record.kind != kinds.SOURCE:
            continue
        count += 1
        bag = record.terms
        if bag.__class__ is postings.Packed:
            continue
        for term in query_terms:
            if term in bag:
                df[term] += 1
    sources = index.derived(("sources",), lambda: {
        segment: {doc for doc, record in docs.items() if record.kind == kinds.SOURCE}
        for segment, docs in index.packed_docs("terms").items()})
    for segment, docs in sources.items():
        for term in query_terms:
            held = segment.docs("terms", term)
            if held is not None:
                df[term] += sum(map(docs.__contains__, map(rshift, held, repeat(32))))
    return df, count
