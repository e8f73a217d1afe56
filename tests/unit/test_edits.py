"""Code out of Astra's answers, with the original's indentation and trailing newline kept."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from ren_lsp.text import (
    TrackedRange,
    end_position,
    extract_code,
    line_indent,
    offset_at,
    split_lines,
    text_units,
)

ORIGINAL = "    def total(self):\n        return sum(self.lines)\n"


def test_takes_the_first_fenced_block() -> None:
    answer = ("Here it is:\n\n```python\n    def total(self) -> int:\n"
              "        return sum(self.lines)\n```\n\nAnd another:\n```\nx = 1\n```\n")
    assert extract_code(answer, original=ORIGINAL) == (
        "    def total(self) -> int:\n        return sum(self.lines)\n")


def test_puts_back_indentation_the_answer_lost() -> None:
    answer = "```python\ndef total(self) -> int:\n    return sum(self.lines)\n```"
    assert extract_code(answer, original=ORIGINAL) == (
        "    def total(self) -> int:\n        return sum(self.lines)\n")


def test_an_answer_without_fences_is_all_code() -> None:
    assert extract_code("\nx = 2\n\n", original="x = 1") == "x = 2"


def test_longer_fences_and_tildes() -> None:
    answer = "````md\n```inner```\n````\n"
    assert extract_code(answer, original="a\n") == "```inner```\n"
    assert extract_code("~~~\ny\n~~~", original="x") == "y"


def test_an_unclosed_fence_keeps_what_arrived() -> None:
    assert extract_code("```python\nx = 1\ny = 2", original="x\n") == "x = 1\ny = 2\n"


lines = st.lists(st.text(alphabet="abc xyz=()_:", max_size=12).map(str.rstrip), min_size=1,
                 max_size=8)


@given(body=lines, indent=st.sampled_from(["", "  ", "    ", "\t"]), newline=st.booleans())
def test_fenced_code_comes_back_with_the_originals_shape(body: list[str], indent: str,
                                                         newline: bool) -> None:
    code = textwrap.dedent("\n".join(body)).strip("\n")  # models answer a snippet dedented
    original = "\n".join(indent + line if line.strip() else line for line in code.split("\n"))
    original += "\n" if newline else ""
    answer = f"Sure.\n```python\n{code}\n```\nDone."
    result = extract_code(answer, original=original)
    assert result.endswith("\n") == newline or not code
    if code.strip():
        assert result.rstrip("\n") == original.rstrip("\n")
    # An answer that kept the indentation is taken as it is.
    kept = original.rstrip("\n")
    assert extract_code(f"```\n{kept}\n```", original=original).rstrip("\n") == kept


# --- Positions: offset_at, text_units, end_position --------------------------------------------

ENCODINGS = ["utf-16", "utf-8", "utf-32"]

#: Characters that make positions interesting: line ends (\r\n too), a lone \r, astral emoji
#: (two UTF-16 units, four UTF-8 bytes), two- and three-byte UTF-8, tabs.
_PIECES = ["\n", "\r\n", "\r", "\U0001F600", "\U0001D11E", "\u00e9", "\u4e2d", "\t", " ", "ab"]
texts = st.lists(st.one_of(st.text(max_size=6), st.sampled_from(_PIECES)), max_size=12).map(
    "".join)


def units(text: str, encoding: str) -> int:
    """The length of ``text`` in an encoding's units, computed here independently."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def position_of(text: str, index: int, encoding: str) -> tuple[int, int]:
    """The LSP (line, character) of a code-point index, from the prefix before it."""
    prefix = text[:index]
    return prefix.count("\n"), units(prefix[prefix.rfind("\n") + 1:], encoding)


def mid_crlf(text: str, index: int) -> bool:
    return 0 < index < len(text) and text[index - 1:index + 1] == "\r\n"


def trailing_lone_cr(text: str, index: int) -> bool:
    """The end of a text whose last character is a \r no \n follows."""
    return index == len(text) and text.endswith("\r")


