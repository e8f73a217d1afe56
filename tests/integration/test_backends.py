"""Every backend of the model layer against the emulator's dialect, over a real loopback socket:
the same answer, every row of the fault table, partial answers kept, cancellation, a tool-call
round trip, and each backend's key rules."""

from __future__ import annotations

import asyncio

import pytest

from ren_lsp.emulator import Emulator, Fault
from ren_lsp.emulator.replies import reply_text
from ren_lsp.models import Request, TextDelta, Tool, ToolCall, ToolResult, Turn, dialect, errors
from ren_lsp.models.client import HTTPModelClient, RetryPolicy, Timeouts
from tests.conftest import TEST_KEY

BACKENDS = ["ren", "anthropic", "openai", "ollama"]
CODE = "def add(a, b):\n    return a + b\n"
QUESTION = f"Explain this code:\n```python\n{CODE}```"
FAST = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_max=0.02)
READ_FILE = Tool("read_file", "Read a file of the workspace",
                 {"type": "object", "properties": {"path": {"type": "string"}},
                  "required": ["path"]})


def client(emu: Emulator, backend: str, **kw: object) -> HTTPModelClient:
    options: dict[str, object] = {"base_url": emu.base_url, "model": "astra", "retry": FAST,
                                  "api_key": TEST_KEY if backend != "ollama" else None}
    options.update(kw)
    return HTTPModelClient(dialect(backend), **options)  # type: ignore[arg-type]


async def read_all(c: HTTPModelClient, request: Request) -> tuple[str, list[object]]:
    async with c.stream(request) as stream:
        events = [event async for event in stream]
    return stream.text, events


@pytest.mark.parametrize("backend", BACKENDS)
async def test_every_backend_streams_the_same_canned_answer(emulator: Emulator,
                                                            backend: str) -> None:
    async with client(emulator, backend) as c:
        text, events = await read_all(c, Request.ask(QUESTION))
    expected = reply_text({"model": "astra", "messages": [{"role": "user",
                                                           "content": QUESTION}]})
    assert text == expected
    assert len([e for e in events if isinstance(e, TextDelta)]) > 1, "streamed in pieces"
    (recorded,) = emulator.requests
    assert recorded.dialect == backend and recorded.completed


