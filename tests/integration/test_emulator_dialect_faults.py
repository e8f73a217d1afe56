"""Every scripted fault in each new dialect (anthropic, openai, ollama), over a real socket.

Checked from the client's side (what arrives, decoded by hand in `tests/dialect_wire`) and from
the emulator's (what it recorded). "N events" counts the dialect's units: SSE events for
anthropic, `data:` lines for openai (`[DONE]` included), JSON lines for ollama.
Nothing waits on a clock: tests wait on the emulator's events.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from ren_lsp.emulator import Emulator, Fault
from ren_lsp.emulator.replies import build_tool_input, reply_text
from tests.dialect_wire import (
    NEW_DIALECTS,
    PATHS,
    Caller,
    decode_reply,
    decode_stream,
    error_message,
    headers,
    request,
)

KEY = "sk-ren-test-faults-2b8e"
QUESTION = "What does this do?\n```python\ndef f(x):\n    return x + 1\n```"
OVERLOADED = {
    "anthropic": {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded (Ren emulator)"},
    },
    "openai": {
        "error": {
            "message": "Overloaded (Ren emulator)",
            "type": "server_error",
            "param": None,
            "code": "overloaded",
        }
    },
    "ollama": {"error": "Overloaded (Ren emulator)"},
}
# What OpenAI's error body says for each scripted status: (type, code).
OPENAI_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", "permission_denied"),
    404: ("invalid_request_error", "not_found"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
    529: ("server_error", "overloaded"),
}

pytestmark = pytest.mark.parametrize("dialect", NEW_DIALECTS)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient, emu: Emulator) -> Caller:
    return Caller(http, emu, KEY)


def body(dialect: str) -> dict:
    return request(dialect, QUESTION, stream=True)


# --- statuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(OPENAI_ERRORS))
async def test_scripted_status(api: Caller, dialect: str, status: int) -> None:
    api.emu.script(Fault(status=status))
    response = await api.post(dialect, body(dialect))

    assert response.status_code == status
    assert "retry-after" not in response.headers
    assert "Ren emulator" in error_message(dialect, response.json())
    if dialect == "openai":
        error = response.json()["error"]
        assert (error["type"], error["code"]) == OPENAI_ERRORS[status]
    # The script is used up: the next request is answered normally.
    assert (await api.post(dialect, body(dialect))).status_code == 200
    assert [r.status for r in api.emu.requests] == [status, 200]
    assert [r.dialect for r in api.emu.requests] == [dialect, dialect]


@pytest.mark.parametrize(("seconds", "header"), [(2, "2"), (0.5, "0.5")])
async def test_retry_after(api: Caller, dialect: str, seconds: float, header: str) -> None:
    api.emu.script(Fault(status=429, retry_after=seconds))
    response = await api.post(dialect, body(dialect))
    assert response.status_code == 429
    assert response.headers["retry-after"] == header
    error_message(dialect, response.json())  # still the dialect's error body


async def test_error_type_and_message_can_be_overridden(api: Caller, dialect: str) -> None:
    api.emu.script(Fault(status=400, error_type="custom_error", message="nope"))
    response = await api.post(dialect, body(dialect))
    assert error_message(dialect, response.json()) == "nope"
    if dialect != "ollama":  # Ollama's errors have no type
        assert response.json()["error"]["type"] == "custom_error"


# --- before the first byte --------------------------------------------------------------------


async def test_delay_holds_back_the_first_byte(emu: Emulator, dialect: str) -> None:
    emu.script(Fault(delay=30))
    timeout = httpx.Timeout(5.0, read=0.2)  # shorter than the delay: the client gives up
    async with httpx.AsyncClient(timeout=timeout) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(
                emu.base_url + PATHS[dialect], json=body(dialect), headers=headers(dialect, KEY)
            )
    # Giving up closed the connection, and the emulator noticed during its delay.
    record = await emu.wait_for_hangup()
    assert (record.status, record.events_sent, record.completed, record.dialect) == (
        0,
        0,
        False,
        dialect,
    )


async def test_short_delay_then_normal_reply(api: Caller, dialect: str) -> None:
    api.emu.script(Fault(delay=0.05))
    _, raw = await api.stream(dialect, body(dialect))
    assert decode_stream(dialect, raw).ended


# --- mid-stream -------------------------------------------------------------------------------


async def test_drop_after(api: Caller, dialect: str) -> None:
    api.emu.script(Fault(drop_after=5))
    response, raw, error = await api.stream_until_broken(dialect, body(dialect))

    assert response.status_code == 200
    assert isinstance(error, httpx.RemoteProtocolError)  # the body ended mid-stream
    decoded = decode_stream(dialect, raw)
    assert len(decoded.units) == 5 and not decoded.ended
    assert decoded.text  # text had arrived before the break
    record = api.emu.requests[0]
    assert (record.events_sent, record.completed, record.hung_up) == (5, False, False)


async def test_drop_after_zero_is_a_200_with_nothing(api: Caller, dialect: str) -> None:
    api.emu.script(Fault(drop_after=0))
    response, raw, error = await api.stream_until_broken(dialect, body(dialect))
    assert (response.status_code, raw) == (200, b"")
    assert isinstance(error, httpx.RemoteProtocolError)


async def test_error_event_after(api: Caller, dialect: str) -> None:
    api.emu.script(Fault(error_event_after=4))
    _, raw, error = await api.stream_until_broken(dialect, body(dialect))

    assert error is None  # the stream ends cleanly, with the error as its last unit
    decoded = decode_stream(dialect, raw)
    assert len(decoded.units) == 5
    assert decoded.units[-1] == OVERLOADED[dialect]
    assert not decoded.ended  # no [DONE], no done line, no message_stop
    assert api.emu.requests[0].events_sent == 5


async def test_malformed_after(api: Caller, dialect: str) -> None:
    api.emu.script(Fault(malformed_after=2))
    _, raw, error = await api.stream_until_broken(dialect, body(dialect))

    assert error is None
    decoded = decode_stream(dialect, raw)
    broken = decoded.units[2]
    assert isinstance(broken, str)  # a unit arrived that is not JSON
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken)
    assert all(
        not isinstance(u, str) or u == "[DONE]" for i, u in enumerate(decoded.units) if i != 2
    )
    # It carried on normally: the whole text, and the proper end.
    assert decoded.text == reply_text(api.emu.requests[0].internal or {})
    assert decoded.ended


async def test_unknown_event_is_ignorable(api: Caller, dialect: str) -> None:
    api.emu.script(Fault(unknown_event=True))
    _, raw = await api.stream(dialect, body(dialect))
    decoded = decode_stream(dialect, raw)

    plain = decode_stream(dialect, (await api.stream(dialect, body(dialect)))[1])
    assert decoded.text == plain.text == reply_text(api.emu.requests[0].internal or {})
    assert decoded.ended
    if dialect == "anthropic":
        assert decoded.units[1]["type"] == "astra_future_thing"
        assert len(decoded.units) == len(plain.units) + 1
    else:
        first = decoded.units[0]
        assert "ren_emulator_future_field" in first
        assert decoded.comments == (["keep-alive"] if dialect == "openai" else [])
        assert len(decoded.units) == len(plain.units)
        assert {k: v for k, v in first.items() if k != "ren_emulator_future_field"}.keys() == (
            plain.units[0].keys()
        )


async def test_trickle_delivers_everything(api: Caller, dialect: str) -> None:
    api.emu.script(Fault(trickle=0.01, text="one two three four", deltas=2))
    _, raw = await api.stream(dialect, body(dialect))
    decoded = decode_stream(dialect, raw)
    assert (decoded.text, decoded.text_units, decoded.ended) == ("one two three four", 2, True)
    assert api.emu.requests[0].completed


async def test_hangup_mid_trickle_is_recorded(api: Caller, dialect: str) -> None:
    api.emu.script(Fault(trickle=0.05))
    url = api.emu.base_url + PATHS[dialect]
    seen = 0
    async with api.http.stream(
        "POST", url, json=body(dialect), headers=headers(dialect, KEY)
    ) as response:
        async for line in response.aiter_lines():
            seen += bool(line.strip())
            if seen == 4:
                break  # leaving the block closes the response mid-stream

    record = await api.emu.wait_for_hangup()
    assert record.hung_up and not record.completed
    assert 2 <= record.events_sent < 20


async def test_stop_ends_a_slow_stream_promptly(api: Caller, dialect: str) -> None:
    api.emu.script(Fault(trickle=60))
    url = api.emu.base_url + PATHS[dialect]
    async with api.http.stream(
        "POST", url, json=body(dialect), headers=headers(dialect, KEY)
    ) as response:
        lines = response.aiter_lines()
        assert await anext(lines)  # the first unit came at once
        async with asyncio.timeout(5):
            await api.emu.stop()
        with pytest.raises(httpx.RemoteProtocolError):
            async for _ in lines:
                pass


# --- the reply itself -------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False])
async def test_scripted_stop_reason(api: Caller, dialect: str, stream: bool) -> None:
    api.emu.script(Fault(stop_reason="max_tokens"))
    sent = request(dialect, QUESTION, stream=stream)
    if stream:
        decoded = decode_stream(dialect, (await api.stream(dialect, sent))[1])
    else:
        decoded = decode_reply(dialect, (await api.post(dialect, sent)).json())
    assert decoded.finish == ("max_tokens" if dialect == "anthropic" else "length")


async def test_fault_tool_use(api: Caller, dialect: str) -> None:
    schema = {
        "type": "object",
        "properties": {"path": {"type": "string"}, "line": {"type": "integer"}},
        "required": ["path", "line"],
    }
    specs = [{"name": "open_file", "description": "Open", "schema": schema}]
    api.emu.script(Fault(tool_use="open_file"))
    sent = request(dialect, QUESTION, stream=True, tool_specs=specs)
    decoded = decode_stream(dialect, (await api.stream(dialect, sent))[1])
    assert decoded.tool_calls == [("open_file", build_tool_input(schema))]
    if dialect == "openai":  # the arguments arrive in several fragments after the first
        fragments = [
            u
            for u in decoded.units
            if isinstance(u, dict) and u.get("choices") and "tool_calls" in u["choices"][0]["delta"]
        ]
        assert len(fragments) >= 3
        assert fragments[0]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] == ""
