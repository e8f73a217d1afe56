"""Edits of the user's text: code out of an answer, indentation kept, ranges kept current.

Nothing here talks to the editor; the sessions layer uses it to decide what to send.
"""

from __future__ import annotations

import re

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


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _common_indent(text: str) -> str:
    indents = [_indent_of(line) for line in text.splitlines() if line.strip()]
    if not indents:
        return ""
    common = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(common):
            common = common[:-1]
    return common


def extract_code(answer: str, *, original: str) -> str:
    """The code to put in place of ``original``, taken from Astra's answer.

    The first fenced block if there is one (the prose around it is for the output document),
    else the whole answer. If the answer lost the original's indentation (models often dedent
    a snippet), it is put back; the original's trailing newline is kept as it was.
    """
    blocks = _fenced_blocks(answer)
    code = blocks[0] if blocks else answer.strip("\n")
    code = code.rstrip("\n")
    base, got = _common_indent(original), _common_indent(code)
    if base and not got:
        code = "\n".join(base + line if line.strip() else line for line in code.split("\n"))
    if original.endswith("\n"):
        code += "\n"
    return code
