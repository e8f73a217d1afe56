"""Code out of Astra's answers, with the original's indentation and trailing newline kept."""

from __future__ import annotations

import textwrap

from hypothesis import given
from hypothesis import strategies as st

from ren_lsp.edits import extract_code

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
