"""Text documents as an editor holds them: positions in a negotiated encoding, edits, versions.

Written for the test harness independently of the server's own `ren_lsp.edits`, so a bug in one
is not silently mirrored by the other. Lines end at `\\n`, `\\r\\n` or `\\r` only, as the LSP
specification says (not at the other separators `str.splitlines` knows). A position is given
in code units of the negotiated encoding ("utf-8", "utf-16" or "utf-32"); a character past the
end of a line means the end of that line (the specification), a line past the end of the
document means the end of the document (what VS Code does); a position that falls inside a
character (half a surrogate pair, the middle of a UTF-8 sequence) is an error.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from lsprotocol import types

ENCODINGS = ("utf-8", "utf-16", "utf-32")
_EOL = re.compile(r"\r\n|\r|\n")


class EditError(ValueError):
    """An edit a real editor would refuse (bad position, overlapping ranges)."""


def code_units(char: str, encoding: str) -> int:
    """How many code units `char` (one code point) takes in `encoding`."""
    if encoding == "utf-16":
        return 2 if ord(char) > 0xFFFF else 1
    if encoding == "utf-8":
        return len(char.encode("utf-8"))
    if encoding == "utf-32":
        return 1
    raise ValueError(f"unknown position encoding {encoding!r}")


def length_in(text: str, encoding: str) -> int:
    """The length of `text` in code units of `encoding`."""
    return sum(code_units(c, encoding) for c in text)


def line_starts(text: str) -> list[int]:
    """The offset (in code points) where each line starts; always at least one line."""
    return [0, *(m.end() for m in _EOL.finditer(text))]


def _line_end(text: str, starts: Sequence[int], line: int) -> int:
    """Where the content of `line` ends, before its line break."""
    if line + 1 >= len(starts):
        return len(text)
    end = starts[line + 1]
    return end - 2 if text[end - 2:end] == "\r\n" else end - 1


def offset_at(text: str, position: types.Position, encoding: str,
              starts: Sequence[int] | None = None) -> int:
    """The offset in code points of an LSP `position` in `text`."""
    starts = line_starts(text) if starts is None else starts
    if position.line >= len(starts):
        return len(text)
    offset, end = starts[position.line], _line_end(text, starts, position.line)
    units = 0
    while offset < end and units < position.character:
        units += code_units(text[offset], encoding)
        offset += 1
    if units > position.character:
        raise EditError(f"position {position.line}:{position.character} ({encoding}) falls "
                        f"inside the character {text[offset - 1]!r}")
    return offset


def position_at(text: str, offset: int, encoding: str,
                starts: Sequence[int] | None = None) -> types.Position:
    """The LSP position of the code point offset `offset` in `text`."""
    starts = line_starts(text) if starts is None else starts
    line = bisect.bisect_right(starts, offset) - 1
    return types.Position(line=line, character=length_in(text[starts[line]:offset], encoding))


def range_of(text: str, needle: str, encoding: str, occurrence: int = 0) -> types.Range:
    """The range of the `occurrence`-th (0-based) `needle` in `text` (ValueError if absent)."""
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    starts = line_starts(text)
    return types.Range(start=position_at(text, index, encoding, starts),
                       end=position_at(text, index + len(needle), encoding, starts))


def apply_text_edits(
    text: str, edits: Sequence[types.TextEdit], encoding: str,
) -> tuple[str, list[types.TextDocumentContentChangePartial]]:
    """Apply LSP `edits` (all relative to `text`) at once, as the specification says.

    Returns the new text and the incremental changes an editor sends in `didChange` for it:
    one per edit, last in the document first, so each range holds in the text its
    predecessors left. Inserts at the same position land in the order of `edits`.
    Raises EditError for overlapping ranges, a range ending before it starts, or a position
    inside a character.
    """
    starts = line_starts(text)
    spans = []
    for index, edit in enumerate(edits):
        start = offset_at(text, edit.range.start, encoding, starts)
        end = offset_at(text, edit.range.end, encoding, starts)
        if end < start:
            raise EditError(f"edit {index} ends before it starts: {edit.range}")
        spans.append((start, end, index, edit.new_text))
    spans.sort(key=lambda s: (s[0], s[2]))
    for before, after in itertools.pairwise(spans):
        if after[0] < before[1]:
            raise EditError(f"edits {before[2]} and {after[2]} overlap")
    pieces, cursor = [], 0
    for start, end, _, new_text in spans:
        pieces += [text[cursor:start], new_text]
        cursor = end
    pieces.append(text[cursor:])
    changes = [
        types.TextDocumentContentChangePartial(
            range=types.Range(start=position_at(text, start, encoding, starts),
                              end=position_at(text, end, encoding, starts)),
            text=new_text)
        for start, end, _, new_text in reversed(spans)
    ]
    return "".join(pieces), changes


@dataclass
class Document:
    """One open document: what the editor shows and what it last told the server."""

    uri: str
    language_id: str
    version: int
    text: str


LANGUAGE_IDS = {".py": "python", ".md": "markdown", ".txt": "plaintext", ".json": "json",
                ".toml": "toml", ".ts": "typescript", ".js": "javascript", ".rs": "rust",
                ".go": "go", ".lua": "lua", ".sh": "shellscript", ".yaml": "yaml",
                ".yml": "yaml", ".diff": "diff", ".patch": "diff"}


def language_id_for(path: str) -> str:
    """The language id VS Code would give a file of that name (plaintext when unknown)."""
    suffix = path[path.rfind("."):].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return LANGUAGE_IDS.get(suffix, "plaintext")
