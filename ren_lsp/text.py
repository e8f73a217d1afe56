"""Text: code out of an answer, indentation kept, positions in every encoding, ranges kept
current through the user's typing, lines as LSP counts them.

Nothing here talks to the editor; the edit service (``lsp/edits.py``) uses it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing lsprotocol's types takes ~0.35 s: the command line needs none
    from lsprotocol import types

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[^\n`]*\n", re.MULTILINE)


def _fenced_blocks(text: str) -> list[str]:
    """The bodies of the fenced code blocks in Markdown text, in order (unclosed ones too)."""
    blocks, pos = [], 0
    while (opening := _FENCE.search(text, pos)) is not None:
        fence = opening["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$",
                             re.MULTILINE)
        end = closing.search(text, opening.end())
        body_end = end.start() if end else len(text)
        blocks.append(text[opening.end():body_end])
        pos = end.end() if end else len(text)
    return blocks


def line_indent(line: str) -> str:
    """The leading blanks of a line."""
    return line[: len(line) - len(line.lstrip(" \t"))]


def _common_indent(text: str) -> str:
    indents = [line_indent(line) for line in text.splitlines() if line.strip()]
    if not indents:
        return ""
    common = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(common):
            common = common[:-1]
    return common


def extract_code(answer: str, *, original: str, indent: str | None = None) -> str:
    """The code to put in place of ``original``, taken from Astra's answer.

    The first fenced block if there is one (the prose around it is for the output document),
    else the whole answer. If the answer lost the original's indentation (models often dedent
    a snippet), it is put back (``indent`` names it where there is no original, for new code);
    the original's trailing newline is kept as it was.
    """
    blocks = _fenced_blocks(answer)
    code = blocks[0] if blocks else answer.strip("\n")
    code = code.rstrip("\n")
    base = _common_indent(original) if indent is None else indent
    got = _common_indent(code)
    if base and not got:
        code = "\n".join(base + line if line.strip() else line for line in code.split("\n"))
    if original.endswith("\n"):
        code += "\n"
    return code


def text_units(text: str, encoding: str) -> int:
    """The length of ``text`` in the position encoding's units (LSP: utf-16 by default)."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def end_position(text: str, encoding: str) -> tuple[int, int]:
    """The (line, character) just after the last character of ``text``."""
    lines = text.split("\n")
    return len(lines) - 1, text_units(lines[-1], encoding)


class TrackedRange:
    """A range of a document the user may keep editing while Astra works on it.

    Each change the editor reports moves the range (a change wholly above it shifts its lines)
    or marks it in conflict (a change touching its lines: "in or around" the range). A range in
    conflict is never written to: the result goes to an output document instead.
    """

    def __init__(self, uri: str, rng: types.Range) -> None:
        self.uri = uri
        self.range = rng
        self.conflict = False

    def on_change(self, change: types.Range | None, new_text: str) -> None:
        """Follow one content change; ``change`` None means the whole document was replaced."""
        if self.conflict:
            return
        if change is None:
            self.conflict = True  # a full-text sync tells us nothing of where the user typed
            return
        first, last = change.start.line, change.end.line
        start, end = self.range.start, self.range.end
        if last < start.line:
            delta = new_text.count("\n") - (last - first)
            from lsprotocol import types

            self.range = types.Range(
                start=types.Position(line=start.line + delta, character=start.character),
                end=types.Position(line=end.line + delta, character=end.character))
        elif first > end.line:
            pass
        else:
            self.conflict = True


def _units_to_index(line: str, units: int, encoding: str) -> int:
    """The code-point index in ``line`` that is ``units`` units of the encoding in (clamped)."""
    if encoding == "utf-32":
        return min(units, len(line))
    seen = 0
    for index, char in enumerate(line):
        if seen >= units:
            return index
        seen += len(char.encode("utf-8")) if encoding == "utf-8" else (
            2 if ord(char) > 0xFFFF else 1)
    return len(line)


def offset_at(text: str, line: int, character: int, encoding: str) -> int:
    """The index in ``text`` of an LSP position (lines end at \\n; \\r\\n's \\r is no column).

    A line past the end gives the end of the text; a column past the end of its line, the end
    of that line (as the LSP specification asks).
    """
    offset = 0
    lines = text.split("\n")
    if line >= len(lines):
        return len(text)
    for previous in lines[:line]:
        offset += len(previous) + 1
    # Only the \r of a \r\n pair ends a line; a lone \r at the very end is text.
    content = lines[line].removesuffix("\r") if line < len(lines) - 1 else lines[line]
    return offset + _units_to_index(content, character, encoding)


def split_lines(text: str) -> list[str]:
    """Lines as LSP counts them (split at \\n only), each keeping its newline."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def plural(count: int, noun: str, many: str | None = None) -> str:
    """"1 file", "2 files" (``many`` for irregular plurals: "1 match", "3 matches")."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def parse_lines(spec: str, total: int) -> tuple[int, int]:
    """'A-B' (or 'A') to a 1-based inclusive range within a file of ``total`` lines."""
    first, _, last = spec.partition("-")
    try:
        a, b = int(first), int(last or first)
    except ValueError:
        raise ValueError(f"--lines takes A-B, e.g. 10-42 (got {spec!r})") from None
    if a > b:
        raise ValueError(f"--lines {spec} is reversed: the first line comes first, "
                         f"e.g. {b}-{a}")
    if not 1 <= a <= b <= max(total, 1):
        raise ValueError(f"--lines {spec} is outside the file's lines 1-{total}")
    return a, b
