"""The first pass as it was before it was made fast: the oracle the fast one must equal.

``old_find_secrets`` is ``secrets.find_secrets`` as of commit d4c25f0 (one regular expression's
alternation for the triggers, every pattern run over the whole text, four patterns on every
line that holds a keyword), over the module's current patterns, so that a change to a pattern
is held too. ``old_lexical_fields`` is ``records.lexical_fields`` as of the same commit.
``tests/unit/test_first_pass_equivalence.py`` and ``bench/first_pass.py`` compare them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ren_lsp.context import secrets as S

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
