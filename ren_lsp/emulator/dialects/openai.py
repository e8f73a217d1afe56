"""`POST /v1/chat/completions`: OpenAI's Chat Completions (also vLLM, llama.cpp, LM Studio).

Streamed replies are `data: <chunk>` lines (no `event:` lines) ending in `data: [DONE]`; tool
calls go out as `delta.tool_calls` fragments joined by `index`; usage comes in a last chunk with
empty `choices` when `stream_options.include_usage` asks for it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from ren_lsp.emulator.dialects.base import (
    UNKNOWN_FIELD,
    Dialect,
    Keys,
    Refusal,
    Turns,
    compact,
    looks_like_error,
    tool_to_internal,
)
from ren_lsp.emulator.faults import Fault
from ren_lsp.emulator.schemas import OPENAI_REQUEST_SCHEMA, schema_problem
from ren_lsp.emulator.stream import Chunk, Encoded, Reply

__all__ = ["FINISH_REASONS", "OpenAIDialect"]

#: stop_reason -> finish_reason
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}
# status -> (error.type, error.code), as OpenAI names them; 529 is kept as scripted.
_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", "permission_denied"),
    404: ("invalid_request_error", "not_found"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    529: ("server_error", "overloaded"),
}
_DONE = b"data: [DONE]\n\n"
_MALFORMED = b'data: {"id": "chatcmpl-broken", "choices": [{"index": 0, "delta": {\n\n'


def _data(chunk: dict[str, Any]) -> bytes:
    return f"data: {compact(chunk)}\n\n".encode()


def _tool_call(block: dict[str, Any]) -> dict[str, Any]:
    arguments = compact(block["input"])
    return {
        "id": block["id"],
        "type": "function",
        "function": {"name": block["name"], "arguments": arguments},
    }


class OpenAIDialect(Dialect):
    """The openai dialect."""

    name = "openai"
    schema = OPENAI_REQUEST_SCHEMA
    message_prefix = ("chatcmpl", "-")
    tool_prefix = ("call", "_")

    def authenticate(self, headers: Mapping[str, str], keys: Keys) -> Refusal | None:
        """A configured key must come as `Authorization: Bearer <key>`; else none is needed."""
        if not keys.key_configured:
            return None  # a local server needs no key
        scheme, _, key = headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            message = (
                "You didn't provide an API key: send 'Authorization: Bearer <key>' (Ren emulator)"
            )
            return Refusal(status=401, message=message, code="invalid_api_key")
        if not keys.key_matches(key.strip()):
            message = "Incorrect API key provided (Ren emulator)"
            return Refusal(status=401, message=message, code="invalid_api_key")
        return None

    def check(self, body: Any) -> Refusal | None:
        """400 naming the field: the schema, then tool calls and their answers."""
        problem = schema_problem(self.schema, body)
        if problem is None:
            problem = _conversation_problem(body["messages"])
        if problem is None:
            return None
        path, message = problem
        return Refusal(status=400, message=f"{path}: {message} (Ren emulator)", param=path)

    def to_internal(self, body: dict[str, Any]) -> dict[str, Any]:
        """System messages join `system`; tool calls and `tool` messages become blocks."""
        turns = Turns()
        for message in body["messages"]:
            role, content = message["role"], message.get("content")
            if role == "system":
                turns.system.append(content)
            elif role == "user":
                turns.add("user", content)
            elif role == "assistant":
                blocks: list[dict[str, Any]] = []
                if content:
                    blocks.append({"type": "text", "text": content})
                for call in message.get("tool_calls") or []:
                    function = call["function"]
                    blocks.append(
                        {
                            "type": "tool_use",
                            "id": call["id"],
                            "name": function["name"],
                            "input": json.loads(function["arguments"]),
                        }
                    )
                turns.add("assistant", blocks or [{"type": "text", "text": ""}])
            else:  # tool
                result = {
                    "type": "tool_result",
                    "tool_use_id": message["tool_call_id"],
                    "content": content,
                    "is_error": looks_like_error(content),
                }
                turns.add("user", [result])
        stop = body.get("stop")
        tools = [tool_to_internal(t["function"]) for t in body.get("tools") or []]
        return turns.body(
            body["model"],
            self.streams(body),
            max_tokens=body.get("max_completion_tokens", body.get("max_tokens")),
            stop_sequences=[stop] if isinstance(stop, str) else stop,
            tools=tools or None,
        )

    def unknown_model(self, model: str) -> Refusal:
        """404 `model_not_found`, in OpenAI's words."""
        return Refusal(
            status=404,
            message=f"The model `{model}` does not exist",
            error_type="invalid_request_error",
            code="model_not_found",
        )

    def default_error_type(self, status: int) -> str:
        """OpenAI's `error.type` for a status."""
        return _ERRORS.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None)
        )[0]

    def error_body(self, refusal: Refusal) -> dict[str, Any]:
        """`{"error": {"message", "type", "param", "code"}}`."""
        default_code = _ERRORS.get(refusal.status, ("", None))[1]
        return {
            "error": {
                "message": refusal.message,
                "type": refusal.error_type or self.default_error_type(refusal.status),
                "param": refusal.param,
                "code": refusal.code or default_code,
            }
        }

    def reply_headers(self, request_id: str) -> dict[str, str]:
        """`x-request-id` as OpenAI sends it, and `request-id` as every dialect does."""
        return {"request-id": request_id, "x-request-id": request_id}

    def message(self, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
        """A `chat.completion` object."""
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.tool is not None:
            message.update(content=None, tool_calls=[_tool_call(reply.tool)])
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": FINISH_REASONS[reply.stop_reason],
        }
        return {
            "id": reply.message_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model,
            "choices": [choice],
            "usage": _usage(reply),
        }

    def stream(self, reply: Reply, body: dict[str, Any], fault: Fault) -> Encoded:
        """`chat.completion.chunk`s, the finishing chunk, usage if asked, `[DONE]`."""
        head = {
            "id": reply.message_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": reply.model,
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                **head,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }

        chunks: list[tuple[dict[str, Any], bool]] = []
        if reply.tool is not None:
            call = _tool_call(reply.tool)
            call["function"]["arguments"] = ""
            first = {"role": "assistant", "content": None, "tool_calls": [{"index": 0, **call}]}
            chunks.append((chunk(first), False))
            for piece in reply.deltas:
                fragment = {"index": 0, "function": {"arguments": piece}}
                chunks.append((chunk({"tool_calls": [fragment]}), False))
        else:
            for index, piece in enumerate(reply.deltas or [""]):
                delta = (
                    {"role": "assistant", "content": piece} if index == 0 else {"content": piece}
                )
                chunks.append((chunk(delta), bool(piece)))
        chunks.append((chunk({}, FINISH_REASONS[reply.stop_reason]), False))
        if (body.get("stream_options") or {}).get("include_usage") is True:
            chunks.append(({**head, "choices": [], "usage": _usage(reply)}, False))
        encoded = [Chunk(_data(data), text) for data, text in chunks]
        if fault.unknown_event:
            # A comment line (servers send them as keep-alives) and a field no client knows.
            first_chunk = {**chunks[0][0], UNKNOWN_FIELD: {"note": "Ren emulator: ignore me"}}
            encoded[0] = Chunk(b": keep-alive\n\n" + _data(first_chunk), chunks[0][1])
        error = {
            "message": "Overloaded (Ren emulator)",
            "type": "server_error",
            "param": None,
            "code": "overloaded",
        }
        return Encoded(
            content_type="text/event-stream",
            chunks=[*encoded, Chunk(_DONE)],
            error=_data({"error": error}),
            malformed=_MALFORMED,
        )