STATUS_ROWS = [
    (400, errors.BadRequestError, "rejected the request"),
    (401, errors.AuthenticationError, "did not accept the API key"),
    (403, errors.PermissionDeniedError, "permissions"),
    (404, errors.NotFoundError, "baseUrl"),
    (413, errors.RequestTooLargeError, "select less code"),
    (429, errors.RateLimitError, "rate limiting"),
    (500, errors.ServerError, "internal error"),
    (529, errors.OverloadedError, "overloaded"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("status", "cls", "fix"), STATUS_ROWS)
async def test_each_row_of_the_fault_table(emulator: Emulator, backend: str, status: int,
                                           cls: type[errors.APIStatusError], fix: str) -> None:
    emulator.script(*[Fault(status=status, retry_after=0 if status == 429 else None)] * 3)
    async with client(emulator, backend) as c:
        with pytest.raises(cls) as caught:
            await read_all(c, Request.ask(QUESTION))
    message = str(caught.value)
    assert fix in message and f"HTTP {status}" in message
    assert caught.value.status_code == status
    assert caught.value.request_id, "the request id is kept for support"
    service = dialect(backend).service
    if cls in (errors.AuthenticationError, errors.NotFoundError, errors.RateLimitError,
               errors.ServerError):
        assert service[0].upper() + service[1:] in message, "the message names the backend"
    # Retried before any text (429, 500, 529), at most max_retries times; the rest never.
    assert len(emulator.requests) == (1 + FAST.max_retries if cls.retryable else 1)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("fault", "cls", "says"), [
    (Fault(drop_after=6), errors.BrokenStreamError, "cut off"),
    (Fault(error_event_after=6), errors.StreamErrorEvent, "error mid-answer"),
    (Fault(malformed_after=6), errors.MalformedEventError, "malformed"),
])
async def test_a_break_after_text_keeps_the_partial_answer_and_is_not_retried(
        emulator: Emulator, backend: str, fault: Fault, cls: type[errors.ModelError],
        says: str) -> None:
    answer = "One two three four five six seven eight nine ten eleven twelve. " * 4
    emulator.script(Fault(text=answer, drop_after=fault.drop_after,
                          error_event_after=fault.error_event_after,
                          malformed_after=fault.malformed_after))
    async with client(emulator, backend) as c:
        with pytest.raises(cls) as caught:
            await read_all(c, Request.ask(QUESTION))
    partial = caught.value.partial_text
    assert partial and answer.startswith(partial) and partial != answer
    assert says in str(caught.value)
    assert len(emulator.requests) == 1, "text had arrived: a retry would repeat it"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_gap_in_the_stream_times_out_with_the_partial_answer(emulator: Emulator,
                                                                      backend: str) -> None:
    emulator.script(Fault(text="slow words " * 20, trickle=2))
    timeouts = Timeouts(connect=5, first_byte=5, event_gap=0.3)
    async with client(emulator, backend, timeouts=timeouts) as c:
        with pytest.raises(errors.APITimeoutError, match="stopped sending") as caught:
            await read_all(c, Request.ask(QUESTION))
    assert caught.value.phase == "event_gap"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_cancelling_closes_the_connection(emulator: Emulator, backend: str) -> None:
    emulator.script(Fault(trickle=0.05))
    first_text = asyncio.Event()

    async def read(c: HTTPModelClient) -> None:
        async with c.stream(Request.ask(QUESTION)) as stream:
            async for event in stream:
                if isinstance(event, TextDelta):
                    first_text.set()

    async with client(emulator, backend) as c:
        task = asyncio.create_task(read(c))
        await asyncio.wait_for(first_text.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        recorded = await emulator.wait_for_hangup(0, timeout=5)
    assert recorded.hung_up and not recorded.completed


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_tool_call_round_trip_in_one_conversation(emulator: Emulator,
                                                          backend: str) -> None:
    emulator.converse([{"tool": "read_file", "input": {"path": "calc.py"}},
                       {"text": "calc.py holds: {last_result}"}])
    request = Request.ask("What is in calc.py?", tools=[READ_FILE])
    async with client(emulator, backend) as c:
        first = await c.complete(request)
        (call,) = first.tool_calls
        assert isinstance(call, ToolCall)
        assert (call.name, call.input, first.stop_reason) == (
            "read_file", {"path": "calc.py"}, "tool_use")
        result = ToolResult(call.id, "def add(a, b): return a + b", name=call.name)
        second = await c.complete(request.then(first.turn(), Turn.user(result)))
    assert second.text == "calc.py holds: def add(a, b): return a + b"
    assert second.stop_reason == "end_turn" and not second.tool_calls
    assert [r.dialect for r in emulator.requests] == [backend, backend]


async def test_the_ren_key_is_a_bearer_and_anthropic_sends_x_api_key(emulator: Emulator) -> None:
    for backend in ("ren", "anthropic"):
        async with client(emulator, backend) as c:
            await c.complete(Request.ask("hello"))
    ren, anthropic = emulator.requests
    assert ren.headers["authorization"] == "Bearer ***" and "x-api-key" not in ren.headers
    assert anthropic.headers["x-api-key"] == "***" and "authorization" not in anthropic.headers
    assert anthropic.headers["anthropic-version"]


@pytest.mark.parametrize("backend", ["anthropic", "openai", "ollama"])
async def test_a_loopback_server_needs_no_key(backend: str) -> None:
    # A local server started without a key, as `ollama serve` or `llama-server` are.
    async with Emulator(api_key=None) as local, client(local, backend, api_key=None) as c:
        reply = await c.complete(Request.ask("hello"))
        (recorded,) = local.requests
    assert reply.text
    assert "authorization" not in recorded.headers and "x-api-key" not in recorded.headers


async def test_the_ren_api_always_needs_its_key(emulator: Emulator) -> None:
    async with client(emulator, "ren", api_key=None) as c:
        with pytest.raises(errors.MissingKeyError, match="REN_API_KEY"):
            await c.complete(Request.ask("hello"))
    assert emulator.requests == []


async def test_a_remote_server_without_a_key_is_refused_before_sending() -> None:
    async with HTTPModelClient(dialect("openai"), base_url="https://llm.example.invalid",
                               model="m") as c:
        with pytest.raises(errors.MissingKeyError, match="OPENAI_API_KEY"):
            await c.complete(Request.ask("hello"))


async def test_ollama_gets_a_context_window_from_the_budget(emulator: Emulator) -> None:
    async with client(emulator, "ollama", context_tokens=12_000, max_tokens=4096) as c:
        await c.complete(Request.ask("x" * 100_000))
    (recorded,) = emulator.requests
    assert recorded.num_ctx is not None and recorded.num_ctx >= 100_000 // 4 + 4096
    assert recorded.num_ctx % 1024 == 0


async def test_a_model_must_be_named_for_other_providers(emulator: Emulator) -> None:
    async with HTTPModelClient(dialect("openai"), base_url=emulator.base_url) as c:
        with pytest.raises(errors.ConfigurationError, match="model"):
            await c.complete(Request.ask("hello"))
    assert emulator.requests == []
