"""Scripted conversations: parsing steps, and which step a request gets (no socket)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ren_lsp.emulator import Fault, Step
from ren_lsp.emulator.conversation import Played, last_tool_result, parse_steps, play
from ren_lsp.emulator.replies import reply_text
from ren_lsp.emulator.stream import plan_reply

TOOLS = [
    {"name": "read_file", "input_schema": {"type": "object"}},
    {"name": "search", "input_schema": {"type": "object"}},
]


def body(*results: tuple[str, bool], tools: list[dict[str, Any]] | None = None) -> dict:
    """A request after one tool round per result (its text, whether it was an error)."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    for number, (text, is_error) in enumerate(results):
        use = {"type": "tool_use", "id": f"t{number}", "name": "read_file", "input": {}}
        result = {
            "type": "tool_result",
            "tool_use_id": f"t{number}",
            "content": text,
            "is_error": is_error,
        }
        messages += [{"role": "assistant", "content": [use]}, {"role": "user", "content": [result]}]
    return {"model": "astra", "messages": messages, "tools": TOOLS if tools is None else tools}


SCRIPT = parse_steps(
    [
        {"tool": "read_file", "input": {"path": "a.py"}},
        {
            "tool": "search",
            "input": {"query": "x"},
            "unless_error": {"text": "failed: {last_result}"},
        },
        {"text": "result={last_result} error={last_error}"},
    ]
)


def test_the_step_is_the_number_of_assistant_turns() -> None:
    assert play(SCRIPT, body()) == Played(tool="read_file", input={"path": "a.py"})
    assert play(SCRIPT, body(("x = 1", False))) == Played(tool="search", input={"query": "x"})
    assert play(SCRIPT, body(("x = 1", False), ("found", False))) == Played(
        text="result=found error=no"
    )


def test_unless_error_and_placeholders() -> None:
    assert play(SCRIPT, body(("Error: gone", True))) == Played(text="failed: Error: gone")
    assert play(SCRIPT, body(("a", False), ("boom", True))) == Played(text="result=boom error=yes")


def test_past_the_last_step() -> None:
    four = body(("a", False), ("b", False), ("c", False))
    assert play(SCRIPT, four) == Played(text="result=c error=no")
    tool_last = parse_steps([{"tool": "search", "input": {}}])
    assert play(tool_last, body(("a", False))) is None  # then: the canned reply
    assert play([], body()) is None


def test_a_tool_that_was_not_offered_is_named() -> None:
    played = play(SCRIPT, body(tools=[{"name": "search", "input_schema": {"type": "object"}}]))
    assert played is not None and played.tool is None
    assert "`read_file`" in (played.text or "") and "tools offered: `search`" in (played.text or "")


@given(st.text())
def test_placeholders_are_replaced_once(result: str) -> None:
    """A tool result that itself holds a placeholder is quoted as it is, never expanded."""
    played = play([Step(text="<{last_result}|{last_error}>")], body((result, False)))
    assert played == Played(text=f"<{result}|no>")


def test_last_tool_result_reads_text_blocks() -> None:
    request = body()
    result = {
        "type": "tool_result",
        "tool_use_id": "t",
        "is_error": True,
        "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
    }
    request["messages"].append({"role": "user", "content": [result]})
    assert last_tool_result(request) == ("one\ntwo", True)
    assert last_tool_result({"messages": [{"role": "user", "content": "hi"}]}) is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"tool": "a", "text": "b"}, "exactly one of"),
        ({}, "exactly one of"),
        ({"text": "a", "input": {"x": 1}}, "takes no 'input'"),
        ({"tool": ""}, "must name a tool"),
        ({"tool": "a", "input": []}, "input"),
        ({"tool": "a", "colour": 1}, "unknown step field(s) ['colour']"),
        ("read", "must be a JSON object"),
        ({"tool": "a", "unless_error": {"tool": 1}}, "tool"),
    ],
)
def test_bad_steps_are_refused_with_the_step_named(data: Any, problem: str) -> None:
    with pytest.raises((TypeError, ValueError), match="step 1: ") as caught:
        parse_steps([{"text": "fine"}, data])
    assert problem in str(caught.value)


def test_steps_round_trip_through_json() -> None:
    assert parse_steps([s.to_dict() for s in SCRIPT]) == SCRIPT
    with pytest.raises(TypeError, match="JSON list"):
        parse_steps({"text": "a"})


def test_plan_reply_order_fault_then_conversation_then_canned() -> None:
    request = body()
    reply = plan_reply(request, None, "m", "t", SCRIPT)
    assert reply.tool == {
        "type": "tool_use",
        "id": "t",
        "name": "read_file",
        "input": {"path": "a.py"},
    }
    assert reply.stop_reason == "tool_use"
    # A fault's text (or tool_use) wins over the conversation; its deltas split the step's text.
    assert plan_reply(request, Fault(text="scripted"), "m", "t", SCRIPT).text == "scripted"
    searched = plan_reply(request, Fault(tool_use="search"), "m", "t", SCRIPT)
    assert searched.tool is not None and searched.tool["name"] == "search"
    done = body(("a", False), ("b", False))
    reply = plan_reply(done, Fault(deltas=2, stop_reason="max_tokens"), "m", "t", SCRIPT)
    assert reply.deltas == ["result=b ", "error=no"]
    assert reply.stop_reason == "max_tokens"
    assert plan_reply(done, None, "m", "t", ()).text == reply_text(done)
