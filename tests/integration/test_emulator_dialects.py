"""Every dialect of the emulator over a real loopback socket, read by a raw httpx client.

The same question gets the same canned text in ren, anthropic, openai and ollama, each in its
own wire shapes; a scripted conversation round-trips a tool call in each. Keys and schema
refusals are in test_emulator_dialect_refusals.py, faults in test_emulator_dialect_faults.py.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ren_lsp.emulator import Emulator, Fault, Step
from ren_lsp.emulator.replies import reply_text, split_deltas
from tests.dialect_wire import (
    DIALECTS,
    PATHS,
    Caller,
    decode_reply,
    decode_stream,
    request,
    tool_round,
)

KEY = "sk-ren-test-dialects-93c1"
CODE = "def compute_total(items):\n    return sum(items)\n"
QUESTION = f"What does this do?\n```python\n{CODE}```"
READ_FILE = {
    "name": "read_file",
    "description": "Read a file of the workspace",
    "schema": {
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
    },
}
SEARCH = {"name": "search", "description": "Search", "schema": {"type": "object"}}
STOPS = {"ren": "end_turn", "anthropic": "end_turn", "openai": "stop", "ollama": "stop"}


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture
async def api(emu: Emulator) -> AsyncIterator[Caller]:
    # One client per test, not per request: making one is costly (its TLS context), and each
    # request carries its own dialect's headers anyway.
    async with httpx.AsyncClient() as http:
        yield Caller(http, emu, KEY)


# --- canned replies ---------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_streamed_canned_reply(api: Caller, emu: Emulator, dialect: str) -> None:
    body = request(dialect, QUESTION, stream=True, system="Be brief.")
    response, raw = await api.stream(dialect, body)
    decoded = decode_stream(dialect, raw)

    assert response.status_code == 200
    record = emu.requests[0]
    assert (record.dialect, record.path, record.stream, record.completed) == (
        dialect,
        PATHS[dialect],
        True,
        True,
    )
    assert record.internal is not None and record.internal["system"] == "Be brief."
    assert decoded.text == reply_text(record.internal)
    # The same question and system text: the same answer whatever the dialect.
    ren_body = request("ren", QUESTION, stream=True, system="Be brief.")
    assert decoded.text == reply_text(ren_body)
    assert decoded.ended and decoded.finish == STOPS[dialect]
    assert decoded.text_units > 10
    assert record.events_sent == len(decoded.units)
    kind = "application/x-ndjson" if dialect == "ollama" else "text/event-stream"
    assert response.headers["content-type"].startswith(kind)


async def test_openai_chunks_have_openai_shapes(api: Caller, emu: Emulator) -> None:
    body = request("openai", QUESTION, stream=True, stream_options={"include_usage": True})
    _, raw = await api.stream("openai", body)
    assert b"event:" not in raw
    units = decode_stream("openai", raw).units

    assert units[-1] == "[DONE]"
    *chunks, usage = units[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in units[:-1])
    assert all(c["id"] == chunks[0]["id"] and c["id"].startswith("chatcmpl-") for c in chunks)
    assert all(isinstance(c["created"], int) and c["model"] == "astra" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0]["role"] == "assistant" and deltas[0]["content"]
    assert not any("role" in d for d in deltas[1:])
    assert deltas[-1] == {} and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert usage["choices"] == []
    prompt, completion = usage["usage"]["prompt_tokens"], usage["usage"]["completion_tokens"]
    assert completion == len(chunks) - 1
    assert usage["usage"]["total_tokens"] == prompt + completion

    emu.reset()
    _, raw = await api.stream("openai", request("openai", QUESTION, stream=True))
    without = decode_stream("openai", raw)
    assert without.usage is None and len(without.units) == len(units) - 1


async def test_ollama_lines_have_ollama_shapes(api: Caller, emu: Emulator) -> None:
    # No `stream` field: Ollama streams by default.
    body = request("ollama", QUESTION, stream=True)
    del body["stream"]
    _, raw = await api.stream("ollama", body)
    units = decode_stream("ollama", raw).units

    assert raw.endswith(b"\n") and len(raw.split(b"\n")) == len(units) + 1
    *lines, last = units
    assert all(u["done"] is False and u["message"]["role"] == "assistant" for u in lines)
    for unit in units:
        stamp = datetime.datetime.fromisoformat(unit["created_at"])
        assert stamp.tzinfo is not None
    assert last["done"] is True and last["done_reason"] == "stop"
    assert last["message"] == {"role": "assistant", "content": ""}
    assert last["eval_count"] == len(lines) and last["prompt_eval_count"] >= 1
    assert last["total_duration"] > 0
    assert emu.requests[0].stream is True


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_canned_reply_without_streaming(api: Caller, emu: Emulator, dialect: str) -> None:
    body = request(dialect, QUESTION, stream=False)
    response = await api.post(dialect, body)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    decoded = decode_reply(dialect, response.json())
    record = emu.requests[0]
    assert record.internal is not None
    assert (
        decoded.text
        == reply_text(record.internal)
        == reply_text(request("ren", QUESTION, stream=False))
    )
    assert decoded.finish == STOPS[dialect]
    assert (record.stream, record.completed, record.dialect) == (False, True, dialect)
    if dialect == "openai":
        reply = response.json()
        assert reply["object"] == "chat.completion" and reply["id"].startswith("chatcmpl-")
        usage = reply["usage"]
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    if dialect == "ollama":
        assert response.json()["done"] is True


# --- tool calls and scripted conversations ----------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("stream", [True, False])
async def test_tool_call_round_trip(api: Caller, emu: Emulator, dialect: str, stream: bool) -> None:
    emu.converse(
        [
            {"tool": "read_file", "input": {"path": "src/calc.py"}},
            {"text": "The file holds: {last_result} (error: {last_error})"},
        ]
    )
    offered = [SEARCH, READ_FILE]
    first = request(dialect, "What is in calc.py?", stream=stream, tool_specs=offered)

    async def ask(body: dict[str, Any]) -> Any:
        if stream:
            response, raw = await api.stream(dialect, body)
            assert response.status_code == 200
            return decode_stream(dialect, raw)
        response = await api.post(dialect, body)
        assert response.status_code == 200, response.text
        return decode_reply(dialect, response.json())

    call = await ask(first)
    assert call.tool_calls == [("read_file", {"path": "src/calc.py"})]
    assert call.text == ""
    assert call.finish == {"openai": "tool_calls", "ollama": "stop"}.get(dialect, "tool_use")
    if dialect != "ollama":  # Ollama's tool calls carry no id
        assert call.tool_ids[0].startswith("call_" if dialect == "openai" else "toolu_")

    call_id = call.tool_ids[0] if call.tool_ids else "unused"
    history = tool_round(
        dialect,
        "What is in calc.py?",
        call_id,
        "read_file",
        {"path": "src/calc.py"},
        "def add(a, b): return a + b",
    )
    answer = await ask(request(dialect, "", stream=stream, tool_specs=offered, history=history))
    assert answer.text == "The file holds: def add(a, b): return a + b (error: no)"
    assert answer.tool_calls == [] and answer.finish == STOPS[dialect]
    assert [r.dialect for r in emu.requests] == [dialect, dialect]
    # Nothing was consumed: the first request gets the same tool call again.
    assert (await ask(first)).tool_calls == call.tool_calls


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_unless_error_plays_the_alternative(api: Caller, emu: Emulator, dialect: str) -> None:
    emu.converse(
        [
            {"tool": "read_file", "input": {"path": "a.py"}},
            {
                "tool": "search",
                "input": {"query": "a"},
                "unless_error": {"text": "Gave up: {last_result} (error: {last_error})"},
            },
            {"text": "done"},
        ]
    )
    offered = [SEARCH, READ_FILE]
    failed = tool_round(
        dialect,
        "Read a.py",
        "call_1",
        "read_file",
        {"path": "a.py"},
        "Error: no such file",
        is_error=True,
    )
    body = request(dialect, "", stream=False, tool_specs=offered, history=failed)
    decoded = decode_reply(dialect, (await api.post(dialect, body)).json())
    assert decoded.text == "Gave up: Error: no such file (error: yes)"

    worked = tool_round(dialect, "Read a.py", "call_1", "read_file", {"path": "a.py"}, "x = 1")
    body = request(dialect, "", stream=False, tool_specs=offered, history=worked)
    decoded = decode_reply(dialect, (await api.post(dialect, body)).json())
    assert decoded.tool_calls == [("search", {"query": "a"})]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_tool_the_request_did_not_offer_is_named(
    api: Caller, emu: Emulator, dialect: str
) -> None:
    emu.converse([Step(tool="edit_file", input={"path": "a.py"})])
    body = request(dialect, "Fix it", stream=False, tool_specs=[SEARCH, READ_FILE])
    decoded = decode_reply(dialect, (await api.post(dialect, body)).json())
    assert decoded.tool_calls == []
    assert "`edit_file`" in decoded.text and "`search`, `read_file`" in decoded.text

    body = request(dialect, "Fix it", stream=False)
    decoded = decode_reply(dialect, (await api.post(dialect, body)).json())
    assert "tools offered: none" in decoded.text


async def test_past_the_last_step_and_faults_on_top(api: Caller, emu: Emulator) -> None:
    emu.converse([{"text": "Only answer."}])
    emu.script(Fault(status=429, retry_after=1))
    body = request("openai", "Hi", stream=False)
    assert (await api.post("openai", body)).status_code == 429  # the fault is consumed first
    history = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}] * 3
    later = request("openai", "Again", stream=False, history=history)
    assert decode_reply("openai", (await api.post("openai", later)).json()).text == ("Only answer.")

    emu.converse([{"tool": "search", "input": {}}])
    body = request(
        "ren",
        "Q",
        stream=False,
        history=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
    )
    text = decode_reply("ren", (await api.post("ren", body)).json()).text
    assert text == reply_text(body)  # past a last tool step: the canned reply

    emu.reset()
    assert emu.conversation == () and emu.requests == []
    assert decode_reply("ren", (await api.post("ren", body)).json()).text == reply_text(body)


async def test_conversation_control_endpoint(emu: Emulator) -> None:
    steps = [
        {"tool": "read_file", "input": {"path": "a"}, "unlessError": {"text": "no"}},
        {"text": "ok"},
    ]
    async with httpx.AsyncClient(base_url=emu.base_url) as http:
        assert (await http.post("/_emulator/conversation", json=steps)).json() == {"steps": 2}
        got = (await http.get("/_emulator/conversation")).json()
        assert got == [
            {"tool": "read_file", "input": {"path": "a"}, "unless_error": {"text": "no"}},
            {"text": "ok"},
        ]
        assert emu.conversation[0].unless_error == Step(text="no")

        bad = await http.post("/_emulator/conversation", json=[{"text": "a"}, {"tool": 3}])
        assert bad.status_code == 400
        assert "step 1" in bad.json()["error"]["message"]
        assert len(emu.conversation) == 2  # a bad script leaves the old one

        await http.post("/_emulator/reset")
        assert (await http.get("/_emulator/conversation")).json() == []
    with pytest.raises(ValueError, match="step 0"):
        emu.converse([{"text": "x", "tool": "y"}])


# --- any text, any dialect ----------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(text=st.text(min_size=1, max_size=60), deltas=st.integers(1, 8))
async def test_any_text_reassembles_in_every_dialect(text: str, deltas: int) -> None:
    async with Emulator() as emulator, httpx.AsyncClient() as http:
        api = Caller(http, emulator, KEY)
        seen = set()
        for dialect in DIALECTS:
            emulator.script(Fault(text=text, deltas=deltas))
            _, raw = await api.stream(dialect, request(dialect, "hi", stream=True))
            decoded = decode_stream(dialect, raw)
            assert decoded.ended
            seen.add(decoded.text)
            emulator.script(Fault(text=text, deltas=deltas))
            reply = await api.post(dialect, request(dialect, "hi", stream=False))
            seen.add(decode_reply(dialect, reply.json()).text)
        # One text, reassembled identically from eight encodings: the text split as canned
        # text is (stretched with repeats only when it has fewer words than deltas).
        expected = "".join(split_deltas(text, deltas))
        assert seen == {expected}
        if len(re.findall(r"\S+", text)) >= deltas:
            assert expected == text
        logged = json.loads(json.dumps([r.to_dict() for r in emulator.requests]))
        assert [r["dialect"] for r in logged] == [d for d in DIALECTS for _ in (1, 2)]
