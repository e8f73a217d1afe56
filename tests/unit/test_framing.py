"""Framing of streamed replies from raw bytes: the same events whatever the network's chunks,
and the same as httpx-sse's decoder (the WHATWG rules) for any line endings."""

from __future__ import annotations

import itertools

from httpx_sse._decoders import SSEDecoder
from hypothesis import given
from hypothesis import strategies as st

from ren_lsp.models.framing import LineFramer, SSEFramer

field_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]),
                     max_size=12)
events = st.lists(st.tuples(st.one_of(st.none(), field_text.filter(bool)),
                            st.lists(field_text, min_size=1, max_size=3)), max_size=6)


def encode(items: list[tuple[str | None, list[str]]], newline: str, comments: bool) -> bytes:
    out = []
    for name, data in items:
        lines = [": keep-alive"] if comments else []
        if name is not None:
            lines.append(f"event: {name}")
        lines += [f"data: {d}" for d in data]
        out.append(newline.join(lines) + newline * 2)
    return "".join(out).encode()


def reference(raw: bytes) -> list[tuple[str, str]]:
    decoder, found = SSEDecoder(), []
    for line in raw.decode().replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        sse = decoder.decode(line)
        if sse is not None:
            found.append((sse.event, sse.data))
    return found


def framed(raw: bytes, cuts: list[int]) -> list[tuple[str, str]]:
    framer, found = SSEFramer(), []
    bounds = [0, *sorted(set(cuts)), len(raw)]
    for a, b in itertools.pairwise(bounds):
        found += framer.feed(raw[a:b])
    return found + framer.feed(b"\n")  # as the client does at the end of the stream


@given(items=events, newline=st.sampled_from(["\n", "\r\n", "\r"]), comments=st.booleans(),
       data=st.data())
def test_sse_framing_matches_the_reference_for_any_chunks(items, newline, comments,
                                                          data) -> None:
    raw = encode(items, newline, comments)
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=12))
    assert framed(raw, cuts) == reference(raw)
    assert len(framed(raw, cuts)) == len(items)


def test_an_unfinished_event_waits_for_its_blank_line() -> None:
    framer = SSEFramer()
    assert framer.feed(b"event: a\ndata: 1\n") == [] and framer.pending
    assert framer.feed(b"\n") == [("a", "1")] and not framer.pending


@given(lines=st.lists(st.text(st.characters(blacklist_characters="\n",
                                            blacklist_categories=["Cs"]), min_size=1,
                              max_size=20).filter(str.strip), max_size=8), data=st.data())
def test_ndjson_lines_survive_any_chunks(lines: list[str], data) -> None:
    raw = "".join(line + "\n" for line in lines).encode()
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(raw)), max_size=10))))
    framer, found = LineFramer(), []
    for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True):
        found += framer.feed(raw[a:b])
    assert found == lines and not framer.pending