@pytest.mark.parametrize(("text", "line", "character", "encoding", "expected"), [
    ("abc", 0, 0, "utf-16", 0),
    ("abc", 0, 2, "utf-16", 2),
    ("ab\ncd", 1, 1, "utf-16", 4),
    ("ab\r\ncd", 1, 1, "utf-16", 5),
    ("\U0001F600x", 0, 2, "utf-16", 1),  # the emoji is two UTF-16 units
    ("\U0001F600x", 0, 4, "utf-8", 1),  # and four UTF-8 bytes
    ("\U0001F600x", 0, 1, "utf-32", 1),  # and one code point
    ("\u00e9x", 0, 2, "utf-8", 1),
    ("\u00e9x", 0, 1, "utf-16", 1),
    ("ab\ncd", 0, 99, "utf-16", 2),  # a column past the end of the line: the line's end
    ("ab\r\ncd", 0, 3, "utf-16", 2),  # the \r of \r\n is no column
    ("ab\r\ncd", 0, 99, "utf-8", 2),
    ("ab\ncd", 2, 0, "utf-16", 5),  # a line past the end: the end of the text
    ("ab\ncd", 7, 3, "utf-32", 5),
    ("ab\n", 1, 0, "utf-16", 3),  # the empty line after a final newline exists
    ("a\rb", 0, 2, "utf-32", 2),  # a \r inside a line is an ordinary column
    ("", 0, 0, "utf-16", 0),
    ("", 0, 5, "utf-8", 0),
])
def test_offset_at_examples(text: str, line: int, character: int, encoding: str,
                            expected: int) -> None:
    assert offset_at(text, line, character, encoding) == expected


@given(text=texts, data=st.data())
def test_position_round_trips_to_the_index(text: str, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(text)), label="index")
    if mid_crlf(text, index) or trailing_lone_cr(text, index):
        return  # no position names the inside of \r\n
    for encoding in ENCODINGS:
        line, character = position_of(text, index, encoding)
        assert offset_at(text, line, character, encoding) == index, encoding


@given(text=texts, data=st.data())
def test_an_index_inside_crlf_clamps_to_before_the_cr(text: str, data: st.DataObject) -> None:
    text = text + "\r\n" + text
    index = data.draw(st.sampled_from([i for i in range(1, len(text)) if mid_crlf(text, i)]))
    for encoding in ENCODINGS:
        line, character = position_of(text, index, encoding)
        assert offset_at(text, line, character, encoding) == index - 1


@given(text=texts, data=st.data())
def test_a_column_past_the_line_clamps_to_its_end(text: str, data: st.DataObject) -> None:
    parts = text.split("\n")
    line = data.draw(st.integers(0, len(parts) - 1), label="line")
    content = parts[line]
    if line < len(parts) - 1:
        content = content.removesuffix("\r")  # the \r of \r\n is no column
    elif content.endswith("\r"):
        return  # a lone \r at the end of the text: the xfail below
    line_start = sum(len(part) + 1 for part in parts[:line])
    encoding = data.draw(st.sampled_from(ENCODINGS), label="encoding")
    extra = data.draw(st.integers(0, 10), label="extra")
    column = units(content, encoding) + extra
    assert offset_at(text, line, column, encoding) == line_start + len(content)


@given(text=texts, line=st.integers(0, 30), character=st.integers(0, 30))
def test_a_line_past_the_end_gives_the_end_of_the_text(text: str, line: int,
                                                       character: int) -> None:
    line += text.count("\n") + 1
    for encoding in ENCODINGS:
        assert offset_at(text, line, character, encoding) == len(text)


@given(text=texts, a=st.tuples(st.integers(0, 8), st.integers(0, 12)),
       b=st.tuples(st.integers(0, 8), st.integers(0, 12)), encoding=st.sampled_from(ENCODINGS))
def test_offset_at_keeps_position_order(text: str, a: tuple[int, int], b: tuple[int, int],
                                        encoding: str) -> None:
    first, second = sorted([a, b])
    low, high = offset_at(text, *first, encoding), offset_at(text, *second, encoding)
    assert 0 <= low <= high <= len(text)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_lone_trailing_cr_is_a_column(encoding: str) -> None:
    # Lines split at \n only, and only the \r of \r\n is no column: "a\r" is one line of
    # two columns, whose end (0, 2) is index 2. offset_at gives 1.
    assert end_position("a\r", encoding) == (0, 2)
    assert offset_at("a\r", 0, 2, encoding) == 2


@pytest.mark.parametrize(("text", "expected"), [
    ("", (0, 0, 0)), ("abc", (3, 3, 3)), ("\U0001F600", (4, 2, 1)), ("\u00e9\u4e2d", (5, 2, 2)),
    ("a\nb", (3, 3, 3)),
])
def test_text_units_examples(text: str, expected: tuple[int, int, int]) -> None:
    assert tuple(text_units(text, e) for e in ["utf-8", "utf-16", "utf-32"]) == expected


