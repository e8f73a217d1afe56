"""The wire layer: decoding events, error bodies, retry policy, URL rules."""

from __future__ import annotations

import itertools
import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ren_lsp.models import Request, TextDelta, ToolCall, errors
from ren_lsp.models.client import (
    HTTPModelClient,
    RetryPolicy,
    check_base_url,
    is_loopback,
    retry_after,
)
from ren_lsp.models.messages import MessagesDecoder
from ren_lsp.models.ren import RenDialect


def decoder() -> MessagesDecoder:
    return MessagesDecoder(RenDialect())


def error_from_response(status: int, body: bytes, headers: dict[str, str], *, base_url: str,
                        model: str) -> errors.APIStatusError:
    client = HTTPModelClient(RenDialect(), base_url=base_url, model=model)
    return client._status_error(status, body, headers, base_url)


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


def chunked_client(data: bytes, cuts: list[int]) -> HTTPModelClient:
    """A client whose HTTP layer returns ``data`` split at ``cuts`` (for decoding tests only)."""
    bounds = [0, *sorted(set(cuts)), len(data)]

    async def body():
        for a, b in itertools.pairwise(bounds):
            yield data[a:b]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              content=body())

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return HTTPModelClient(RenDialect(), base_url="https://api.ren.invalid", api_key="k",
                           http_client=http)


texts_strategy = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(texts=texts_strategy, data=st.data())
async def test_any_split_of_the_bytes_gives_the_same_events(texts: list[str], data) -> None:
    raw = reply_bytes(texts, tool_json=['{"pattern": "bil', 'ling", "n": 2}'])
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=20))
    async with chunked_client(raw, cuts) as client, \
            client.stream(Request.ask("q")) as stream:
        events = [e async for e in stream]
    assert [e.text for e in events if isinstance(e, TextDelta)] == texts
    (tool,) = [e for e in events if isinstance(e, ToolCall)]
    assert tool.input == {"pattern": "billing", "n": 2}
    assert stream.text == "".join(texts) and stream.done


def test_unknown_events_and_pings_are_ignored() -> None:
    d = decoder()
    assert d.feed_event("ping", '{"type": "ping"}') is None
    assert d.feed_event("astra_future", '{"type": "astra_future", "x": 1}') is None
    assert not d.done


def test_an_error_event_carries_the_partial_text() -> None:
    d = decoder()
    d.feed_event("content_block_start", json.dumps({
        "type": "content_block_start", "index": 0, "content_block": {"type": "text"}}))
    d.feed_event("content_block_delta", json.dumps({
        "type": "content_block_delta", "index": 0,
        "delta": {"type": "text_delta", "text": "half an ans"}}))
    with pytest.raises(errors.StreamErrorEvent) as caught:
        d.feed_event("error", '{"type":"error","error":{"type":"overloaded_error","message":"m"}}')
    assert caught.value.partial_text == "half an ans"
    assert not caught.value.retryable, "text had arrived: retrying would repeat it"


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", '{"type": "content_block_delta"}'])
def test_malformed_data_raises(data: str) -> None:
    with pytest.raises(errors.MalformedEventError):
        decoder().feed_event("content_block_delta", data)


@pytest.mark.parametrize(("status", "cls"), [
    (400, errors.BadRequestError), (401, errors.AuthenticationError),
    (403, errors.PermissionDeniedError), (404, errors.NotFoundError),
    (413, errors.RequestTooLargeError), (429, errors.RateLimitError),
    (500, errors.ServerError), (503, errors.OverloadedError), (529, errors.OverloadedError),
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
    with pytest.raises(errors.ConfigurationError, match="baseUrl"):
        check_base_url("ftp://x")


def test_retry_after_as_an_http_date() -> None:
    # RFC 9110: retry-after may be an HTTP date; 90 s after "now" here.
    headers = {"retry-after": "Sun, 06 Nov 1994 08:49:37 GMT"}
    assert retry_after(headers, now=784111777 - 90) == 90
    assert retry_after(headers, now=784111777 + 5) == 0  # in the past: at once
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None
