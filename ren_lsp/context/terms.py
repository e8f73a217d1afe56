"""Words for lexical relevance: identifiers split on case and underscores, lower-cased, stemmed.

``parseHTTPResponse``, ``parse_http_response`` and "parsing the HTTP responses" all give
``pars``, ``http``, ``respons``: code and questions about it meet on the same terms.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

#: pieces of identifiers and words: "HTTPResponse" -> "HTTP", "Response"; digits dropped
PIECES = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_PIECES = PIECES

#: English function words, question words and keywords common to most languages
_STOPWORDS = """
a about above after again all also am an and any are as at be because been before being below
between both but by can could did do does doing done down during each either else etc even ever
every few for from further get got had has have having he her here hers him his how i if in into is
it its itself just let like may me might more most much must my no nor not now of off on once only
or other our out over own please same she should show so some such tell than that the their them
then there these they this those through to too under until up us use used using very want was
way we were what when where whether which while who whom why will with within without would you
your yours code thing things
def class self cls return import from none true false null nil var let const function func fn pub
struct impl public private protected static void int str bool new this elif else try except
finally raise throw throws catch async await yield pass break continue lambda end begin do then
"""
STOPWORDS = frozenset(_STOPWORDS.split())


def stem(word: str) -> str:
    """A light English stemmer: plurals, -ing, -ed, a final -e or -y (enough to match forms)."""
    if len(word) <= 3:
        return word
    if word.endswith("ies"):
        word = word[:-3] + "i"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # running -> run
            break
    if len(word) > 3 and word[-1] == "e":
        word = word[:-1]
    elif len(word) > 3 and word[-1] == "y" and word[-2] not in "aeiou":
        word = word[:-1] + "i"
    return word


@lru_cache(maxsize=200_000)
def normal(piece: str) -> str:
    """The term of one piece of an identifier, or '' when it carries no meaning alone."""
    word = piece.lower()
    if len(word) < 2 or word in STOPWORDS:
        return ""
    return stem(word)


def count_terms(text: str) -> Counter[str]:
    """How often each term occurs in ``text``."""
    terms: Counter[str] = Counter()
    for piece, count in Counter(_PIECES.findall(text)).items():
        term = normal(piece)
        if term:
            terms[term] += count
    return terms


def pieces_of(text: str) -> list[str]:
    """The term of every piece of ``text`` in order, '' where a piece carries no meaning."""
    return [normal(piece) for piece in _PIECES.findall(text)]


#: words that say what kind of request it is, not what it is about ("Fix the retry when …",
#: "Add support for …"): they match every file that fixes or adds anything
_REQUEST_WORDS = """
fix fixed fixes fixing bug bugs buggy issue issues add added adds adding support supports
supported allow allows allowed make makes made ensure ensures properly correctly instead now
regression ticket resolve resolves resolved improve improves improved change changes changed
implement implemented handle handles handled possible correct corrected
"""


def query_terms(text: str, code: Iterable[str] = ()) -> list[str]:
    """The terms of a request's words, without the words that only name the kind of request.

    A request word inside one of the request's identifiers (``code``) is kept: "resolve" names
    the kind of request, ``resolve_types`` names the function.
    """
    keep = set(terms_of(" ".join(code)))
    return [term for term in terms_of(text) if term not in _REQUEST_TERMS or term in keep]


def terms_of(text: str) -> list[str]:
    """The distinct terms of ``text`` in order of first appearance (a query's terms)."""
    seen: dict[str, None] = {}
    for piece in _PIECES.findall(text):
        term = normal(piece)
        if term:
            seen.setdefault(term, None)
    return list(seen)


def name_terms(names: Iterable[str]) -> Counter[str]:
    """The terms of names (a path's parts, definitions' names)."""
    terms: Counter[str] = Counter()
    for name in names:
        for term in name_pieces(name):
            terms[term] += 1
    return terms


@lru_cache(maxsize=100_000)
def name_pieces(name: str) -> tuple[str, ...]:
    """The terms of one name, in order (names repeat across files: each is split once)."""
    return tuple(term for piece in _PIECES.findall(name) if (term := normal(piece)))


_REQUEST_TERMS = frozenset(filter(None, (normal(word) for word in _REQUEST_WORDS.split())))
