"""`POST /api/chat`: Ollama's native chat API.

No key (Ollama has none: an `Authorization` header is ignored), `stream` true unless it is
false, replies as NDJSON (one JSON object a line), a tool call whole in one line with its
arguments as an object, and a last line with `done: true` and the counts.
"""

from __future__ import annotations

import datetime
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
from ren_lsp.emulator.schemas import OLLAMA_REQUEST_SCHEMA, schema_problem
from ren_lsp.emulator.stream import Chunk, Encoded, Reply

__all__ = ["DONE_REASONS", "OllamaDialect"]

#: stop_reason -> done_reason (Ollama ends a tool call with "stop" too)
DONE_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "stop",
}
_MALFORMED = b'{"model": "astra", "message": {"role": "assistant", "content": \n'
# Made-up timings, so the reply stays a pure function of the request: 1 ms per token.
_NANOSECONDS_PER_TOKEN = 1_000_000


def _line(data: dict[str, Any]) -> bytes:
    return (compact(data) + "\n").encode()


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")


class OllamaDialect(Dialect):
    """The ollama dialect."""

    name = "ollama"
    schema = OLLAMA_REQUEST_SCHEMA

    def streams(self, body: Any) -> bool:
        """Streamed unless `stream` is false: Ollama's default is true."""
        return isinstance(body, dict) and body.get("stream", True) is not False

    def authenticate(self, headers: Mapping[str, str], keys: Keys) -> Refusal | None:
        """Nothing to check: Ollama has no keys."""
        return None

    def check(self, body: Any) -> Refusal | None:
        """400 naming the field."""
        problem = schema_problem(self.schema, body)
        if problem is None:
            return None
        path, message = problem
        return Refusal(status=400, message=f"{path}: {message} (Ren emulator)")

    def to_internal(self, body: dict[str, Any]) -> dict[str, Any]:
        """Tool calls get ids (Ollama's have none); each `tool` message answers the first
        unanswered call, of its `tool_name` when it gives one."""
        turns = Turns()
        pending: list[tuple[str, str]] = []  # (id, tool name) of calls not yet answered
        calls = 0
        for message in body["messages"]:
            role, content = message["role"], message.get("content", "")
            if role == "system":
                turns.system.append(content)
            elif role == "user":
                turns.add("user", content)
            elif role == "assistant":
                blocks: list[dict[str, Any]] = []
                if content:
                    blocks.append({"type": "text", "text": content})
                for call in message.get("tool_calls") or []:
                    calls += 1
                    call_id, name = f"ollama_call_{calls}", call["function"]["name"]
                    pending.append((call_id, name))
                    blocks.append(
                        {
                            "type": "tool_use",
                            "id": call_id,
                            "name": name,
                            "input": call["function"]["arguments"],
                        }
                    )
                turns.add("assistant", blocks or [{"type": "text", "text": ""}])
            else:  # tool
                wanted = message.get("tool_name")
                match = next((p for p in pending if wanted in (None, p[1])), None)
                if match is not None:
                    pending.remove(match)
                call_id = match[0] if match is not None else "ollama_call_unanswered"
                turns.add(
                    "user",
                    [
                        {
                            "type": "tool_result",
                            "tool_use_id": call_id,
                            "content": content,
                            "is_error": looks_like_error(content),
                        }
                    ],
                )
        options = body.get("options") or {}
        predict = options.get("num_predict")
        tools = [tool_to_internal(t["function"]) for t in body.get("tools") or []]
        return turns.body(
            body["model"],
            self.streams(body),
            max_tokens=predict if isinstance(predict, int) and predict > 0 else None,
            stop_sequences=options.get("stop"),
            tools=tools or None,
        )

    def unknown_model(self, model: str) -> Refusal:
        """404 in Ollama's words."""
        return Refusal(status=404, message=f'model "{model}" not found, try pulling it first')

    def default_error_type(self, status: int) -> str:
        """A word for the status (Ollama's errors have no type; it goes in the message)."""
        return "server error" if status >= 500 else "request error"

    def error_body(self, refusal: Refusal) -> dict[str, Any]:
        """`{"error": "<message>"}`."""
        return {"error": refusal.message}

    def message(self, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
        """One object: the whole message and `done: true`."""
        return {
            **self._head(reply),
            "message": self._message(reply, reply.text),
            **self._done(reply),
        }

    def stream(self, reply: Reply, body: dict[str, Any], fault: Fault) -> Encoded:
        """A line per text delta (or one for the tool call), then the `done` line."""
        lines: list[tuple[dict[str, Any], bool]] = []
        if reply.tool is not None:
            lines.append(
                ({**self._head(reply), "message": self._message(reply, ""), "done": False}, False)
            )
        else:
            for piece in reply.deltas:
                message = {"role": "assistant", "content": piece}
                lines.append(({**self._head(reply), "message": message, "done": False}, True))
        last = {
            **self._head(reply),
            "message": {"role": "assistant", "content": ""},
            **self._done(reply),
        }
        lines.append((last, False))
        if fault.unknown_event:
            data, text = lines[0]
            lines[0] = ({**data, UNKNOWN_FIELD: {"note": "Ren emulator: ignore me"}}, text)
        return Encoded(
            content_type="application/x-ndjson",
            chunks=[Chunk(_line(data), text) for data, text in lines],
            error=_line({"error": "Overloaded (Ren emulator)"}),
            malformed=_MALFORMED,
        )

    @staticmethod
    def _head(reply: Reply) -> dict[str, Any]:
        return {"model": reply.model, "created_at": _now()}

    @staticmethod
    def _message(reply: Reply, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if reply.tool is not None:
            function = {"name": reply.tool["name"], "arguments": reply.tool["input"]}
            message.update(content="", tool_calls=[{"function": function}])
        return message

    @staticmethod
    def _done(reply: Reply) -> dict[str, Any]:
        out = len(reply.deltas)
        return {
            "done": True,
            "done_reason": DONE_REASONS[reply.stop_reason],
            "total_duration": (reply.input_tokens + out) * _NANOSECONDS_PER_TOKEN,
            "prompt_eval_count": reply.input_tokens,
            "eval_count": out,
        }
