"""The context text: a compact map of the most relevant files with their signatures, then the most
relevant snippets, within a token budget.

Tokens are estimated as characters / 4 (``estimate_tokens``), close enough for English and code
with the tokenizers in use, and never an under-count by much; the text never exceeds the budget
by that estimate. Every file's text is redacted whole before a snippet is cut from it, and the
finished text is redacted once more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

from ren_lsp.context.index import FileRecord, Index
from ren_lsp.context.rank import Ranked
from ren_lsp.context.secrets import redact
from ren_lsp.context.symbols import Definition
from ren_lsp.context.terms import name_terms, terms_of
from ren_lsp.prompts import fence, language_of

CHARS_PER_TOKEN = 4
MAP_SHARE = 0.35
MAP_FILES = 15
SIGNATURES_PER_FILE = 10
SNIPPET_FILES = 8
SNIPPET_LINES = 60
WINDOW_LINES = 24


def estimate_tokens(text: str) -> int:
    """Tokens of ``text``, estimated as characters / 4, rounded up."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@attrs.frozen
class Rendered:
    text: str
    tokens: int
    redactions: int


@attrs.frozen
class _Snippet:
    key: str
    start: int
    end: int
    score: float


def render(index: Index, ranked: Sequence[Ranked], *, question: str, budget: int,
           secret_patterns: Sequence[str] = ()) -> Rendered:
    """The context for the ranked files, at most ``budget`` tokens (by ``estimate_tokens``)."""
    limit = budget * CHARS_PER_TOKEN
    if not ranked or limit <= 0:
        return Rendered("", 0, 0)
    with index.lock:
        records = {r.key: index.records[r.key] for r in ranked if r.key in index.records}
    query_terms = set(terms_of(question))
    map_text = _map(records, ranked, query_terms, int(limit * MAP_SHARE))
    remaining = limit - len(map_text)
    texts: dict[str, list[str]] = {}
    redactions = 0
    snippets = []
    for place, item in enumerate(r for r in ranked if not r.current and r.key in records):
        if place >= SNIPPET_FILES:
            break
        text = index.text_of(item.key)
        if text is None:
            continue
        clean, count = redact(text, secret_patterns)
        redactions += count
        texts[item.key] = clean.splitlines()
        snippets.extend(_snippets(records[item.key], item, texts[item.key], query_terms))
    body = _fill(snippets, texts, records, remaining)
    text = map_text + body
    text, count = redact(text, secret_patterns)
    if len(text) > limit:  # a redaction mark is longer than what it replaced
        text = text[: text.rfind("\n", 0, limit) + 1]
    return Rendered(text, estimate_tokens(text), redactions + count)


# -- the map --------------------------------------------------------------------------------------


def _map(records: dict[str, FileRecord], ranked: Sequence[Ranked], query_terms: set[str],
         limit: int) -> str:
    header = "Repository map (most relevant files first):\n"
    lines = [header]
    used = len(header)
    for item in ranked[:MAP_FILES]:
        record = records.get(item.key)
        if record is None:
            continue
        entry = _map_entry(record, item, query_terms)
        if used + len(entry) > limit:
            entry = entry.split("\n", 1)[0] + "\n"  # the path alone, then stop
            if used + len(entry) > limit:
                break
        lines.append(entry)
        used += len(entry)
    return "".join(lines) + "\n" if len(lines) > 1 else ""


def _map_entry(record: FileRecord, item: Ranked, query_terms: set[str]) -> str:
    mark = " (current file)" if item.current else ""
    shown = _pick_signatures(record.definitions, item.names, query_terms)
    lines = [f"{item.key}{mark}"]
    for definition in shown:
        indent = "    " if definition.parent else "  "
        lines.append(f"{indent}{definition.signature}")
    hidden = len(record.definitions) - len(shown)
    if hidden > 0:
        lines.append(f"  … {hidden} more")
    return "\n".join(lines) + "\n"


def _pick_signatures(definitions: Sequence[Definition], names: frozenset[str],
                     query_terms: set[str]) -> list[Definition]:
    """The definitions worth showing: the request's, then top-level ones, in file order."""
    def weight(definition: Definition) -> tuple[int, int, int]:
        relevant = definition.name in names or bool(
            query_terms & set(name_terms([definition.name])))
        return (0 if relevant else 1, 1 if definition.parent else 0, definition.line)

    chosen = sorted(definitions, key=weight)[:SIGNATURES_PER_FILE]
    return sorted(chosen, key=lambda d: d.line)


