"""From a model's answer to the text inserted at the cursor: pure functions, tested with
hypothesis. Chat models wrap code in fences, add a sentence, repeat the line they were given or
the text after the cursor, and indent relative to nothing; an inline suggestion must be exactly
the missing middle, or nothing.
"""

from __future__ import annotations

import re

from ren_lsp.text import line_indent

#: an opening fence line (``` or ~~~, an optional tag)
_FENCE_OPEN = re.compile(r"^[ \t]*(```+|~~~+)[\w+#.-]*[ \t]*$")
#: a line of chatter before or instead of the code
_CHATTER = re.compile(
    r"^\s*(sure|certainly|of course|okay|ok|here(?:'s| is| are)?|the (?:completion|code|missing|"
    r"middle|rest)|this (?:completes|fills|code)|completion|i (?:can(?:not|'t)|would|will)|"
    r"note:|answer:)\b.*$", re.IGNORECASE)
#: tokens of fill-in-the-middle formats a model may echo
_FIM_TOKENS = re.compile(r"<\|?(?:fim_(?:prefix|suffix|middle)|cursor|CURSOR|endoftext|"
                         r"file_sep)\|?>|</?(?:CURSOR|FILE|MIDDLE)>")
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def strip_wrapping(answer: str) -> str:
    """The code in an answer: the first fenced block's content (closed or not), or the answer
    without chatter lines before it; FIM tokens removed."""
    text = _FIM_TOKENS.sub("", answer.replace("\r\n", "\n"))
    lines = text.split("\n")
    opening = next((i for i, line in enumerate(lines) if _FENCE_OPEN.match(line)), None)
    if opening is not None:
        marker = _FENCE_OPEN.match(lines[opening])[1]  # type: ignore[index]
        body = []
        for line in lines[opening + 1:]:
            if line.strip().startswith(marker[:3]) and not line.strip().strip(marker[0]):
                break
            body.append(line)
        return "\n".join(body)
    while lines and _CHATTER.match(lines[0]) and (len(lines) == 1 or not lines[0].rstrip()
                                                   .endswith((",", "(", "[", "{", "="))):
        lines.pop(0)
        while lines and not lines[0].strip():
            lines.pop(0)
    return "\n".join(lines)


def drop_repeated_prefix(middle: str, line_before: str) -> str:
    """A model that restates the cursor's line from its start: keep only what is new."""
    typed = line_before.strip()
    if len(typed) >= 3 and middle.lstrip().startswith(typed):
        rest = middle.lstrip()[len(typed):]
        # The space typed after `total =` is in the line already.
        return rest.lstrip(" \t") if line_before[-1:] in (" ", "\t") else rest
    return middle


def _balance(text: str) -> int:
    """Brackets opened minus closed (a negative balance closes what came before)."""
    return sum(text.count(o) for o in "([{") - sum(text.count(c) for c in _CLOSERS)


def trim_suffix_overlap(middle: str, suffix: str) -> str:
    """Remove the end of ``middle`` that repeats the text after the cursor: closing brackets
    the line already has, or whole lines that follow."""
    rest_of_line = suffix.split("\n", 1)[0]
    if rest_of_line and "\n" not in middle:
        for k in range(min(len(rest_of_line), len(middle)), 0, -1):
            overlap = rest_of_line[:k]
            if not middle.endswith(overlap):
                continue
            kept = middle[:-k]
            over_closed = _balance(middle) < 0 and _balance(kept) <= 0
            if over_closed or (k == len(rest_of_line) and k >= 4 and _balance(overlap) == 0):
                return kept
    # Lines at the end of the middle that are the lines after the cursor.
    after = [line.strip() for line in suffix.split("\n")[1:] if line.strip()]
    lines = middle.split("\n")
    for count in range(min(len(after), len(lines) - 1), 0, -1):
        tail = [line.strip() for line in lines[-count:]]
        if tail == after[:count]:
            return "\n".join(lines[:-count]).rstrip()
    return middle


def _opens_block(line: str) -> bool:
    return line.rstrip().endswith((":", "{", "=>", "->", "(", "["))


def reindent(middle: str, line_before: str) -> str:
    """Match the file's indentation.

    On a blank line the cursor is already indented: the first line loses its own indentation;
    later lines already at the cursor's depth or deeper are taken as the file's own, others
    as relative to the first line. After a line that opens a block
    (``def f():``), a body the model indented from zero moves under the cursor's line.
    """
    at = line_indent(line_before)
    first, *rest = middle.split("\n")
    body = [line for line in rest if line.strip()]
    if not line_before.strip():
        own = line_indent(first)
        first = first[len(own):]
        least = min((len(line_indent(line)) for line in body), default=len(at))
        if own or least < len(at):
            # Indented from the model's first line, not from the file: move under the cursor.
            rest = [at + line[len(own):] if line.strip() and line.startswith(own) else
                    line if line.strip() else "" for line in rest]
        return "\n".join([first, *rest])
    if at and body and _opens_block(line_before + first) and min(
            len(line_indent(line)) for line in body) <= len(at):
        rest = [at + line if line.strip() else "" for line in rest]
    return "\n".join([first, *rest])


def limit_lines(middle: str, *, block: bool, max_lines: int, line_before: str) -> str:
    """One line mid-line; else at most ``max_lines``, ending where the block at the cursor
    ends: a line indented less than the cursor's (on a blank line), or no deeper than the
    line that opened the block, belongs to the code after it."""
    lines = middle.split("\n")
    if not block or max_lines <= 1:
        return lines[0].rstrip() if lines[0].strip() else ""
    floor = len(line_indent(line_before))
    opened = bool(line_before.strip()) and _opens_block(line_before + lines[0])
    kept = [lines[0]]
    for line in lines[1:]:
        depth = len(line_indent(line))
        if line.strip() and (depth < floor or (opened and depth <= floor)):
            break
        kept.append(line)
        if len(kept) >= max_lines:
            break
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(line.rstrip() for line in kept)


def shape(answer: str, *, prefix: str, suffix: str, block: bool, max_lines: int) -> str:
    """The text to insert at the cursor for a model's ``answer`` ("" when none fits)."""
    line_before = prefix.rsplit("\n", 1)[-1]
    middle = strip_wrapping(answer)
    if not line_before.strip() or not block:
        middle = middle.lstrip("\n")  # only after `def f():` may the middle start a new line
    middle = drop_repeated_prefix(middle, line_before)
    middle = reindent(middle, line_before)
    middle = limit_lines(middle, block=block, max_lines=max_lines, line_before=line_before)
    middle = trim_suffix_overlap(middle, suffix)
    return middle if middle.strip() else ""
