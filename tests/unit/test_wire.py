"""The wire layer: decoding events, error bodies, retry policy, URL rules."""

from __future__ import annotations

import itertools
import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ren_lsp.astra import AstraClient, MessageRequest, RetryPolicy, TextDelta, ToolUse, errors
from ren_lsp.astra.client import check_base_url, is_loopback
from ren_lsp.astra.wire import EventDecoder, error_from_response


def sse(name: str, payload: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()


def reply_bytes(texts: list[str], tool_json: list[str] | None = None) -> bytes:
    out = [sse("message_start", {"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "astra", "content": [],
        "stop_reason": None, "usage": {"input_tokens": 3, "output_tokens": 1}}})]
    out.append(sse("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}}))
    out.append(sse("ping", {"type": "ping"}))
    for text in texts:
        out.append(sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta", "text": text}}))
    out.append(sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
    if tool_json is not None:
        out.append(sse("content_block_start", {"type": "content_block_start", "index": 1,
                                               "content_block": {"type": "tool_use", "id": "tu_1",
                                                                 "name": "grep", "input": {}}}))
        for part in tool_json:
            out.append(sse("content_block_delta", {
                "type": "content_block_delta", "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": part}}))
        out.append(sse("content_block_stop", {"type": "content_block_stop", "index": 1}))
    out.append(sse("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                     "usage": {"output_tokens": len(texts)}}))
    out.append(sse("message_stop", {"type": "message_stop"}))
    return b"".join(out)


def chunked_client(data: bytes, cuts: list[int]) -> AstraClient:
    """A client whose HTTP layer returns ``data`` split at ``cuts`` (for decoding tests only)."""
    bounds = [0, *sorted(set(cuts)), len(data)]

    async def body():
        for a, b in itertools.pairwise(bounds):
            yield data[a:b]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              content=body())

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AstraClient(base_url="https://api.ren.invalid", api_key="k", http_client=http)


texts_strategy = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(texts=texts_strategy, data=st.data())
async def test_any_split_of_the_bytes_gives_the_same_events(texts: list[str], data) -> None:
    raw = reply_bytes(texts, tool_json=['{"pattern": "bil', 'ling", "n": 2}'])
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=20))
    async with chunked_client(raw, cuts) as client, \
            client.stream(MessageRequest.ask("q")) as stream:
        events = [e async for e in stream]
    assert [e.text for e in events if isinstance(e, TextDelta)] == texts
    (tool,) = [e for e in events if isinstance(e, ToolUse)]
    assert tool.input == {"pattern": "billing", "n": 2}
    assert stream.text == "".join(texts) and stream.done


def test_unknown_events_and_pings_are_ignored() -> None:
    decoder = EventDecoder()
    assert decoder.feed("ping", '{"type": "ping"}') is None
    assert decoder.feed("astra_future", '{"type": "astra_future", "x": 1}') is None
    assert not decoder.done


def test_an_error_event_carries_the_partial_text() -> None:
    decoder = EventDecoder()
    decoder.feed("content_block_start", json.dumps({
        "type": "content_block_start", "index": 0, "content_block": {"type": "text"}}))
    decoder.feed("content_block_delta", json.dumps({
        "type": "content_block_delta", "index": 0,
        "delta": {"type": "text_delta", "text": "half an ans"}}))
    with pytest.raises(errors.StreamErrorEvent) as caught:
        decoder.feed("error", '{"type":"error","error":{"type":"overloaded_error","message":"m"}}')
    assert caught.value.partial_text == "half an ans"
    assert not caught.value.retryable, "text had arrived: retrying would repeat it"


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", '{"type": "content_block_delta"}'])
def test_malformed_data_raises(data: str) -> None:
    with pytest.raises(errors.MalformedEventError):
        EventDecoder().feed("content_block_delta", data)


@pytest.mark.parametrize(("status", "cls"), [
    (400, errors.BadRequestError), (401, errors.AuthenticationError),
    (403, errors.PermissionDeniedError), (404, errors.NotFoundError),
    (413, errors.RequestTooLargeError), (429, errors.RateLimitError),
    (500, errors.ServerError), (503, errors.ServerError), (529, errors.OverloadedError),
    (418, errors.BadRequestError),
])
def test_error_from_response(status: int, cls: type[errors.APIStatusError]) -> None:
    body = json.dumps({"type": "error", "error": {"type": "x_error", "message": "detail"}})
    error = error_from_response(status, body.encode(), {"request-id": "req_1",
                                                        "retry-after": "7"},
                                base_url="https://api.ren.ai", model="astra")
    assert type(error) is cls
    assert error.request_id == "req_1" and error.retry_after == 7.0
    assert "detail" in str(error) and f"HTTP {status}" in str(error)


def test_error_from_a_body_that_is_not_json() -> None:
    error = error_from_response(502, b"<html>Bad gateway</html>", {}, base_url="b", model="m")
    assert isinstance(error, errors.ServerError) and error.retryable
    assert "Bad gateway" in str(error)


@given(attempt=st.integers(0, 5), base=st.floats(0.01, 2), cap=st.floats(0.01, 30))
def test_backoff_is_bounded_and_jittered(attempt: int, base: float, cap: float) -> None:
    policy = RetryPolicy(max_retries=6, backoff_base=base, backoff_max=cap)
    delay = policy.delay(attempt, errors.ServerError("x"))
    ceiling = min(cap, base * 2**attempt)
    assert delay is not None and ceiling / 2 <= delay <= ceiling


def test_retry_after_is_honoured_up_to_its_cap() -> None:
    policy = RetryPolicy(max_retries=3, retry_after_max=30)
    assert policy.delay(0, errors.RateLimitError("x", retry_after=12)) == 12
    assert policy.delay(0, errors.RateLimitError("x", retry_after=31)) is None
    assert policy.delay(3, errors.RateLimitError("x", retry_after=1)) is None


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.8.9.1", "[::1]", "::1"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("url", ["http://api.ren.invalid", "http://10.0.0.1:8080",
                                 "http://localhost.evil.invalid"])
def test_plain_http_is_only_for_loopback(url: str) -> None:
    with pytest.raises(errors.InsecureURLError):
        check_base_url(url)


def test_base_urls_accepted() -> None:
    assert check_base_url("https://api.ren.ai/") == "https://api.ren.ai"
    assert check_base_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    with pytest.raises(errors.AstraError, match="baseUrl"):
        check_base_url("ftp://x")
