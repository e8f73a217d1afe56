"""The emulator over a real loopback socket, driven by a raw httpx client.

Every fault is checked from the client's side (what arrives on the wire) and from the
emulator's (what it recorded). Nothing waits on a clock: tests wait on the emulator's events.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ren_lsp.emulator import Emulator, Fault
from ren_lsp.emulator.faults import ERROR_TYPES
from ren_lsp.emulator.replies import build_tool_input, extract_fences, reply_text
from ren_lsp.emulator.schemas import event_validator

KEY = "sk-ren-test-4f1c9e0b7d2a"
CODE = "def compute_total(items):\n    return sum(items)\n"

Event = tuple[str, str]  # (event name, raw data)


def request(text: str = f"What does this do?\n```python\n{CODE}```", **extra: Any) -> dict:
    return {"model": "astra", "stream": True, "messages": [{"role": "user", "content": text}]} | (
        extra
    )


def parse_sse(raw: str) -> list[Event]:
    events = []
    for block in raw.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields["event"], fields["data"]))
    return events


def validated(events: list[Event]) -> list[dict]:
    """The decoded data of each known event, after checking it against the events schema."""
    validator = event_validator()
    decoded = []
    for name, data in events:
        value = json.loads(data)
        assert value["type"] == name
        validator.validate(value)
        decoded.append(value)
    return decoded


def text_of(decoded: list[dict]) -> str:
    return "".join(
        e["delta"]["text"]
        for e in decoded
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta"
    )


async def stream(client: httpx.AsyncClient, body: dict) -> tuple[list[Event], Exception | None]:
    """POST a streamed request; the events that arrived and the transport error, if any."""
    chunks: list[bytes] = []
    error = None
    try:
        async with client.stream("POST", "/v1/messages", json=body) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
    except httpx.TransportError as exc:
        error = exc
    return parse_sse(b"".join(chunks).decode()), error


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
        yield http


# --- normal replies ---------------------------------------------------------------------------


async def test_streamed_reply(emu: Emulator, client: httpx.AsyncClient) -> None:
    body = request()
    events, error = await stream(client, body)

    assert error is None
    decoded = validated(events)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = names[3:-3]
    assert len(deltas) > 10 and set(deltas) == {"content_block_delta"}
    assert text_of(decoded) == reply_text(body)
    assert decoded[-2]["delta"]["stop_reason"] == "end_turn"
    assert decoded[-2]["usage"]["output_tokens"] == len(deltas)
    assert decoded[0]["message"]["usage"]["input_tokens"] >= 1

    record = emu.requests[0]
    assert (record.status, record.stream, record.completed, record.hung_up) == (
        200,
        True,
        True,
        False,
    )
    assert record.events_sent == len(events)
    assert record.body == body


async def test_non_streamed_reply(emu: Emulator, client: httpx.AsyncClient) -> None:
    body = request(stream=False)
    response = await client.post("/v1/messages", json=body)

    assert response.status_code == 200
    assert response.headers["request-id"]
    message = response.json()
    assert {k: message[k] for k in ("type", "role", "model", "stop_reason")} == {
        "type": "message",
        "role": "assistant",
        "model": "astra",
        "stop_reason": "end_turn",
    }
    assert message["id"].startswith("msg_")
    assert message["content"] == [{"type": "text", "text": reply_text(body)}]
    assert message["usage"]["output_tokens"] > 0
    assert emu.requests[0].completed and not emu.requests[0].stream


async def test_explanation_names_the_function_it_was_sent(client: httpx.AsyncClient) -> None:
    events, _ = await stream(client, request())
    text = text_of(validated(events))
    assert text.startswith("**Ren emulator** (canned reply, not AI).")
    assert "`compute_total`" in text
    assert "`python`" in text


async def test_refactor_returns_a_block_derived_from_the_input(client: httpx.AsyncClient) -> None:
    code = "fn main() {   \n    run();\n\n\n\n}"
    events, _ = await stream(client, request(f"Refactor for clarity:\n```rust\n{code}\n```"))
    text = text_of(validated(events))
    assert text.startswith("Ren emulator (canned, not AI): here is the code rewritten.")
    assert extract_fences(text) == [
        ("rust", "// Refactored by the Ren emulator\nfn main() {\n    run();\n\n}")
    ]


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"), [*ERROR_TYPES.items(), (503, "api_error"), (502, "api_error")]
)
async def test_scripted_status(
    emu: Emulator, client: httpx.AsyncClient, status: int, error_type: str
) -> None:
    emu.script(Fault(status=status))
    response = await client.post("/v1/messages", json=request())

    assert response.status_code == status
    assert response.headers["request-id"].startswith("req_")
    error = response.json()
    assert error["type"] == "error"
    assert error["error"]["type"] == error_type
    assert "Ren emulator" in error["error"]["message"]
    assert "retry-after" not in response.headers
    # The script is used up: the next request is answered normally.
    assert (await client.post("/v1/messages", json=request())).status_code == 200
    assert [r.status for r in emu.requests] == [status, 200]


async def test_error_type_and_message_can_be_overridden(
    emu: Emulator, client: httpx.AsyncClient
) -> None:
    emu.script(Fault(status=400, error_type="custom_error", message="nope"))
    response = await client.post("/v1/messages", json=request())
    assert response.json()["error"] == {"type": "custom_error", "message": "nope"}


@pytest.mark.parametrize(("seconds", "header"), [(2, "2"), (0.5, "0.5")])
async def test_retry_after(
    emu: Emulator, client: httpx.AsyncClient, seconds: float, header: str
) -> None:
    emu.script(Fault(status=429, retry_after=seconds))
    response = await client.post("/v1/messages", json=request())
    assert response.status_code == 429
    assert response.headers["retry-after"] == header


async def test_missing_key_is_401(emu: Emulator) -> None:
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
            response = await http.post("/v1/messages", json=request())
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"
        assert "Missing API key" in response.json()["error"]["message"]
        assert response.headers["request-id"]


async def test_wrong_key_is_401(emu: Emulator) -> None:
    headers = {"Authorization": "Bearer sk-ren-wrong"}
    async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
        response = await http.post("/v1/messages", json=request())
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


async def test_any_key_is_accepted_when_none_is_configured() -> None:
    async with Emulator() as emulator:
        headers = {"Authorization": "Bearer whatever"}
        async with httpx.AsyncClient(base_url=emulator.base_url, headers=headers) as http:
            assert (await http.post("/v1/messages", json=request())).status_code == 200


async def test_invalid_request_names_the_field(emu: Emulator, client: httpx.AsyncClient) -> None:
    body = request()
    body["messages"][0]["role"] = "bot"
    response = await client.post("/v1/messages", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "messages.0.role: 'bot' is not one of ['user', 'assistant']" in error["message"]
    assert emu.requests[0].body == body and emu.requests[0].status == 400


async def test_unparseable_json_is_400(emu: Emulator, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/messages", content=b'{"model": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert emu.requests[0].body is None


async def test_unknown_model_and_path_are_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/messages", json=request(model="astra-xl"))
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
    assert "'astra-xl'" in response.json()["error"]["message"]

    response = await client.post("/v2/messages", json=request())
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
    assert response.headers["request-id"]


# --- stream faults ----------------------------------------------------------------------------


async def test_delay_holds_back_the_first_byte(emu: Emulator) -> None:
    emu.script(Fault(delay=30))
    headers = {"Authorization": f"Bearer {KEY}"}
    timeout = httpx.Timeout(5.0, read=0.2)  # shorter than the delay: the client gives up
    async with httpx.AsyncClient(base_url=emu.base_url, headers=headers, timeout=timeout) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/v1/messages", json=request())

    # Giving up closed the connection, and the emulator noticed during its delay.
    record = await emu.wait_for_hangup()
    assert (record.status, record.events_sent, record.completed) == (0, 0, False)


async def test_short_delay_then_normal_reply(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.script(Fault(delay=0.05))
    events, error = await stream(client, request())
    assert error is None and events[-1][0] == "message_stop"


async def test_drop_after(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.script(Fault(drop_after=5))
    events, error = await stream(client, request())

    assert isinstance(error, httpx.RemoteProtocolError)  # the body ended mid-stream
    assert len(events) == 5
    assert "message_stop" not in [name for name, _ in events]
    validated(events)
    record = emu.requests[0]
    assert (record.events_sent, record.completed, record.hung_up) == (5, False, False)


async def test_error_event_after(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.script(Fault(error_event_after=4))
    events, error = await stream(client, request())

    assert error is None  # the stream ends cleanly, with the error as its last event
    decoded = validated(events)
    assert len(events) == 5
    assert decoded[-1] == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": decoded[-1]["error"]["message"]},
    }
    assert "message_stop" not in [name for name, _ in events]
    assert emu.requests[0].events_sent == 5


async def test_malformed_after(emu: Emulator, client: httpx.AsyncClient) -> None:
    body = request()
    emu.script(Fault(malformed_after=4))
    events, error = await stream(client, body)

    assert error is None
    name, data = events[4]
    assert name == "content_block_delta"
    with pytest.raises(json.JSONDecodeError):
        json.loads(data)
    rest = events[:4] + events[5:]
    assert text_of(validated(rest)) == reply_text(body)  # it carried on normally
    assert events[-1][0] == "message_stop"


async def test_unknown_event(client: httpx.AsyncClient, emu: Emulator) -> None:
    emu.script(Fault(unknown_event=True))
    events, _ = await stream(client, request())

    name, data = events[1]
    assert name == "astra_future_thing"
    assert json.loads(data)["type"] == "astra_future_thing"
    assert events[0][0] == "message_start"
    validated(events[:1] + events[2:])
    assert events[-1][0] == "message_stop"


TOOLS = [
    {"name": "search", "description": "Search", "input_schema": {"type": "object"}},
    {
        "name": "open_file",
        "description": "Open a file",
        "input_schema": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "line": {"type": "integer"}},
            "required": ["path", "line"],
        },
    },
]


async def test_tool_use(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.script(Fault(tool_use="open_file"))
    events, _ = await stream(client, request(tools=TOOLS))
    decoded = validated(events)

    start = decoded[1]["content_block"]
    assert (start["type"], start["name"], start["input"]) == ("tool_use", "open_file", {})
    pieces = [
        e["delta"]["partial_json"]
        for e in decoded
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    ]
    assert len(pieces) >= 2
    tool_input = json.loads("".join(pieces))
    assert (
        tool_input == build_tool_input(TOOLS[1]["input_schema"]) == {"path": "example", "line": 1}
    )
    assert decoded[-2]["delta"]["stop_reason"] == "tool_use"


async def test_tool_use_without_streaming(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.script(Fault(tool_use=True))
    message = (await client.post("/v1/messages", json=request(stream=False, tools=TOOLS))).json()
    assert message["stop_reason"] == "tool_use"
    assert message["content"][0]["type"] == "tool_use"
    assert message["content"][0]["name"] == "search"


async def test_tool_use_without_tools_is_ignored(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.script(Fault(tool_use=True))
    events, _ = await stream(client, request())
    assert validated(events)[-2]["delta"]["stop_reason"] == "end_turn"


async def test_twenty_thousand_deltas(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.script(Fault(deltas=20_000))
    events, error = await stream(client, request())

    assert error is None
    texts = [
        json.loads(data)["delta"]["text"] for name, data in events if name == "content_block_delta"
    ]
    assert len(texts) == 20_000
    assert all(texts)
    assert events[-1][0] == "message_stop"


async def test_text_override(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.script(Fault(text="Hello from a script.", deltas=2))
    events, _ = await stream(client, request())
    decoded = validated(events)
    assert [e["delta"]["text"] for e in decoded if e["type"] == "content_block_delta"] == [
        "Hello from ",
        "a script.",
    ]


async def test_hangup_mid_trickle_is_recorded(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.script(Fault(trickle=0.05))
    seen = 0
    async with client.stream("POST", "/v1/messages", json=request()) as response:
        async for line in response.aiter_lines():
            seen += line.startswith("event: content_block_delta")
            if seen == 2:
                break  # leaving the block closes the response mid-stream

    record = await emu.wait_for_hangup()
    assert record.hung_up and not record.completed
    assert 5 <= record.events_sent < 20


async def test_stop_ends_a_slow_stream_promptly(emu: Emulator, client: httpx.AsyncClient) -> None:
    emu.script(Fault(trickle=60))
    async with client.stream("POST", "/v1/messages", json=request()) as response:
        lines = response.aiter_lines()
        assert await anext(lines) == "event: message_start"
        async with asyncio.timeout(5):
            await emu.stop()
        with pytest.raises(httpx.RemoteProtocolError):
            async for _ in lines:
                pass


async def test_wait_for_requests(emu: Emulator, client: httpx.AsyncClient) -> None:
    with pytest.raises(TimeoutError):
        await emu.wait_for_requests(1, timeout=0.05)
    emu.script(Fault(delay=30))
    task = asyncio.create_task(client.post("/v1/messages", json=request()))
    await emu.wait_for_requests(1)
    assert emu.requests[0].status == 0  # recorded on arrival, before any answer
    task.cancel()
    await emu.wait_for_hangup(0)


# --- control endpoints, health, secrecy -------------------------------------------------------


async def test_control_endpoints(emu: Emulator, client: httpx.AsyncClient) -> None:
    assert (await client.get("/")).json() == {"emulator": "ren-lsp", "ok": True}
    assert (await client.get("/health")).json() == {"emulator": "ren-lsp", "ok": True}

    faults = [{"status": 529, "retryAfter": 1}, {"dropAfter": 2}]
    assert (await client.post("/_emulator/script", json=faults)).json() == {"queued": 2}
    assert (await client.post("/v1/messages", json=request())).status_code == 529
    assert len((await stream(client, request()))[0]) == 2

    recorded = (await client.get("/_emulator/requests")).json()
    assert [r["status"] for r in recorded] == [529, 200]
    assert recorded[0]["fault"] == {"status": 529, "retry_after": 1.0}
    assert recorded[1]["events_sent"] == 2
    assert recorded[0]["headers"]["authorization"] == "Bearer ***"

    bad = await client.post("/_emulator/script", json=[{"nonsense": 1}])
    assert bad.status_code == 400 and "nonsense" in bad.json()["error"]["message"]

    await client.post("/_emulator/script", json=[{"status": 500}])
    assert (await client.post("/_emulator/reset")).status_code == 200
    assert (await client.get("/_emulator/requests")).json() == []
    assert emu.requests == []
    assert (await client.post("/v1/messages", json=request())).status_code == 200


async def test_key_is_never_stored_or_logged(
    emu: Emulator,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    emu.script(Fault(status=500), Fault(trickle=0.01))
    await client.post("/v1/messages", json=request())
    await stream(client, request())
    await client.post("/v1/messages", json={"bad": True})
    async with httpx.AsyncClient(base_url=emu.base_url, headers={"x-api-key": KEY}) as http:
        await http.post("/v1/messages", json=request())
    dumped = (await client.get("/_emulator/requests")).text

    assert all(r.headers["authorization"] == "Bearer ***" for r in emu.requests[:3])
    assert emu.requests[3].headers["x-api-key"] == "***"
    captured = capsys.readouterr()
    for text in (repr(emu.requests), repr(emu), dumped, caplog.text, captured.out, captured.err):
        assert KEY not in text


async def test_serve_forever_prints_the_url_first_and_stops_on_sigterm() -> None:
    code = (
        "import asyncio; from ren_lsp.emulator import serve_forever; asyncio.run(serve_forever())"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(10):
            base_url = (await process.stdout.readline()).decode().strip()  # type: ignore[union-attr]
        assert base_url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=base_url) as http:
            assert (await http.get("/health")).json()["ok"] is True
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            out, _err = await process.communicate()
        assert process.returncode == 0
        assert out == b""  # nothing after the first line
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
