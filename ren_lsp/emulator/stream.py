"""Planning a reply (`plan_reply`) and streaming it in whatever dialect encoded it.

The reply is planned once, in the internal (Anthropic-shaped) terms, and each dialect encodes it
as a list of `Chunk`s. The streaming writer is where the stream-level faults happen (trickle,
dropped connection, error event, malformed data) and where a client hanging up is noticed; it
knows nothing of any dialect.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from aiohttp import web

from ren_lsp.emulator import replies
from ren_lsp.emulator.conversation import Step, default_agent, play
from ren_lsp.emulator.faults import Fault, RecordedRequest

__all__ = [
    "MALFORMED_EVENT",
    "UNKNOWN_EVENT",
    "Chunk",
    "Encoded",
    "Reply",
    "client_gone",
    "plan_reply",
    "sleep_unless_gone",
    "write_stream",
]

UNKNOWN_EVENT = "astra_future_thing"
# Cut off mid-object on purpose: a client must survive one undecodable event and read on.
MALFORMED_EVENT = (
    b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {\n\n'
)
_POLL = 0.02  # how often a sleeping reply checks that its client is still there


@attrs.define(kw_only=True)
class Reply:
    """One planned assistant message: a text block or a tool_use block, and its deltas."""

    message_id: str
    model: str
    input_tokens: int
    deltas: list[str]
    text: str = ""
    tool: dict[str, Any] | None = None  # the tool_use block ({"type","id","name","input"})
    text_stop: str = "end_turn"  # why a text reply ends (Fault.stop_reason may change it)

    @property
    def stop_reason(self) -> str:
        """Why the message ends: `tool_use` for a tool call, else `end_turn` (or as scripted)."""
        return "tool_use" if self.tool is not None else self.text_stop

    def content(self) -> list[dict[str, Any]]:
        """The message's content blocks, as in a reply without streaming."""
        if self.tool is not None:
            return [self.tool]
        return [{"type": "text", "text": self.text}]

    def message(self) -> dict[str, Any]:
        """The whole message, for `stream: false`."""
        return {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": self.content(),
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": self.usage(),
        }

    def usage(self) -> dict[str, int]:
        """Token counts: the request's text over four in, one per delta out."""
        return {"input_tokens": self.input_tokens, "output_tokens": len(self.deltas)}

    def events(self, unknown_event: bool = False) -> list[tuple[str, dict[str, Any]]]:
        """The SSE events of this message, in the order ren-api.md gives."""
        start = {**self.message(), "content": [], "stop_reason": None}
        start["usage"] = {"input_tokens": self.input_tokens, "output_tokens": 1}
        events: list[tuple[str, dict[str, Any]]] = [("message_start", {"message": start})]
        if unknown_event:
            events.append((UNKNOWN_EVENT, {"detail": "Ren emulator: ignore me"}))
        if self.tool is not None:
            block: dict[str, Any] = {**self.tool, "input": {}}
            delta_type, field = "input_json_delta", "partial_json"
        else:
            block = {"type": "text", "text": ""}
            delta_type, field = "text_delta", "text"
        events.append(("content_block_start", {"index": 0, "content_block": block}))
        events.append(("ping", {}))
        for piece in self.deltas:
            delta = {"type": delta_type, field: piece}
            events.append(("content_block_delta", {"index": 0, "delta": delta}))
        events.append(("content_block_stop", {"index": 0}))
        stop = {"stop_reason": self.stop_reason, "stop_sequence": None}
        usage = {"output_tokens": len(self.deltas)}
        events.append(("message_delta", {"delta": stop, "usage": usage}))
        events.append(("message_stop", {}))
        return [(name, {"type": name, **data}) for name, data in events]


def plan_reply(
    body: dict[str, Any],
    fault: Fault | None,
    message_id: str,
    tool_id: str,
    conversation: Sequence[Step] = (),
) -> Reply:
    """Decide the reply to a valid (internal) request.

    In order: the fault's `tool_use` (when that tool was offered), the fault's `text`, the
    conversation's step for this request (without one, the default agent of an agent
    request), the canned reply. `deltas` and `stop_reason` of the
    fault apply to whichever text that gives.
    """
    fault = fault or Fault()
    common: dict[str, Any] = {
        "message_id": message_id,
        "model": body["model"],
        "input_tokens": replies.input_tokens(body),
    }
    tool = _chosen_tool(body, fault.tool_use)
    played = None
    if tool is None and fault.text is None:
        played = play(conversation, body) if conversation else default_agent(body)
    if tool is not None or (played is not None and played.tool is not None):
        if tool is not None:
            name, tool_input = tool["name"], replies.build_tool_input(tool["input_schema"])
        else:
            assert played is not None and played.tool is not None
            name, tool_input = played.tool, played.input
        block = {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}
        return Reply(**common, deltas=replies.split_json(tool_input), tool=block)
    if fault.text is not None:
        text = fault.text
    elif played is not None and played.text is not None:
        text = played.text
    else:
        text = replies.reply_text(body)
    deltas = replies.split_deltas(text, fault.deltas)
    # With `deltas` the text may have been stretched with filler: the reply is what is streamed.
    stop = fault.stop_reason or "end_turn"
    return Reply(**common, deltas=deltas, text="".join(deltas), text_stop=stop)


