"""The syntax at the cursor, from tree-sitter: whether a completion may be a block, and whether
it would break the file. Languages without a grammar get the line-based answer.
"""

from __future__ import annotations

import functools
from typing import Any

from ren_lsp.context.symbols import parser_for

#: lines before / after the cursor that are parsed: the syntax there decides, and a parse of
#: a few dozen lines takes a fraction of a millisecond where the whole file takes several
NEAR_BEFORE, NEAR_AFTER = 60, 30


def near(prefix: str, suffix: str) -> tuple[str, str]:
    """The lines around the cursor that are parsed (cut at line boundaries)."""
    lines = prefix.split("\n")
    if len(lines) > NEAR_BEFORE:
        prefix = "\n".join(lines[-NEAR_BEFORE:])
    after = suffix.split("\n")
    if len(after) > NEAR_AFTER:
        suffix = "\n".join(after[:NEAR_AFTER]) + "\n"
    return prefix, suffix

#: node types that mean "inside a string or a comment": a completion there finishes the line
_TEXTUAL = ("string", "comment", "template_string", "string_literal", "raw_string_literal",
            "char_literal", "line_comment", "block_comment", "interpreted_string_literal",
            "string_content", "string_fragment")
#: what ends a line that opens a block: Python's colon, the C family's brace, arrows
_OPENERS = (":", "{", "=>", "->", "(", "[", " do", " then")


def _point(text: str) -> tuple[int, int]:
    """The tree-sitter point (row, UTF-8 byte column) at the end of ``text``."""
    line = text.rsplit("\n", 1)[-1]
    return text.count("\n"), len(line.encode("utf-8"))


def _parse(language: str, text: str) -> Any | None:
    parser = parser_for(language)
    if parser is None:
        return None
    return parser.parse(text.encode("utf-8"))


def in_string_or_comment(language: str, prefix: str, suffix: str) -> bool:
    """Whether the cursor (between ``prefix`` and ``suffix``) is in a string or a comment."""
    prefix, suffix = near(prefix, suffix)
    tree = _parse(language, prefix + suffix)
    if tree is None:
        return False
    point = _point(prefix)
    node = tree.root_node.descendant_for_point_range(point, point)
    while node is not None:
        if any(kind in node.type for kind in _TEXTUAL):
            # At the very end of a comment (its line's end), a new line is code again.
            return not (node.end_point == point and "comment" in node.type
                        and not prefix.endswith(("/*", "*")))
        node = node.parent
    return False


def wants_block(language: str, prefix: str, suffix: str) -> bool:
    """Whether a completion here may span lines: on a blank line, or at the end of a line that
    opens a block, outside strings and comments. Mid-line, the rest of the line only."""
    before = prefix.rsplit("\n", 1)[-1]
    after = suffix.split("\n", 1)[0]
    if after.strip(" \t)]};,"):
        return False  # text follows the cursor on this line: finish the line, nothing more
    if before.strip() and not before.rstrip().endswith(_OPENERS):
        return False
    return not in_string_or_comment(language, prefix, suffix)


@functools.lru_cache(maxsize=16)  # the text without the middle is counted once per answer
def error_count(language: str, text: str) -> int | None:
    """ERROR and MISSING nodes in the parse of ``text`` (None: no grammar for the language)."""
    tree = _parse(language, text)
    if tree is None:
        return None
    count, stack = 0, [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
        if node.has_error:  # only subtrees with an error in them are worth walking
            stack.extend(node.children)
    return count


def no_new_errors(language: str, prefix: str, middle: str, suffix: str) -> bool:
    """Whether inserting ``middle`` leaves the code around the cursor with no more syntax
    errors than before."""
    prefix, suffix = near(prefix, suffix)
    before = error_count(language, prefix + suffix)
    if before is None:
        return True
    after = error_count(language, prefix + middle + suffix)
    return after is not None and after <= before
