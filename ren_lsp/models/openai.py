"""OpenAI-compatible chat completions (OpenAI, vLLM, LM Studio, llama.cpp's server).

``POST {base}/v1/chat/completions``; the stream is server-sent ``data:`` chunks of
``choices[].delta``, tool calls as ``delta.tool_calls`` fragments joined by index, a usage
chunk with empty ``choices``, and ``data: [DONE]``.
"""

from __future__ import annotations

import json
from typing import Any

from ren_lsp.models.backend import Decoder, Dialect
from ren_lsp.models.framing import SSEFramer
from ren_lsp.models.types import Event, Request, Start, Stop, TextDelta, ToolCall, Usage

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                "function_call": "tool_use", "content_filter": "end_turn"}


def chat_messages(request: Request) -> list[dict[str, Any]]:
    """The conversation as chat messages: tool results become ``tool`` messages."""
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    for turn in request.turns:
        if turn.role == "assistant":
            message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
            if turn.tool_calls:
                message["tool_calls"] = [
                    {"id": c.id, "type": "function",
                     "function": {"name": c.name, "arguments": json.dumps(c.input)}}
                    for c in turn.tool_calls]
            messages.append(message)
            continue
        for result in turn.tool_results:
            content = result.content if not result.is_error else f"Error: {result.content}"
            messages.append({"role": "tool", "tool_call_id": result.tool_call_id,
                             "content": content})
        if turn.text or not turn.tool_results:
            messages.append({"role": "user", "content": turn.text})
    return messages


def function_tools(request: Request) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": t.input_schema}}
            for t in request.tools]


class OpenAIDialect(Dialect):
    name = "openai"
    service = "the OpenAI-compatible server"
    key_env = "OPENAI_API_KEY"
    default_base_url = "https://api.openai.com"
    path = "/v1/chat/completions"

    def headers(self, key: str | None) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def body(self, request: Request, *, model: str, max_tokens: int,
             temperature: float | None, context_tokens: int) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": chat_messages(request),
                                "stream": True, "stream_options": {"include_usage": True},
                                "max_tokens": request.max_tokens or max_tokens}
        temperature = request.temperature if request.temperature is not None else temperature
        if temperature is not None:
            body["temperature"] = temperature
        if request.stop_sequences:
            body["stop"] = list(request.stop_sequences)
        if request.tools:
            body["tools"] = function_tools(request)
        return body

    def decoder(self) -> Decoder:
        return OpenAIDecoder(self)


class OpenAIDecoder(Decoder):
    """``data:`` chunks to typed events; tool call fragments are joined until the choice ends."""

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        self._framer = SSEFramer()
        self._started = False
        #: index -> [id, name, argument fragments]
        self._calls: dict[int, list[Any]] = {}
        self._finished = False

    @property
    def pending(self) -> bool:
        return self._framer.pending

    def feed(self, chunk: bytes) -> list[Event]:
        out: list[Event] = []
        for _name, data in self._framer.feed(chunk):
            if data.strip() == "[DONE]":
                out.extend(self._finish())
                self.done = True
                out.append(Stop(self.stop_reason))
                return out
            try:
                payload = json.loads(data)
            except ValueError:
                raise self.malformed("chunk", "its data is not JSON") from None
            if not isinstance(payload, dict):
                raise self.malformed("chunk", "its data is not an object")
            try:
                out.extend(self._chunk(payload))
            except (KeyError, TypeError, AttributeError, IndexError) as exc:
                raise self.malformed("chunk", f"missing or wrong field {exc}") from None
        return out

    def _chunk(self, p: dict[str, Any]) -> list[Event]:
        if "error" in p:
            error = p["error"] if isinstance(p["error"], dict) else {"message": p["error"]}
            raise self.stream_error(str(error.get("type") or error.get("code") or "error"),
                                    str(error.get("message", "")).strip())
        out: list[Event] = []
        if not self._started:
            self._started = True
            self.reply_id, self.model = str(p.get("id", "")), str(p.get("model", ""))
            out.append(Start(self.reply_id, self.model))
        for choice in p.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue  # n > 1 is never asked for
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if text:
                if not isinstance(text, str):
                    raise TypeError("delta.content")
                self.text_parts.append(text)
                out.append(TextDelta(text))
            for fragment in delta.get("tool_calls") or []:
                call = self._calls.setdefault(int(fragment.get("index", 0)), ["", "", []])
                function = fragment.get("function") or {}
                call[0] = fragment.get("id") or call[0]
                call[1] = function.get("name") or call[1]
                if function.get("arguments"):
                    call[2].append(function["arguments"])
            reason = choice.get("finish_reason")
            if reason:
                self.stop_reason = STOP_REASONS.get(reason, reason)
                out.extend(self._finish())
        usage = p.get("usage")
        if isinstance(usage, dict):
            self.input_tokens = int(usage.get("prompt_tokens") or 0)
            self.output_tokens = int(usage.get("completion_tokens") or 0)
            out.append(Usage(self.input_tokens, self.output_tokens))
        return out

    def _finish(self) -> list[Event]:
        """The tool calls of the choice, complete (once)."""
        if self._finished:
            return []
        self._finished = True
        calls: list[Event] = []
        for _index, (call_id, name, parts) in sorted(self._calls.items()):
            call = ToolCall(call_id, name, self.parse_tool_input("".join(parts)))
            self.tool_calls.append(call)
            calls.append(call)
        if calls and self.stop_reason in (None, "end_turn"):
            self.stop_reason = "tool_use"
        return calls