@given(a=texts, b=texts, encoding=st.sampled_from(ENCODINGS))
def test_text_units_counts_the_encodings_units_and_adds_up(a: str, b: str,
                                                            encoding: str) -> None:
    assert text_units(a, encoding) == units(a, encoding)
    assert text_units(a + b, encoding) == text_units(a, encoding) + text_units(b, encoding)


@pytest.mark.parametrize(("text", "encoding", "expected"), [
    ("", "utf-16", (0, 0)), ("abc", "utf-16", (0, 3)), ("ab\n", "utf-16", (1, 0)),
    ("ab\r\ncd", "utf-16", (1, 2)), ("x\n\U0001F600", "utf-16", (1, 2)),
    ("x\n\U0001F600", "utf-8", (1, 4)), ("x\n\U0001F600", "utf-32", (1, 1)),
])
def test_end_position_examples(text: str, encoding: str, expected: tuple[int, int]) -> None:
    assert end_position(text, encoding) == expected


@given(text=texts)
def test_end_position_round_trips_to_the_length(text: str) -> None:
    for encoding in ENCODINGS:
        position = end_position(text, encoding)
        assert position == position_of(text, len(text), encoding)
        if not trailing_lone_cr(text, len(text)):  # the xfail above
            assert offset_at(text, *position, encoding) == len(text)


# --- split_lines, line_indent ---------------------------------------------------------------

_OTHER_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines breaks at these


@pytest.mark.parametrize(("text", "expected"), [
    ("", []), ("a", ["a"]), ("a\n", ["a\n"]), ("a\nb", ["a\n", "b"]), ("\n\n", ["\n", "\n"]),
    ("a\r\nb\r\n", ["a\r\n", "b\r\n"]), ("a\rb\n", ["a\rb\n"]),
    ("a\u2028b", ["a\u2028b"]),  # only \n ends a line
])
def test_split_lines_examples(text: str, expected: list[str]) -> None:
    assert split_lines(text) == expected


@given(text=texts)
def test_split_lines_splits_at_newlines_only_and_joins_back(text: str) -> None:
    result = split_lines(text)
    assert "".join(result) == text
    assert all(part for part in result)
    assert all(part.endswith("\n") for part in result[:-1])
    assert all("\n" not in part[:-1] for part in result)
    assert len(result) == text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if not any(c in _OTHER_BREAKS for c in text.replace("\r\n", "\n")):
        assert result == text.splitlines(keepends=True)


@pytest.mark.parametrize(("line", "expected"), [
    ("", ""), ("x", ""), ("    x = 1\n", "    "), ("\t  y", "\t  "), ("   \n", "   "),
    ("\u3000x", ""),  # only spaces and tabs are indentation
])
def test_line_indent_examples(line: str, expected: str) -> None:
    assert line_indent(line) == expected


@given(line=texts)
def test_line_indent_is_the_leading_spaces_and_tabs(line: str) -> None:
    indent = line_indent(line)
    assert line.startswith(indent)
    assert set(indent) <= {" ", "\t"}
    assert line[len(indent):len(indent) + 1] not in (" ", "\t")


# --- TrackedRange ---------------------------------------------------------------------------

Change = tuple[tuple[int, int], tuple[int, int]]


def lsp_range(change: Change) -> types.Range:
    (a, b), (c, d) = change
    return types.Range(start=types.Position(line=a, character=b),
                       end=types.Position(line=c, character=d))


class Tracked:
    """A TrackedRange seen through (line, character) pairs, as these tests write them."""

    def __init__(self, start: tuple[int, int], end: tuple[int, int]) -> None:
        self.inner = TrackedRange("file:///t.py", lsp_range((start, end)))

    def on_change(self, change: Change | None, new_text: str) -> None:
        self.inner.on_change(None if change is None else lsp_range(change), new_text)

    @property
    def conflict(self) -> bool:
        return self.inner.conflict

    @property
    def start(self) -> tuple[int, int]:
        return self.inner.range.start.line, self.inner.range.start.character

    @property
    def end(self) -> tuple[int, int]:
        return self.inner.range.end.line, self.inner.range.end.character

    @property
    def start_line(self) -> int:
        return self.start[0]

    @property
    def end_line(self) -> int:
        return self.end[0]


def test_tracked_range_reports_its_ends() -> None:
    tracked = Tracked((3, 4), (5, 6))
    assert (tracked.start, tracked.end, tracked.conflict) == ((3, 4), (5, 6), False)


