"""The Messages wire format (Anthropic's, which the Ren API speaks too): one module knows it.

``ren-api.md`` assumes the Ren API speaks this shape; ``ren.py`` and ``anthropic.py`` differ
only in how they authenticate. If the real Ren API differs, ``ren.py`` changes and nothing else.
"""

from __future__ import annotations

import json
from typing import Any

from ren_lsp.models.backend import Decoder, Dialect
from ren_lsp.models.framing import SSEFramer
from ren_lsp.models.types import (
    Block,
    Event,
    Request,
    Start,
    Stop,
    Text,
    TextDelta,
    ToolCall,
    Usage,
)


def _block(block: Block) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": block.text}
    if isinstance(block, ToolCall):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": block.tool_call_id,
                              "content": block.content}
    if block.is_error:
        result["is_error"] = True
    return result


def messages_body(request: Request, *, model: str, max_tokens: int,
                  temperature: float | None) -> dict[str, Any]:
    """The request body of the Messages format."""
    messages = []
    for turn in request.turns:
        if all(isinstance(b, Text) for b in turn.content):
            content: str | list[dict[str, Any]] = turn.text
        else:
            content = [_block(b) for b in turn.content]
        messages.append({"role": turn.role, "content": content})
    body: dict[str, Any] = {"model": model, "messages": messages, "stream": True,
                            "max_tokens": request.max_tokens or max_tokens}
    if request.system is not None:
        body["system"] = request.system
    temperature = request.temperature if request.temperature is not None else temperature
    if temperature is not None:
        body["temperature"] = temperature
    if request.stop_sequences:
        body["stop_sequences"] = list(request.stop_sequences)
    if request.tools:
        body["tools"] = [{"name": t.name, "description": t.description,
                          "input_schema": t.input_schema} for t in request.tools]
    return body


class MessagesDialect(Dialect):
    path = "/v1/messages"

    def body(self, request: Request, *, model: str, max_tokens: int,
             temperature: float | None, context_tokens: int) -> dict[str, Any]:
        return messages_body(request, model=model, max_tokens=max_tokens,
                             temperature=temperature)

    def decoder(self) -> Decoder:
        return MessagesDecoder(self)


class MessagesDecoder(Decoder):
    """Server-sent events of the Messages format to typed events.

    Unknown event types and pings are ignored (forward compatibility). An ``error`` event or
    data that does not parse raises, carrying the text that arrived so far.
    """

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        self._framer = SSEFramer()
        #: index -> [kind, id, name, json parts] of the content blocks still open
        self._blocks: dict[int, tuple[str, str, str, list[str]]] = {}

    @property
    def pending(self) -> bool:
        return self._framer.pending

    def feed(self, chunk: bytes) -> list[Event]:
        out = []
        for name, data in self._framer.feed(chunk):
            event = self.feed_event(name, data)
            if event is not None:
                out.append(event)
        return out

    def feed_event(self, name: str, data: str) -> Event | None:
        """Decode one server-sent event."""
        try:
            payload = json.loads(data) if data else {}
        except ValueError:
            raise self.malformed(f"'{name}' event", "its data is not JSON") from None
        if not isinstance(payload, dict):
            raise self.malformed(f"'{name}' event", "its data is not an object")
        kind = payload.get("type", name)
        try:
            return self._dispatch(kind, payload)
        except (KeyError, TypeError, AttributeError, IndexError) as exc:
            raise self.malformed(f"'{kind}' event", f"missing or wrong field {exc}") from None

    def _dispatch(self, kind: str, p: dict[str, Any]) -> Event | None:
        if kind == "content_block_delta":
            delta = p["delta"]
            dtype = delta["type"]
            if dtype == "text_delta":
                text = delta["text"]
                if not isinstance(text, str):
                    raise TypeError("delta.text")
                self.text_parts.append(text)
                return TextDelta(text)
            if dtype == "input_json_delta":
                self._blocks[p["index"]][3].append(delta["partial_json"])
            return None
        if kind == "message_start":
            message = p["message"]
            self.reply_id = message["id"]
            self.model = message.get("model", "")
            self.input_tokens = int(message.get("usage", {}).get("input_tokens", 0))
            return Start(self.reply_id, self.model, self.input_tokens)
        if kind == "content_block_start":
            block = p["content_block"]
            self._blocks[p["index"]] = (block["type"], block.get("id", ""),
                                        block.get("name", ""), [])
            return None
        if kind == "content_block_stop":
            state = self._blocks.pop(p["index"], None)
            if state is None or state[0] != "tool_use":
                return None
            call = ToolCall(state[1], state[2], self.parse_tool_input("".join(state[3])))
            self.tool_calls.append(call)
            return call
        if kind == "message_delta":
            self.stop_reason = p.get("delta", {}).get("stop_reason")
            self.output_tokens = int(p.get("usage", {}).get("output_tokens", 0))
            return Usage(self.input_tokens, self.output_tokens)
        if kind == "message_stop":
            self.done = True
            return Stop(self.stop_reason)
        if kind == "error":
            error = p.get("error", {})
            raise self.stream_error(str(error.get("type", "api_error")),
                                    str(error.get("message", "")).strip())
        return None  # ping, and event types this client does not know yet