# -- the snippets ---------------------------------------------------------------------------------


def _snippets(record: FileRecord, item: Ranked, lines: list[str],
              query_terms: set[str]) -> list[_Snippet]:
    """The parts of a file worth quoting: definitions the request names, else the densest window."""
    found: list[_Snippet] = []
    for definition in record.definitions:
        score = 0.0
        if definition.name in item.names:
            score += 3.0
        score += len(query_terms & set(name_terms([definition.name])))
        if score == 0:
            continue
        end = min(definition.end_line, definition.line + SNIPPET_LINES - 1, len(lines) - 1)
        if definition.kind in ("class", "interface", "struct", "trait", "impl", "namespace",
                               "module") and definition.end_line - definition.line > 20:
            end = min(end, definition.line + 20)  # a big container: its head and first members
        found.append(_Snippet(item.key, definition.line, end, item.score * score))
    if found:
        found.sort(key=lambda s: -s.score)
        return _without_overlaps(found)[:3]
    window = _best_window(lines, query_terms)
    if window is not None:
        return [_Snippet(item.key, window[0], window[1], item.score * 0.5)]
    if lines:  # a related file with nothing named: its head (imports, docstring, first defs)
        return [_Snippet(item.key, 0, min(len(lines), WINDOW_LINES) - 1, item.score * 0.25)]
    return []


def _without_overlaps(snippets: list[_Snippet]) -> list[_Snippet]:
    kept: list[_Snippet] = []
    for snippet in snippets:
        if all(snippet.end < other.start or snippet.start > other.end for other in kept):
            kept.append(snippet)
    return kept


def _best_window(lines: list[str], query_terms: set[str]) -> tuple[int, int] | None:
    if not query_terms or not lines:
        return None
    hits = [len(query_terms & set(terms_of(line))) for line in lines]
    if not any(hits):
        return None
    best_start, best = 0, -1
    running = sum(hits[:WINDOW_LINES])
    for start in range(max(len(lines) - WINDOW_LINES + 1, 1)):
        if start:
            running += (hits[start + WINDOW_LINES - 1] if start + WINDOW_LINES - 1 < len(hits)
                        else 0) - hits[start - 1]
        if running > best:
            best_start, best = start, running
    first_hit = next(i for i in range(best_start, len(hits)) if hits[i])
    start = max(best_start, first_hit - 3)
    return start, min(start + WINDOW_LINES, len(lines)) - 1


def _fill(snippets: list[_Snippet], texts: dict[str, list[str]],
          records: dict[str, FileRecord], limit: int) -> str:
    header = "Relevant code:\n\n"
    if not snippets or limit <= len(header) + 40:
        return ""
    parts = [header]
    used = len(header)
    for snippet in sorted(snippets, key=lambda s: -s.score):
        lines = texts[snippet.key]
        block = _block(snippet, lines, records[snippet.key])
        if used + len(block) > limit:
            # shorten it to what fits, when that leaves something worth reading
            room = limit - used
            block = _shortened(snippet, lines, records[snippet.key], room)
            if not block:
                continue
        parts.append(block)
        used += len(block)
    return "".join(parts) if len(parts) > 1 else ""


def _block(snippet: _Snippet, lines: list[str], record: FileRecord,
           end: int | None = None) -> str:
    last = snippet.end if end is None else end
    code = "\n".join(lines[snippet.start:last + 1])
    more = "\n…" if last < snippet.end or (end is None and last < len(lines) - 1
                                            and _cut(snippet, record)) else ""
    where = f"{snippet.key}, lines {snippet.start + 1}-{last + 1}"
    return f"{where}:\n{fence(code + more, language_of(record.rel))}\n\n"


def _cut(snippet: _Snippet, record: FileRecord) -> bool:
    """Whether the snippet stops before the definition it shows ends."""
    return any(d.line == snippet.start and d.end_line > snippet.end for d in record.definitions)


def _shortened(snippet: _Snippet, lines: list[str], record: FileRecord, room: int) -> str:
    for end in range(snippet.end - 1, snippet.start + 3, -1):
        block = _block(snippet, lines, record, end)
        if len(block) <= room:
            return block
    return ""

