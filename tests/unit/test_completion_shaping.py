"""Inline completion's own logic: shaping a model's answer, the syntax at the cursor, the text
window around it and the cache. Inputs vary, so most of it is property-tested."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from ren_lsp.lsp.completion import syntax
from ren_lsp.lsp.completion.cursor import AnswerCache, Cursor, window
from ren_lsp.lsp.completion.shaping import (
    limit_lines,
    reindent,
    shape,
    strip_wrapping,
    trim_suffix_overlap,
)

NAMES = st.from_regex(r"\A[a-z_][a-z0-9_]{0,8}\Z")
#: a line of code with no brackets and no fence or chatter at its start
CODE_LINE = st.builds(lambda a, b: f"{a} = {b} + 1", NAMES, NAMES)
CODE = st.lists(CODE_LINE, min_size=1, max_size=5).map("\n".join)
CHATTER = st.sampled_from(["Here is the completion:", "Sure! Here's the code:",
                           "Certainly.", "The missing code is:"])
INDENT = st.sampled_from(["", "    ", "        ", "\t"])


@given(code=CODE, chatter=CHATTER, tag=st.sampled_from(["", "python", "py"]),
       closed=st.booleans(), after=st.sampled_from(["", "\nThis sets the values."]))
def test_fences_and_chatter_are_stripped(code: str, chatter: str, tag: str, closed: bool,
                                         after: str) -> None:
    answer = f"{chatter}\n```{tag}\n{code}\n" + ("```" + after if closed else "")
    assert strip_wrapping(answer).rstrip("\n") == code


@given(code=CODE, chatter=CHATTER)
def test_chatter_without_a_fence_is_stripped(code: str, chatter: str) -> None:
    assert strip_wrapping(f"{chatter}\n{code}") == code
    assert strip_wrapping(code) == code  # plain code is left alone
    assert strip_wrapping(chatter) == ""  # chatter alone is no completion


@given(call=NAMES, args=st.lists(NAMES, max_size=3), closers=st.sampled_from([")", "])", ")]}"]))
def test_closing_brackets_the_line_already_has_are_trimmed(call: str, args: list[str],
                                                           closers: str) -> None:
    middle = ", ".join(args) or call
    assert trim_suffix_overlap(middle + closers, closers + ":\n") == middle


@given(name=NAMES, arg=NAMES)
def test_a_balanced_middle_keeps_its_own_brackets(name: str, arg: str) -> None:
    middle = f"{name}({arg})"
    assert trim_suffix_overlap(middle, ")\n") == middle


@given(code=CODE, following=st.lists(CODE_LINE, min_size=1, max_size=3), repeat=st.integers(1, 3))
def test_lines_that_repeat_what_follows_the_cursor_are_trimmed(
        code: str, following: list[str], repeat: int) -> None:
    assume(not set(code.split("\n")) & set(following))  # else the repeat is ambiguous
    repeated = following[:repeat]
    suffix = "\n" + "\n".join(following) + "\n"
    assert trim_suffix_overlap(code + "\n" + "\n".join(repeated), suffix) == code


@given(lines=st.lists(st.tuples(st.integers(0, 2), CODE_LINE), min_size=2, max_size=5),
       at=st.sampled_from(["    ", "        "]))
def test_a_block_indented_from_zero_moves_under_the_cursor(
        lines: list[tuple[int, str]], at: str) -> None:
    # Some later line at the model's depth zero: the block is then surely written from zero
    # (a body only as deep as the cursor reads as the file's own indentation).
    lines[0], lines[1] = (0, lines[0][1]), (0, lines[1][1])
    relative = "\n".join("    " * depth + text for depth, text in lines)
    shaped = reindent(relative, at)
    first, *rest = shaped.split("\n")
    assert first == lines[0][1]
    for (depth, text), line in zip(lines[1:], rest, strict=True):
        assert line == at + "    " * depth + text


@given(code=CODE, at=INDENT)
def test_a_block_already_at_the_files_indentation_is_kept(code: str, at: str) -> None:
    lines = code.split("\n")
    absolute = "\n".join([lines[0], *(at + line for line in lines[1:])])
    assert reindent(absolute, at) == absolute


@given(middle=st.text(alphabet=" ab=()\n:", max_size=60), block=st.booleans(),
       max_lines=st.integers(1, 6), at=st.sampled_from(["", "  ", "    "]))
def test_limits_one_line_mid_line_and_the_block_elsewhere(
        middle: str, block: bool, max_lines: int, at: str) -> None:
    limited = limit_lines(middle, block=block, max_lines=max_lines, line_before=at)
    if not block or max_lines == 1:
        assert "\n" not in limited
    lines = limited.split("\n")
    assert len(lines) <= max_lines
    for line in lines[1:]:
        assert not line.strip() or line.startswith(at)


@given(answer=st.text(max_size=80), prefix=st.text(max_size=40), suffix=st.text(max_size=40),
       block=st.booleans(), max_lines=st.integers(1, 8))
def test_shape_gives_something_real_or_nothing(answer: str, prefix: str, suffix: str,
                                               block: bool, max_lines: int) -> None:
    shaped = shape(answer, prefix=prefix, suffix=suffix, block=block, max_lines=max_lines)
    assert shaped == "" or shaped.strip()
    if not block:
        assert "\n" not in shaped
    assert "```" not in shaped.split("\n")[0]


def test_the_cursor_line_restated_by_the_model_is_not_inserted_twice() -> None:
    assert shape("    total = sum(values)", prefix="def f(values):\n    total = ",
                 suffix="\n", block=False, max_lines=4) == "sum(values)"


# -- the syntax at the cursor ------------------------------------------------------------------


def test_a_block_goes_on_a_blank_line_or_after_an_opener_never_mid_line() -> None:
    assert syntax.wants_block("python", "def f(x):\n    ", "\n")
    assert syntax.wants_block("python", "def f(x):", "\n")
    assert syntax.wants_block("javascript", "function f(x) {", "\n}\n")
    assert not syntax.wants_block("python", "def f(x):\n    y = ", "\n")
    assert not syntax.wants_block("python", "def f(x", "):\n")
    # In a string or a comment, the line is finished, nothing more.
    assert not syntax.wants_block("python", 'x = """\n    ', '\n"""\n')
    assert not syntax.wants_block("javascript", "/* note:", " */\n")


def test_a_middle_that_breaks_the_file_is_found() -> None:
    prefix, suffix = "def f(x):\n    ", "\n\ndef g():\n    pass\n"
    assert syntax.no_new_errors("python", prefix, "return x + 1", suffix)
    assert not syntax.no_new_errors("python", prefix, "return (x +", suffix)
    assert syntax.no_new_errors("text", "a", "((((", "b")  # no grammar: no opinion
    # Finishing a broken line is no new error: it is fewer.
    assert syntax.no_new_errors("python", "print(f(x", "", "\n") is True
    assert syntax.no_new_errors("python", "print(f(x", "))", "\n")


# -- the window and the cache ------------------------------------------------------------------


@given(lines=st.lists(st.text(alphabet="ab \t", max_size=8), min_size=1, max_size=30),
       data=st.data(), context=st.integers(1, 10))
def test_the_window_is_whole_lines_around_the_cursor(lines: list[str], data: st.DataObject,
                                                     context: int) -> None:
    text = "\n".join(lines)
    offset = data.draw(st.integers(0, len(text)))
    prefix, suffix = window(text, offset, context)
    assert text[offset - len(prefix):offset] == prefix
    assert text[offset:offset + len(suffix)] == suffix
    start = offset - len(prefix)
    assert start == 0 or text[start - 1] == "\n"  # cut at a line boundary
    assert prefix.count("\n") <= context
    assert offset + len(suffix) == len(text) or suffix.endswith("\n")


def _cursor(prefix: str, suffix: str = "\n") -> Cursor:
    return Cursor(uri="file:///a.py", path="a.py", language="python", version=1,
                  prefix=prefix, suffix=suffix, block=False)


@given(middle=st.text(min_size=2, max_size=20), data=st.data())
def test_typing_into_a_suggestion_shows_the_rest_of_it(middle: str, data: st.DataObject) -> None:
    cache = AnswerCache()
    cache.put(_cursor("x = "), middle)
    assert cache.get(_cursor("x = ")) == middle
    typed = data.draw(st.integers(1, len(middle) - 1))
    assert cache.get(_cursor("x = " + middle[:typed])) == middle[typed:]
    assert cache.get(_cursor("x = ", suffix="other\n")) is None
    assert cache.get(_cursor("y = ")) is None


def test_the_cache_keeps_only_the_latest_answers() -> None:
    cache = AnswerCache(size=2)
    for n in range(3):
        cache.put(_cursor(f"v{n} = "), f"{n}")
    assert cache.get(_cursor("v0 = ")) is None and cache.get(_cursor("v2 = ")) == "2"
