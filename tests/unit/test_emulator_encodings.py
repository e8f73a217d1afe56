"""The emulator's dialects without a socket: conversion to the internal request, and encodings
that any text and any tool input survive (decoded by the hand-written readers of
`tests/dialect_wire`)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ren_lsp.emulator import Fault
from ren_lsp.emulator.conversation import Step
from ren_lsp.emulator.dialects import OllamaDialect, OpenAIDialect, RenDialect, messages_dialect
from ren_lsp.emulator.replies import reply_text
from ren_lsp.emulator.stream import plan_reply
from tests.dialect_wire import DIALECTS, decode_reply, decode_stream, request, tool_round

ENCODERS = {
    "ren": RenDialect(),
    "anthropic": RenDialect(),
    "openai": OpenAIDialect(),
    "ollama": OllamaDialect(),
}
SPEC = {"name": "lookup", "description": "Look up", "schema": {"type": "object"}}


def wire_body(dialect: str, **extra: Any) -> dict[str, Any]:
    return request(
        dialect,
        "Explain:\n```go\nfunc Add() {}\n```",
        stream=True,
        system="Say why.",
        tool_specs=[SPEC],
        **extra,
    )


def test_every_dialect_converts_to_the_same_internal_request() -> None:
    internal = {name: ENCODERS[name].to_internal(wire_body(name)) for name in DIALECTS}
    ren = internal["ren"]
    for converted in internal.values():
        assert converted["system"] == "Say why."
        assert converted["messages"] == ren["messages"]
        assert converted["tools"][0]["name"] == "lookup"
        assert converted["tools"][0]["input_schema"] == {"type": "object"}
        assert reply_text(converted) == reply_text(ren)


def test_tool_rounds_convert_to_blocks() -> None:
    for dialect in ("openai", "ollama"):
        history = tool_round(dialect, "q", "c1", "lookup", {"k": [1]}, "Error: none found")
        converted = ENCODERS[dialect].to_internal(
            request(dialect, "", stream=False, history=history)
        )
        user, assistant, result = converted["messages"]
        assert user == {"role": "user", "content": "q"}
        use = assistant["content"][0]
        assert (use["type"], use["name"], use["input"]) == ("tool_use", "lookup", {"k": [1]})
        block = result["content"][0]
        assert block["tool_use_id"] == use["id"]  # Ollama's calls get ids, answered in order
        assert (block["content"], block["is_error"]) == ("Error: none found", True)


def test_openai_merges_turns_and_reads_its_options() -> None:
    body = {
        "model": "astra",
        "messages": [
            {"role": "system", "content": "one"},
            {"role": "system", "content": "two"},
            {"role": "user", "content": "a"},
            {"role": "user", "content": "b"},
        ],
        "max_completion_tokens": 9,
        "stop": "END",
    }
    converted = OpenAIDialect().to_internal(body)
    assert converted["system"] == "one\n\ntwo"
    assert converted["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    ]
    assert (converted["max_tokens"], converted["stop_sequences"]) == (9, ["END"])
    assert converted["stream"] is False
    assert (
        OllamaDialect().to_internal(
            {"model": "astra", "messages": [{"role": "user", "content": "a"}]}
        )["stream"]
        is True
    )


def test_which_dialect_v1_messages_speaks() -> None:
    assert messages_dialect({"x-api-key": "k"}).name == "anthropic"
    assert messages_dialect({"anthropic-version": "2023-06-01"}).name == "anthropic"
    assert messages_dialect({"Authorization": "Bearer k"}).name == "ren"
    both = {"Authorization": "Bearer k", "anthropic-version": "2023-06-01"}
    assert messages_dialect(both).name == "ren"
    assert messages_dialect({}).name == "ren"


def _decode(dialect: str, reply: Any, body: dict[str, Any], fault: Fault) -> tuple[Any, Any]:
    encoder = ENCODERS[dialect]
    raw = b"".join(chunk.data for chunk in encoder.stream(reply, body, fault).chunks)
    whole = json.loads(json.dumps(encoder.message(reply, body)))
    return decode_stream(dialect, raw), decode_reply(dialect, whole)


@settings(max_examples=60)
@given(text=st.text(max_size=200), deltas=st.none() | st.integers(1, 12), unknown=st.booleans())
def test_any_text_survives_every_encoding(text: str, deltas: int | None, unknown: bool) -> None:
    fault = Fault(text=text, deltas=deltas, unknown_event=unknown)
    for dialect in DIALECTS:
        body = wire_body(dialect)
        reply = plan_reply(ENCODERS[dialect].to_internal(body), fault, "m", "t")
        streamed, whole = _decode(dialect, reply, body, fault)
        assert streamed.text == whole.text == reply.text == "".join(reply.deltas)
        assert streamed.ended and streamed.text_units == sum(1 for d in reply.deltas if d)
        if deltas is None:
            assert reply.text == text


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=60)
@given(tool_input=st.dictionaries(st.text(max_size=8), JSON, max_size=4))
def test_any_tool_input_survives_every_encoding(tool_input: dict[str, Any]) -> None:
    steps = [Step(tool="lookup", input=tool_input)]
    for dialect in DIALECTS:
        body = wire_body(dialect)
        reply = plan_reply(ENCODERS[dialect].to_internal(body), None, "m", "call_1", steps)
        streamed, whole = _decode(dialect, reply, body, Fault())
        assert streamed.tool_calls == whole.tool_calls == [("lookup", tool_input)]
        assert streamed.text == whole.text == ""
