"""The Ren API client against the emulator over a real loopback socket: every way it can fail."""

from __future__ import annotations

import logging
import socket
import time

import httpx
import pytest

from ren_lsp.emulator import Emulator, Fault
from ren_lsp.models import Request, Stop, TextDelta, Tool, ToolCall, errors
from ren_lsp.models.client import HTTPModelClient, RetryPolicy, Timeouts
from ren_lsp.models.ren import RenDialect
from tests.conftest import TEST_KEY

CODE = "def add(a, b):\n    return a + b\n"
REQUEST = Request.ask(f"Explain this code:\n```python\n{CODE}```")
FAST_RETRY = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_max=0.02)


def client_for(emu: Emulator, **kw: object) -> HTTPModelClient:
    options: dict[str, object] = {"base_url": emu.base_url, "api_key": TEST_KEY,
                                  "retry": FAST_RETRY}
    options.update(kw)
    return HTTPModelClient(RenDialect(), **options)  # type: ignore[arg-type]


async def stream_all(client: HTTPModelClient, request: Request = REQUEST):
    async with client.stream(request) as stream:
        events = [event async for event in stream]
    return stream, events


async def test_streamed_answer_equals_what_the_emulator_sent(emulator: Emulator) -> None:
    sent = "Line one of the answer.\nLine two, with `code`.\n" * 5
    emulator.script(Fault(text=sent))
    async with client_for(emulator) as client:
        stream, events = await stream_all(client)
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == sent == stream.text
    assert len(deltas) > 1, "the answer must arrive in pieces, not at once"
    assert isinstance(events[-1], Stop) and events[-1].reason == "end_turn"
    assert stream.done
    assert emulator.requests[0].completed and not emulator.requests[0].hung_up


async def test_streamed_and_plain_replies_agree(emulator: Emulator) -> None:
    async with client_for(emulator) as client:
        stream, _ = await stream_all(client)
        message = await client.complete(REQUEST)
    assert message.text == stream.text
    assert "add" in message.text  # the emulator names what it saw in the code
    assert message.usage.output_tokens > 0
    assert [r.stream for r in emulator.requests] == [True, True]


@pytest.mark.parametrize(("status", "hint"), [
    (401, "REN_API_KEY"), (404, "baseUrl"), (413, "select less code"), (429, "try again"),
])
async def test_error_messages_say_what_to_do(emulator: Emulator, status: int, hint: str) -> None:
    emulator.script(*[Fault(status=status)] * 3)
    async with client_for(emulator, retry=RetryPolicy(max_retries=0)) as client:
        with pytest.raises(errors.APIStatusError, match=hint):
            await client.complete(REQUEST)


async def test_429_with_retry_after_then_success(emulator: Emulator) -> None:
    emulator.script(Fault(status=429, retry_after=0.3))
    async with client_for(emulator) as client:
        started = time.monotonic()
        stream, _ = await stream_all(client)
        waited = time.monotonic() - started
    assert stream.done and stream.text
    assert stream.retries == 1
    assert [r.status for r in emulator.requests] == [429, 200]
    assert waited >= 0.3, "retry-after must be honoured"


async def test_retry_after_beyond_the_cap_is_reported_not_waited(emulator: Emulator) -> None:
    emulator.script(Fault(status=429, retry_after=3600))
    policy = RetryPolicy(max_retries=3, retry_after_max=5)
    async with client_for(emulator, retry=policy) as client:
        with pytest.raises(errors.RateLimitError) as caught:
            await stream_all(client)
    assert caught.value.retry_after == 3600
    assert len(emulator.requests) == 1


async def test_overloaded_then_success(emulator: Emulator) -> None:
    emulator.script(Fault(status=529), Fault(status=500))
    async with client_for(emulator) as client:
        stream, _ = await stream_all(client)
    assert stream.done and stream.retries == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused() -> None:
    base = f"http://127.0.0.1:{free_port()}"
    async with HTTPModelClient(RenDialect(), base_url=base, api_key=TEST_KEY,
                               retry=FAST_RETRY) as client:
        with pytest.raises(errors.APIConnectionError) as caught:
            await stream_all(client)
    assert base in str(caught.value) and "baseUrl" in str(caught.value)
    assert not isinstance(caught.value, errors.APITimeoutError)


async def test_timeout_before_the_first_byte(emulator: Emulator) -> None:
    emulator.script(Fault(delay=5))
    timeouts = Timeouts(connect=2, first_byte=0.3, event_gap=5)
    async with client_for(emulator, timeouts=timeouts) as client:
        with pytest.raises(errors.APITimeoutError) as caught:
            await stream_all(client)
    assert caught.value.phase == "first_byte"
    assert "firstByteTimeout" in str(caught.value)
    assert len(emulator.requests) == 1, "a slow server is not asked twice"
    await emulator.wait_for_hangup(0)


async def test_gap_timeout_mid_stream(emulator: Emulator) -> None:
    emulator.script(Fault(trickle=0.02), Fault(trickle=3.0))
    timeouts = Timeouts(connect=2, first_byte=2, event_gap=0.5)
    async with client_for(emulator, timeouts=timeouts) as client:
        steady, _ = await stream_all(client)  # events 20 ms apart: well within the gap
        with pytest.raises(errors.APITimeoutError) as caught:
            await stream_all(client)
    assert steady.done
    assert caught.value.phase == "event_gap"
    assert "eventTimeout" in str(caught.value)
    assert len(emulator.requests) == 2, "a stalled stream is reported, not retried"
    await emulator.wait_for_hangup(1)


