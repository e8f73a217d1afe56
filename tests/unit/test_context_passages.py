"""The second look's scan finds the same terms as splitting the whole text, faster."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from ren_lsp.context import passages
from ren_lsp.context.terms import pieces_of, terms_of

SAMPLE = '''
class HTTPResponseParser:
    """Parses responses; copies the body when entries are copied."""

    def parse_http_response(self, raw: bytes) -> "Response":
        copy = self.copyEntries(raw)  # server_default and serverDefault
        return Response(copy, server="İstanbul default")
'''


def _slow(text: str, wanted: set[str]) -> list[str]:
    return [term for term in pieces_of(text) if term in wanted]


def test_occurrences_are_the_pieces_of_the_whole_text() -> None:
    wanted = {"pars", "respons", "copi", "entri", "server", "default", "http"}
    found = passages.occurrences(SAMPLE, wanted)
    assert [term for _, _, term in found] == _slow(SAMPLE, wanted)
    # the offsets point at the pieces themselves
    assert {SAMPLE[start:end].lower() for start, end, term in found if term == "copi"} == {
        "copies", "copy", "copied"}


def test_a_text_whose_lower_case_is_longer_is_split_whole() -> None:
    text = "İİİ parse_config " * 3
    assert len(text.lower()) != len(text)
    found = passages.occurrences(text, {"pars", "config"})
    assert [term for _, _, term in found] == ["pars", "config"] * 3
    assert all(text[start:end].lower() in ("parse", "config") for start, end, _ in found)


def test_phrases_count_adjacent_pieces_only() -> None:
    text = "server_default = serverDefault; server or default; server a default"
    idf = {"server": 1.0, "default": 1.0}
    _, phrases = passages.second_look(["k"], lambda key: text, ["server", "default"], idf)
    # server_default and serverDefault are adjacent; "server or default" and "server a
    # default" have a piece between: two pairs, each term's idf 1
    assert phrases["k"] == 2.0 * math.log1p(2)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aAbBeEiIyYsSdD_ .\nİé1")), max_size=120),
       st.data())
def test_occurrences_match_the_tokenizer_on_any_text(text: str, data: st.DataObject) -> None:
    vocabulary = terms_of(text)
    if not vocabulary:
        return
    wanted = set(data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=4)))
    assert [term for _, _, term in passages.occurrences(text, wanted)] == _slow(text, wanted)