def _chosen_tool(body: dict[str, Any], choice: str | bool | None) -> dict[str, Any] | None:
    tools = body.get("tools") or []
    if not choice or not tools:
        return None
    if choice is True:
        return dict(tools[0])
    # A name that was not offered is ignored like `tool_use` without tools: a normal reply.
    return next((dict(t) for t in tools if t["name"] == choice), None)


def client_gone(request: web.BaseRequest) -> bool:
    """Whether the client has closed the connection (cheap; no I/O)."""
    transport = request.transport
    return transport is None or transport.is_closing()


async def sleep_unless_gone(
    request: web.BaseRequest, seconds: float, stopping: Callable[[], bool]
) -> bool:
    """Sleep `seconds`, waking every 20 ms; False as soon as the client or the emulator goes.

    Polling is what lets a hang-up during a long delay or trickle be noticed promptly: nothing
    is written then, so no write can fail to tell us.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not client_gone(request) and not stopping():
        remaining = deadline - loop.time()
        if remaining <= 0:
            return True
        await asyncio.sleep(min(_POLL, remaining))
    return False


def encode_event(name: str, data: dict[str, Any]) -> bytes:
    """One server-sent event of `/v1/messages`: `event:` and `data:` lines, a blank line."""
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {name}\ndata: {payload}\n\n".encode()


@attrs.frozen
class Chunk:
    """One unit of a streamed reply as written; `text` marks one that carries reply text."""

    data: bytes
    text: bool = False


@attrs.frozen(kw_only=True)
class Encoded:
    """A reply as one dialect streams it: its chunks, and what stands in for them on a fault."""

    content_type: str
    chunks: Sequence[Chunk]
    #: written instead of the rest at `error_event_after`; the stream then ends
    error: bytes
    #: written (extra, before the chunk due) at `malformed_after`: a unit that does not decode
    malformed: bytes


def messages_stream(reply: Reply, fault: Fault) -> Encoded:
    """`reply` as the server-sent events of `/v1/messages` (ren and anthropic)."""
    chunks = [
        Chunk(encode_event(name, data), text=data.get("delta", {}).get("type") == "text_delta")
        for name, data in reply.events(fault.unknown_event)
    ]
    error = {"type": "overloaded_error", "message": "Overloaded (Ren emulator)"}
    return Encoded(
        content_type="text/event-stream",
        chunks=chunks,
        error=encode_event("error", {"type": "error", "error": error}),
        malformed=MALFORMED_EVENT,
    )


async def write_stream(
    request: web.BaseRequest,
    record: RecordedRequest,
    encoded: Encoded,
    fault: Fault | None,
    headers: dict[str, str],
    stopping: Callable[[], bool],
) -> web.StreamResponse:
    """Stream `encoded`, applying the fault's stream misbehaviour.

    Updates `record` as it goes: `events_sent` after each chunk, then `completed`, or `hung_up`
    when a write fails or a pause notices that the client went away.
    """
    fault = fault or Fault()
    response = web.StreamResponse(status=200, headers=headers)
    response.content_type = encoded.content_type
    response.headers["cache-control"] = "no-cache"
    record.status = 200
    pending = deque(encoded.chunks)
    malformed_done = False
    try:
        await response.prepare(request)
        while pending:
            sent = record.events_sent
            if fault.drop_after is not None and sent >= fault.drop_after:
                _drop(request)
                return response
            if fault.error_event_after is not None and sent >= fault.error_event_after:
                chunk = Chunk(encoded.error)
                pending.clear()
            elif fault.malformed_after == sent and not malformed_done:
                chunk, malformed_done = Chunk(encoded.malformed), True
            else:
                chunk = pending.popleft()
            paused = bool(sent and fault.trickle)
            if paused and not await sleep_unless_gone(request, fault.trickle, stopping):
                # Either the client left, or the emulator is stopping: then end it here.
                record.hung_up = client_gone(request)
                _drop(request)
                return response
            await response.write(chunk.data)
            record.events_sent += 1
            if record.first_delta_at is None and chunk.text:
                record.first_delta_at = time.monotonic()
        await response.write_eof()
        record.completed = True
        record.finished_at = time.monotonic()
    except ConnectionError:  # aiohttp's ClientConnectionResetError is one: the client left
        record.hung_up = True
    return response


def _drop(request: web.BaseRequest) -> None:
    """End the connection mid-stream, as a crashed server or a proxy would."""
    writer = request.writer
    # Headers are buffered until the first body write; send them so "after 0 events" is a 200.
    send_headers = getattr(writer, "send_headers", None)
    if callable(send_headers):
        send_headers()
    transport = request.transport
    if transport is not None:
        # close() rather than abort(): it flushes what was written first, so the client gets
        # exactly N events and then the end of the connection, with no terminating chunk.
        transport.close()