async def test_drop_after_some_text_is_not_retried(emulator: Emulator) -> None:
    sent = "".join(f"word{i} " for i in range(200))
    emulator.script(Fault(text=sent, drop_after=8))
    async with client_for(emulator) as client:
        with pytest.raises(errors.BrokenStreamError) as caught:
            await stream_all(client)
    error = caught.value
    assert error.partial_text, "the text that arrived is kept"
    assert sent.startswith(error.partial_text) and error.partial_text != sent
    assert "cut off" in str(error) and "kept" in str(error)
    assert len(emulator.requests) == 1, "text had streamed: no silent retry"


async def test_drop_before_any_text_is_retried(emulator: Emulator) -> None:
    emulator.script(Fault(drop_after=1))
    async with client_for(emulator) as client:
        stream, _ = await stream_all(client)
    assert stream.done and stream.retries == 1
    assert len(emulator.requests) == 2


async def test_error_event_mid_stream(emulator: Emulator) -> None:
    emulator.script(Fault(error_event_after=7))
    async with client_for(emulator) as client:
        with pytest.raises(errors.StreamErrorEvent) as caught:
            await stream_all(client)
    assert caught.value.error_type == "overloaded_error"
    assert caught.value.partial_text
    assert len(emulator.requests) == 1


async def test_malformed_event_data(emulator: Emulator) -> None:
    emulator.script(Fault(malformed_after=6))
    async with client_for(emulator) as client:
        with pytest.raises(errors.MalformedEventError) as caught:
            await stream_all(client)
    assert caught.value.partial_text
    assert "malformed" in str(caught.value)


async def test_unknown_event_type_is_ignored(emulator: Emulator) -> None:
    async with client_for(emulator) as client:
        plain, _ = await stream_all(client)
        emulator.script(Fault(unknown_event=True))
        with_unknown, _ = await stream_all(client)
    assert with_unknown.done
    assert with_unknown.text == plain.text


async def test_tool_use_block_arrives_whole(emulator: Emulator) -> None:
    tool = Tool("read_file", "Read a file",
                {"type": "object", "properties": {"path": {"type": "string"}},
                 "required": ["path"]})
    emulator.script(Fault(tool_use="read_file"))
    request = Request.ask("What is in setup.py?", tools=[tool])
    async with client_for(emulator) as client:
        stream, events = await stream_all(client, request)
    (use,) = [e for e in events if isinstance(e, ToolCall)]
    assert use.name == "read_file" and isinstance(use.input["path"], str)
    assert stream.reply().stop_reason == "tool_use"


async def test_leaving_the_stream_early_closes_the_connection(emulator: Emulator) -> None:
    emulator.script(Fault(trickle=0.05))
    async with client_for(emulator) as client, client.stream(REQUEST) as stream:
        async for event in stream:
            if isinstance(event, TextDelta):
                break
    recorded = await emulator.wait_for_hangup(0, timeout=5)
    assert recorded.hung_up


class CountingTransport(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await super().handle_async_request(request)


async def test_plain_http_to_a_remote_host_is_refused_before_connecting() -> None:
    transport = CountingTransport()
    async with httpx.AsyncClient(transport=transport) as http:
        client = HTTPModelClient(RenDialect(), base_url="http://api.ren.invalid",
                                 api_key=TEST_KEY, http_client=http)
        with pytest.raises(errors.InsecureURLError, match="https"):
            await stream_all(client)
        with pytest.raises(errors.InsecureURLError):
            await client.complete(REQUEST)
    assert transport.calls == 0, "nothing may be sent, not even a connection attempt"


async def test_missing_key_sends_nothing(emulator: Emulator) -> None:
    async with client_for(emulator, api_key=None) as client:
        with pytest.raises(errors.MissingKeyError, match="REN_API_KEY"):
            await stream_all(client)
    assert emulator.requests == []


async def test_wrong_key_is_an_authentication_error(emulator: Emulator) -> None:
    async with client_for(emulator, api_key="sk-wrong") as client:
        with pytest.raises(errors.AuthenticationError):
            await stream_all(client)


async def test_the_key_never_shows(emulator: Emulator, caplog: pytest.LogCaptureFixture,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.script(Fault(status=429, retry_after=0), Fault(status=401), Fault(drop_after=8))
    seen: list[str] = []
    async with client_for(emulator) as client:
        seen.append(repr(client))
        for _ in range(3):
            try:
                await stream_all(client)
            except errors.ModelError as exc:
                seen += [str(exc), repr(exc), exc.partial_text]
        stream, _ = await stream_all(client)
        seen.append(stream.text)
    captured = capsys.readouterr()
    seen += [caplog.text, captured.out, captured.err]
    seen += [repr(r) for r in emulator.requests]
    assert len(seen) > 8 and any("retrying" in s for s in seen)
    for text in seen:
        assert TEST_KEY not in text
    assert "***" in repr(client)
