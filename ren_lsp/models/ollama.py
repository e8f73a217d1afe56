"""Ollama's native chat API: ``POST {base}/api/chat``, streamed as newline-delimited JSON.

Ollama silently cuts a prompt at its context window (2,048 tokens unless told), so every
request sets ``options.num_ctx`` from what it carries plus the answer's room.
"""

from __future__ import annotations

import json
from typing import Any

from ren_lsp.models.backend import Decoder, Dialect
from ren_lsp.models.framing import LineFramer
from ren_lsp.models.openai import function_tools
from ren_lsp.models.types import Event, Request, Start, Stop, TextDelta, ToolCall, Usage

#: Ollama's own default window, below which num_ctx is never set
MIN_CONTEXT = 2048


def context_window(request: Request, *, max_tokens: int, context_tokens: int) -> int:
    """The num_ctx a request needs: its text (about 4 characters a token, or the context
    budget with room for the prompt, whichever is more) and the answer, rounded up to 1,024."""
    needed = max(request.text_chars() // 3, context_tokens + 2048) + max_tokens
    return max(MIN_CONTEXT, -(-needed // 1024) * 1024)


def _messages(request: Request) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    for turn in request.turns:
        if turn.role == "assistant":
            message: dict[str, Any] = {"role": "assistant", "content": turn.text}
            if turn.tool_calls:
                message["tool_calls"] = [{"function": {"name": c.name, "arguments": c.input}}
                                         for c in turn.tool_calls]
            messages.append(message)
            continue
        for result in turn.tool_results:
            content = result.content if not result.is_error else f"Error: {result.content}"
            messages.append({"role": "tool", "content": content, "tool_name": result.name})
        if turn.text or not turn.tool_results:
            messages.append({"role": "user", "content": turn.text})
    return messages


class OllamaDialect(Dialect):
    name = "ollama"
    service = "Ollama"
    key_env = None  # Ollama has no keys
    default_base_url = "http://127.0.0.1:11434"
    path = "/api/chat"
    content_types = ("application/x-ndjson", "application/json")

    def headers(self, key: str | None) -> dict[str, str]:
        return {"Accept": "application/x-ndjson"}

    def body(self, request: Request, *, model: str, max_tokens: int,
             temperature: float | None, context_tokens: int) -> dict[str, Any]:
        limit = request.max_tokens or max_tokens
        options: dict[str, Any] = {
            "num_ctx": context_window(request, max_tokens=limit, context_tokens=context_tokens),
            "num_predict": limit}
        temperature = request.temperature if request.temperature is not None else temperature
        if temperature is not None:
            options["temperature"] = temperature
        if request.stop_sequences:
            options["stop"] = list(request.stop_sequences)
        body: dict[str, Any] = {"model": model, "messages": _messages(request), "stream": True,
                                "options": options}
        if request.tools:
            body["tools"] = function_tools(request)
        return body

    def decoder(self) -> Decoder:
        return OllamaDecoder(self)


class OllamaDecoder(Decoder):
    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        self._framer = LineFramer()
        self._started = False

    @property
    def pending(self) -> bool:
        return self._framer.pending

    def feed(self, chunk: bytes) -> list[Event]:
        out: list[Event] = []
        for line in self._framer.feed(chunk):
            try:
                payload = json.loads(line)
            except ValueError:
                raise self.malformed("line", "it is not JSON") from None
            if not isinstance(payload, dict):
                raise self.malformed("line", "it is not an object")
            try:
                out.extend(self._line(payload))
            except (KeyError, TypeError, AttributeError) as exc:
                raise self.malformed("line", f"missing or wrong field {exc}") from None
            if self.done:
                break
        return out

    def _line(self, p: dict[str, Any]) -> list[Event]:
        if "error" in p:
            raise self.stream_error("error", str(p["error"]).strip())
        out: list[Event] = []
        if not self._started:
            self._started = True
            self.model = str(p.get("model", ""))
            out.append(Start("", self.model))
        message = p.get("message") or {}
        text = message.get("content")
        if text:
            if not isinstance(text, str):
                raise TypeError("message.content")
            self.text_parts.append(text)
            out.append(TextDelta(text))
        for call in message.get("tool_calls") or []:
            function = call["function"]
            arguments = function.get("arguments") or {}
            if isinstance(arguments, str):  # some models put JSON text there
                arguments = self.parse_tool_input(arguments)
            if not isinstance(arguments, dict):
                raise TypeError("tool_calls.function.arguments")
            tool = ToolCall(str(call.get("id") or f"call_{len(self.tool_calls)}"),
                            str(function["name"]), arguments)
            self.tool_calls.append(tool)
            out.append(tool)
        if p.get("done"):
            reason = str(p.get("done_reason") or "stop")
            self.stop_reason = ("tool_use" if self.tool_calls else
                                "max_tokens" if reason == "length" else "end_turn")
            self.input_tokens = int(p.get("prompt_eval_count") or 0)
            self.output_tokens = int(p.get("eval_count") or 0)
            self.done = True
            out += [Usage(self.input_tokens, self.output_tokens), Stop(self.stop_reason)]
        return out
