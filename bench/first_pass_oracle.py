"""The first pass as it was before it was made fast: the oracle the fast one must equal.

``old_find_secrets`` is ``secrets.find_secrets`` as of commit d4c25f0 (one regular expression's
alternation for the triggers, every pattern run over the whole text, four patterns on every
line that holds a keyword), over the module's current patterns, so that a change to a pattern
is held too. ``old_lexical_fields`` is ``records.lexical_fields`` as of the same commit.
``tests/unit/test_first_pass_equivalence.py`` and ``bench/first_pass.py`` compare them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from ren_lsp.context import kinds, records
from ren_lsp.context import secrets as S
from ren_lsp.context.symbols import LANGUAGES, language_of
from ren_lsp.context.terms import name_terms, pieces_of

_TRIGGERS = re.compile("|".join(sorted(
    {re.escape(t) for _, triggers, _ in S.TOKEN_PATTERNS for t in triggers}, key=len,
    reverse=True)))
_KEYWORDS = re.compile(r"pass(?:word|wd|phrase)|secret|api[_-]?key|apikey|access[_-]?key"
                       r"|private[_-]?key|credential|token")


def old_find_secrets(text: str, extra_patterns: Sequence[str] = (),
                     literals: Sequence[str] = ()) -> list[tuple[int, int, str]]:
    """``find_secrets`` as it was."""
    lower = text.lower()
    if len(lower) != len(text):
        lower = text.encode("ascii", "replace").decode("ascii").lower()
    found: list[tuple[int, int, str]] = []
    present = set(_TRIGGERS.findall(lower))
    for kind, triggers, pattern in S.TOKEN_PATTERNS:
        if present.intersection(triggers):
            found.extend((*S._span(m), kind) for m in re.compile(pattern).finditer(text))
    seen_lines: set[int] = set()
    for hit in _KEYWORDS.finditer(lower):
        line_start = text.rfind("\n", 0, hit.start()) + 1
        if line_start in seen_lines:
            continue
        seen_lines.add(line_start)
        line_end = text.find("\n", hit.end())
        line_end = len(text) if line_end < 0 else line_end
        for pattern, checked in S.ASSIGNMENT_PATTERNS:
            for m in re.compile(pattern).finditer(text, line_start, line_end):
                start, end = S._span(m)
                if not checked or S._unquoted_secret(text[start:end]):
                    found.append((start, end, "assignment"))
    for pattern in extra_patterns:
        found.extend((*S._span(m), "custom") for m in re.compile(pattern).finditer(text))
    for literal in literals:
        if len(literal) >= 4:
            found.extend((m.start(), m.end(), "key")
                         for m in re.finditer(re.escape(literal), text))
    if found and "<redacted:" in text:
        marks = [m.span() for m in S.PLACEHOLDER.finditer(text)]
        found = [f for f in found if not any(a <= f[0] and f[1] <= b for a, b in marks)]
    return S._merge(found)


_HASH_COMMENTS = re.compile(r'"""(.*?)"""|\'\'\'(.*?)\'\'\'|#([^\n]*)', re.DOTALL)
_SLASH_COMMENTS = re.compile(r"/\*(.*?)\*/|//([^\n]*)", re.DOTALL)


def old_comment_text(language: str, text: str) -> str:
    """``records.comment_text`` as it was."""
    if language in records._HASH_LANGUAGES:
        pattern = _HASH_COMMENTS
    elif language:
        pattern = _SLASH_COMMENTS
    else:
        return ""
    return "\n".join(map("".join, pattern.findall(text)))


#: ``records.count_terms`` as it was (``terms.count_terms`` gives the same, slower)
_NOT_LETTERS = bytes.maketrans(
    bytes(b for b in range(256) if not chr(b).isascii() or not chr(b).isalpha()),
    b" " * sum(1 for b in range(256) if not chr(b).isascii() or not chr(b).isalpha()))


@lru_cache(maxsize=200_000)
def _run_terms(run: bytes) -> tuple[str, ...]:
    return tuple(term for term in pieces_of(run.decode("ascii")) if term)


def old_count_terms(text: str) -> Counter[str]:
    """``records.count_terms`` as it was."""
    runs = Counter(text.encode("utf-8", "surrogatepass").translate(_NOT_LETTERS).split())
    terms: dict[str, int] = {}
    get = terms.get
    for run, count in runs.items():
        for term in _run_terms(run):
            terms[term] = get(term, 0) + count
    return Counter(terms)


def old_file_kind(rel: str, head: str = "") -> str:
    """``kinds.file_kind`` as it was (over the module's current rules)."""
    K = kinds
    *folders, name = rel.split("/")
    lower_folders = [f.lower() for f in folders]
    lower = name.lower()
    stem, _, suffix = lower.partition(".")
    suffix = "." + lower.rpartition(".")[2] if "." in lower else ""
    code = suffix in LANGUAGES or suffix in (".jsx", ".mjs", ".cjs")
    if any(f in K._VENDORED_FOLDERS for f in lower_folders):
        return K.VENDORED
    if code and (K._GENERATED_NAME.search(lower) or K._GENERATED_HEADER.search(head)):
        return K.GENERATED
    if bool(K._TEST_NAME.match(name)) or any(f in K._TEST_FOLDERS for f in lower_folders):
        return K.TEST
    if suffix in K._DOC_SUFFIXES or (not code and stem in K._DOC_STEMS) or (
            not code and any(f in K._DOC_FOLDERS for f in lower_folders)):
        return K.DOC
    if any(f in K._DOC_FOLDERS for f in lower_folders):
        return K.DOC
    if any(f in K._EXAMPLE_FOLDERS for f in lower_folders):
        return K.EXAMPLE
    if lower in K._TOOLING_NAMES or K._TOOLING_NAME.match(lower) or (
            lower_folders and lower_folders[0] in K._TOOLING_FOLDERS) or (
            ".github" in lower_folders):
        return K.TOOLING
    if lower.endswith((".pyi", ".d.ts", ".d.mts", ".d.cts")):
        return K.STUB
    if code:
        return K.SOURCE
    if suffix in K._CONFIG_SUFFIXES or lower.startswith("."):
        return K.CONFIG
    return K.OTHER


def old_lexical_fields(rel: str, clean: str, redactions: int = 0) -> records.Lexical:
    """``records.lexical_fields`` as it was."""
    language = language_of(rel)
    terms = old_count_terms(clean)
    notes = old_count_terms(old_comment_text(language, clean))
    return (language, dict(terms), sum(terms.values()), dict(name_terms(rel.split("/"))),
            dict(notes), old_file_kind(rel, clean[:2000]), redactions)


def old_redact(text: str, extra_patterns: Sequence[str] = ()) -> tuple[str, int]:
    """``secrets.redact`` over ``old_find_secrets``."""
    spans = old_find_secrets(text, extra_patterns)
    if not spans:
        return text, 0
    parts: list[str] = []
    position = 0
    for start, end, kind in spans:
        parts.append(text[position:start])
        parts.append(S.MARK.format(kind) + "\n" * text.count("\n", start, end))
        position = end
    parts.append(text[position:])
    return "".join(parts), len(spans)