@pytest.mark.parametrize(("change", "new_text", "expected"), [
    (((0, 0), (0, 0)), "x", ((3, 4), (5, 6))),  # typing above: no newline, no shift
    (((0, 0), (0, 0)), "a\nb\n", ((5, 4), (7, 6))),  # two new lines above
    (((0, 0), (2, 0)), "", ((1, 4), (3, 6))),  # two lines deleted above
    (((1, 2), (2, 7)), "p\nq\nr\ns", ((5, 4), (7, 6))),  # one line replaced by four
    (((6, 0), (6, 0)), "x\n\n", ((3, 4), (5, 6))),  # below: left as it is
    (((9, 1), (12, 0)), "", ((3, 4), (5, 6))),
])
def test_tracked_range_follows_changes_outside_it(change: Change, new_text: str,
                                                  expected: tuple[tuple[int, int], ...]) -> None:
    tracked = Tracked((3, 4), (5, 6))
    tracked.on_change(change, new_text)
    assert (tracked.start, tracked.end) == expected
    assert not tracked.conflict


@pytest.mark.parametrize("change", [
    ((3, 0), (3, 0)),  # on the first line, even before the range's column
    ((5, 9), (5, 9)),  # on the last line, even after it
    ((4, 0), (4, 1)),  # inside
    ((0, 0), (3, 0)),  # from above into the first line
    ((5, 6), (8, 0)),  # from the last line down
    ((1, 0), (9, 0)),  # around it
    None,  # a full-document change
])
def test_tracked_range_conflicts_on_changes_touching_its_lines(change: Change | None) -> None:
    tracked = Tracked((3, 4), (5, 6))
    tracked.on_change(change, "x\n")
    assert tracked.conflict
    tracked.on_change(((0, 0), (0, 0)), "\n\n")  # once in conflict it no longer moves
    assert (tracked.start, tracked.end) == ((3, 4), (5, 6))
    assert tracked.conflict


edit_texts = st.one_of(st.sampled_from(["", "\n", "\r\n", "x\ny\n", "\n\n\n", "\U0001F600"]),
                       texts)


@settings(deadline=None)
@given(text=texts, data=st.data())
def test_tracked_range_keeps_its_text_through_random_edits(text: str,
                                                           data: st.DataObject) -> None:
    text = "top\r\nabove\n" + text + "\nbelow\nbottom\n"  # room above and below the range
    encoding = data.draw(st.sampled_from(ENCODINGS), label="encoding")
    indices = [i for i in range(len(text) + 1) if not mid_crlf(text, i)]
    i, j = sorted(data.draw(st.lists(st.sampled_from(indices), min_size=2, max_size=2),
                            label="range"))
    start, end = position_of(text, i, encoding), position_of(text, j, encoding)
    target = text[i:j]
    assert text[offset_at(text, *start, encoding):offset_at(text, *end, encoding)] == target
    tracked = Tracked(start, end)
    for _ in range(data.draw(st.integers(1, 8), label="edits")):
        if data.draw(st.integers(0, 19), label="full sync?") == 0:
            tracked.on_change(None, text)
            assert tracked.conflict
            return
        # Mostly edits above or below the range's lines (those it must follow), some anywhere.
        starts = [0] + [k + 1 for k, c in enumerate(text) if c == "\n"]
        low, high = 0, len(text)
        where = data.draw(st.sampled_from(["above", "below", "anywhere"]), label="where")
        if where == "above" and tracked.start_line > 0:
            high = starts[tracked.start_line] - 1  # up to the \n that ends the line above
        elif where == "below" and tracked.end_line + 1 < len(starts):
            low = starts[tracked.end_line + 1]
        a, b = sorted(data.draw(st.lists(st.integers(low, high), min_size=2, max_size=2),
                                label="edit"))
        new_text = data.draw(edit_texts, label="new text")
        first, last = position_of(text, a, encoding), position_of(text, b, encoding)
        # The document applies the edit as the editor sends it (positions clamp as in offset_at).
        lo, hi = offset_at(text, *first, encoding), offset_at(text, *last, encoding)
        text = text[:lo] + new_text + text[hi:]
        touching = not (last[0] < tracked.start_line or first[0] > tracked.end_line)
        tracked.on_change((first, last), new_text)
        assert tracked.conflict == touching
        if tracked.conflict:
            return  # never written to again; staying in conflict has its own test
        # Where the range's text is now, followed independently by index.
        if hi <= i:
            i, j = i + len(new_text) - (hi - lo), j + len(new_text) - (hi - lo)
        else:
            assert lo >= j, "an edit overlapping the range did not mark a conflict"
        assert text[i:j] == target
        assert offset_at(text, *tracked.start, encoding) == i
        assert offset_at(text, *tracked.end, encoding) == j