def _usage(reply: Reply) -> dict[str, int]:
    out = len(reply.deltas)
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": out,
        "total_tokens": reply.input_tokens + out,
    }


def _conversation_problem(messages: list[dict[str, Any]]) -> tuple[str, str] | None:
    """Tool calls whose arguments are no JSON object, or that go unanswered, or stray answers.

    OpenAI refuses both: every tool call of an assistant message must be answered by a `tool`
    message before the conversation goes on, and a `tool` message must answer one.
    """
    pending: dict[str, int] = {}  # tool_call_id -> index of the assistant message
    for index, message in enumerate(messages):
        role = message["role"]
        if role == "tool":
            call_id = message["tool_call_id"]
            if pending.pop(call_id, None) is None:
                return (
                    f"messages.{index}.tool_call_id",
                    f"{call_id!r} answers no tool call of an earlier assistant message",
                )
            continue
        if pending:
            call_id, asked = next(iter(pending.items()))
            return (
                f"messages.{asked}.tool_calls",
                f"the tool call {call_id!r} has no 'tool' message answering it "
                f"before messages.{index}",
            )
        for number, call in enumerate(message.get("tool_calls") or []):
            path = f"messages.{index}.tool_calls.{number}.function.arguments"
            try:
                arguments = json.loads(call["function"]["arguments"])
            except ValueError as exc:
                return path, f"not valid JSON: {exc}"
            if not isinstance(arguments, dict):
                return path, f"must be a JSON object, got {call['function']['arguments']!r}"
            pending[call["id"]] = index
    if pending:
        call_id, asked = next(iter(pending.items()))
        return (
            f"messages.{asked}.tool_calls",
            f"the tool call {call_id!r} has no 'tool' message answering it",
        )
    return None
