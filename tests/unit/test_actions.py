"""The pure parts of the code actions: the paragraph around a cursor, comments that ask for code."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ren_lsp.lsp.features.actions import block_around, generation_request
from ren_lsp.text import split_lines

# --- block_around ---------------------------------------------------------------------------


def span(lines: list[str], line: int) -> tuple[int, int, int, int]:
    r = block_around(lines, line)
    return r.start.line, r.start.character, r.end.line, r.end.character


DOC = split_lines("import os\n\ndef f():\n    return 1\n   \ndef g():\r\n    pass\r\n")


@pytest.mark.parametrize(("line", "expected"), [
    (0, (0, 0, 1, 0)),  # a one-line paragraph
    (2, (2, 0, 4, 0)),  # the paragraph around the cursor, whole lines
    (3, (2, 0, 4, 0)),
    (1, (1, 0, 2, 0)),  # a blank line: just that line
    (4, (4, 0, 5, 0)),  # blanks (spaces) are a blank line too
    (5, (5, 0, 7, 0)),  # \r\n line ends
    (6, (5, 0, 7, 0)),
    (7, (7, 0, 7, 0)),  # the empty line after the final newline: an empty range there
])
def test_block_around_examples(line: int, expected: tuple[int, int, int, int]) -> None:
    assert span(DOC, line) == expected


def test_block_around_an_empty_document() -> None:
    assert span([], 0) == (0, 0, 0, 0)


doc_lines = st.lists(st.sampled_from(["x = 1\n", "  y\n", "\n", "   \n", "\t\r\n", "z\r\n", "w"]),
                     max_size=12)


@given(lines=doc_lines, data=st.data())
def test_block_around_is_the_paragraph_of_the_cursor(lines: list[str],
                                                     data: st.DataObject) -> None:
    line = data.draw(st.integers(0, len(lines)), label="line")
    first, first_char, end, end_char = span(lines, line)
    assert first_char == end_char == 0  # whole lines
    assert first <= line <= end <= len(lines)
    if line == len(lines) or not lines[line].strip():
        assert (first, end) == (line, min(line + 1, len(lines)))
        return
    assert line < end
    assert all(lines[k].strip() for k in range(first, end))
    assert first == 0 or not lines[first - 1].strip()
    assert end == len(lines) or not lines[end].strip()


def test_block_around_past_the_end_is_no_inverted_range() -> None:
    first, _, end, _ = span(["a\n"], 3)  # today (3, 0)-(1, 0)
    assert first <= end


# --- generation_request ---------------------------------------------------------------------


@pytest.mark.parametrize(("line", "expected"), [
    ("# parse the header", "parse the header"),
    ("    # parse the header\n", "parse the header"),
    ("// parse the header", "parse the header"),
    ("/// parse the header\r\n", "parse the header"),
    ("-- parse the header", "parse the header"),
    ("/* parse the header */", "parse the header"),
    ("/** parse the header */\n", "parse the header"),
    (" * parse the header", "parse the header"),  # a block comment's continuation line
    ("; parse the header", "parse the header"),
    (";;; parse the header", "parse the header"),
    ("% parse the header", "parse the header"),
    ("# TODO: parse the header", "parse the header"),
    ("// FIXME parse the header", "parse the header"),
    ("/* TODO: parse the header */\n", "parse the header"),
    ("-- todo: parse the header", "parse the header"),  # any case
    ("; Fixme:   parse the header  ", "parse the header"),
    ("# TODOS are kept", "TODOS are kept"),  # TODO as a word only
])
def test_generation_request_examples(line: str, expected: str) -> None:
    assert generation_request(line) == expected


@pytest.mark.parametrize("line", [
    "", "\n", "   \n", "x = 1", "x = 1  # parse the header", "return a / b", "print('# no')",
    "#", "//", "# ", "--\n", "# TODO", "// FIXME:", "/* TODO */", "/* */",
    # a marker with no blank after it is code, not a comment
    "#include <stdio.h>", "#!/usr/bin/env python", "*ptr = 1;", "--verbose", "#parse it",
    "# ------", "# 42",
])
def test_generation_request_none(line: str) -> None:
    assert generation_request(line) is None


@pytest.mark.parametrize(("line", "expected"), [
    (" */", None), ("*/\n", None), ("/**/", None), ("/* parse the header **/", "parse the header"),
])
def test_generation_request_block_comment_closers(line: str, expected: str | None) -> None:
    assert generation_request(line) == expected


@pytest.mark.parametrize("line", ["## parse the header", "--- parse the header"])
def test_generation_request_repeated_hash_and_dash_markers(line: str) -> None:
    assert generation_request(line) == "parse the header"


_WORDS = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=8)
instructions = st.lists(_WORDS, min_size=1, max_size=6).map(" ".join).filter(
    lambda t: re.search(r"\b(?:todo|fixme)\b", t, re.IGNORECASE) is None
    and any(c.isalpha() for c in t))  # a comment with no words asks for nothing

STYLES = [("#", ""), ("//", ""), ("--", ""), ("/*", " */"), ("/**", "*/"), ("*", ""), (";", ""),
          (";;", ""), ("%", "")]


@given(instruction=instructions, style=st.sampled_from(STYLES),
       indent=st.sampled_from(["", "  ", "\t"]), gap=st.sampled_from([" ", "   "]),
       todo=st.sampled_from(["", "TODO: ", "FIXME ", "todo:", "FixMe: "]),
       end=st.sampled_from(["", "\n", "\r\n", "  \n"]))
def test_generation_request_takes_the_comments_text(instruction: str, style: tuple[str, str],
                                                    indent: str, gap: str, todo: str,
                                                    end: str) -> None:
    opening, closing = style
    line = f"{indent}{opening}{gap}{todo}{instruction}{closing}{end}"
    assert generation_request(line) == instruction


@given(line=st.text(max_size=30), first=st.characters(exclude_characters="#/-*;%"))
def test_lines_that_are_no_comment_ask_for_nothing(line: str, first: str) -> None:
    if first.isspace():
        first = "x"
    assert generation_request(" " + first + line) is None
