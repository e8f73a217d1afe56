"""Each model API dialect's wire, written and read by hand for the emulator's tests.

Deliberately independent of ren_lsp's clients and of the emulator's encoders: requests are built
and replies decoded from the dialects' published shapes, so a test compares the emulator against
the wire format, not against itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ren_lsp.emulator import Emulator

DIALECTS = ("ren", "anthropic", "openai", "ollama")
NEW_DIALECTS = ("anthropic", "openai", "ollama")
PATHS = {
    "ren": "/v1/messages",
    "anthropic": "/v1/messages",
    "openai": "/v1/chat/completions",
    "ollama": "/api/chat",
}


@dataclass
class Decoded:
    """What a reply carried, in neutral terms."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tool_ids: list[str] = field(default_factory=list)
    finish: str | None = None
    usage: dict[str, Any] | None = None
    #: every unit of the stream, decoded (a str when it was not JSON, "[DONE]" included)
    units: list[Any] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    #: whether the stream ended the way the dialect says a finished one does
    ended: bool = False
    #: the number of text deltas (or text lines) seen
    text_units: int = 0


def headers(dialect: str, key: str | None) -> dict[str, str]:
    """The headers a client of `dialect` sends (`key` None: none at all)."""
    if dialect == "anthropic":
        sent = {"anthropic-version": "2023-06-01"}
        return sent | ({"x-api-key": key} if key else {})
    if dialect in ("ren", "openai") and key:
        return {"Authorization": f"Bearer {key}"}
    return {}


_DEFAULT: Any = object()


@dataclass
class Caller:
    """Sends requests to one emulator in any dialect, with the dialect's headers for `key`."""

    http: httpx.AsyncClient
    emu: Emulator
    key: str | None = None

    async def post(self, dialect: str, body: Any, key: str | None = _DEFAULT) -> httpx.Response:
        """POST `body` to the dialect's path (with `key`, default this caller's)."""
        sent = headers(dialect, self.key if key is _DEFAULT else key)
        return await self.http.post(self.emu.base_url + PATHS[dialect], json=body, headers=sent)

    async def stream(self, dialect: str, body: Any) -> tuple[httpx.Response, bytes]:
        """POST `body` and read the whole streamed reply (raises on a broken stream)."""
        url, sent = self.emu.base_url + PATHS[dialect], headers(dialect, self.key)
        async with self.http.stream("POST", url, json=body, headers=sent) as response:
            return response, await response.aread()

    async def stream_until_broken(
        self, dialect: str, body: Any
    ) -> tuple[httpx.Response, bytes, Exception | None]:
        """Like `stream`, but keep what arrived before a transport error, and the error."""
        url, sent = self.emu.base_url + PATHS[dialect], headers(dialect, self.key)
        chunks: list[bytes] = []
        async with self.http.stream("POST", url, json=body, headers=sent) as response:
            try:
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
            except httpx.TransportError as exc:
                return response, b"".join(chunks), exc
        return response, b"".join(chunks), None


def tools(dialect: str, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Neutral tool specs (`name`, `description`, `schema`) in the dialect's shape."""
    if dialect in ("ren", "anthropic"):
        return [
            {"name": s["name"], "description": s["description"], "input_schema": s["schema"]}
            for s in specs
        ]
    return [
        {
            "type": "function",
            "function": {
                "name": s["name"],
                "description": s["description"],
                "parameters": s["schema"],
            },
        }
        for s in specs
    ]


def request(
    dialect: str,
    text: str,
    *,
    stream: bool,
    system: str | None = None,
    tool_specs: list[dict[str, Any]] | None = None,
    history: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A chat request: `system`, then `history` (already in the dialect's shape), then `text`."""
    messages: list[dict[str, Any]] = []
    body: dict[str, Any] = {"model": "astra", "stream": stream}
    if system is not None:
        if dialect in ("ren", "anthropic"):
            body["system"] = system
        else:
            messages.append({"role": "system", "content": system})
    messages += history or []
    if text:
        messages.append({"role": "user", "content": text})
    body["messages"] = messages
    if tool_specs:
        body["tools"] = tools(dialect, tool_specs)
    return body | extra


def tool_round(
    dialect: str,
    question: str,
    call_id: str,
    name: str,
    arguments: dict[str, Any],
    result: str,
    *,
    is_error: bool = False,
) -> list[dict[str, Any]]:
    """The history after one tool call: the question, the model's call, the tool's result.

    OpenAI's and Ollama's tool messages have no error flag: an error is a result that starts
    with "Error" (the emulator's documented rule), so `is_error` is carried by `result` there.
    """
    user = {"role": "user", "content": question}
    if dialect in ("ren", "anthropic"):
        use = {"type": "tool_use", "id": call_id, "name": name, "input": arguments}
        answer: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id, "content": result}
        if is_error:
            answer["is_error"] = True
        return [
            user,
            {"role": "assistant", "content": [use]},
            {"role": "user", "content": [answer]},
        ]
    if dialect == "openai":
        call = {
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        return [
            user,
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call_id, "content": result},
        ]
    call = {"function": {"name": name, "arguments": arguments}}
    return [
        user,
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_name": name, "content": result},
    ]


def _json_or_raw(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data


def _sse_blocks(raw: str) -> tuple[list[tuple[str | None, str]], list[str]]:
    blocks, comments = [], []
    for block in raw.split("\n\n"):
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith(":"):
                comments.append(line[1:].strip())
            elif line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        if data:
            blocks.append((event, "\n".join(data)))
    return blocks, comments


def decode_stream(dialect: str, raw: bytes) -> Decoded:
    """Decode a streamed reply as a client of `dialect` would, tolerating bad units."""
    text = raw.decode()
    if dialect in ("ren", "anthropic"):
        return _messages_stream(text)
    if dialect == "openai":
        return _openai_stream(text)
    return _ollama_stream(text)


def _messages_stream(raw: str) -> Decoded:
    out = Decoded()
    blocks, out.comments = _sse_blocks(raw)
    partial: list[str] = []
    for _event, data in blocks:
        unit = _json_or_raw(data)
        out.units.append(unit)
        if not isinstance(unit, dict):
            continue
        kind = unit.get("type")
        if kind == "content_block_start" and unit["content_block"]["type"] == "tool_use":
            out.tool_ids.append(unit["content_block"]["id"])
            out.tool_calls.append((unit["content_block"]["name"], {}))
        elif kind == "content_block_delta" and unit["delta"]["type"] == "text_delta":
            out.text += unit["delta"]["text"]
            out.text_units += 1
        elif kind == "content_block_delta" and unit["delta"]["type"] == "input_json_delta":
            partial.append(unit["delta"]["partial_json"])
        elif kind == "content_block_stop" and out.tool_calls and partial:
            out.tool_calls[-1] = (out.tool_calls[-1][0], json.loads("".join(partial)))
        elif kind == "message_delta":
            out.finish = unit["delta"]["stop_reason"]
            out.usage = unit["usage"]
        elif kind == "message_stop":
            out.ended = True
    return out


def _openai_stream(raw: str) -> Decoded:
    out = Decoded()
    blocks, out.comments = _sse_blocks(raw)
    calls: dict[int, dict[str, Any]] = {}
    for event, data in blocks:
        assert event is None, "OpenAI streams have no event: lines"
        unit = _json_or_raw(data)
        out.units.append(unit)
        if unit == "[DONE]":
            out.ended = True
        if not isinstance(unit, dict):
            continue
        if unit.get("usage") is not None:
            out.usage = unit["usage"]
        for choice in unit.get("choices", []):
            delta = choice["delta"]
            if delta.get("content"):
                out.text += delta["content"]
                out.text_units += 1
            for fragment in delta.get("tool_calls") or []:
                call = calls.setdefault(fragment["index"], {"name": "", "arguments": ""})
                if "id" in fragment:
                    call["id"] = fragment["id"]
                function = fragment.get("function", {})
                call["name"] += function.get("name", "")
                call["arguments"] += function.get("arguments", "")
            if choice.get("finish_reason"):
                out.finish = choice["finish_reason"]
    for _index, call in sorted(calls.items()):
        out.tool_ids.append(call["id"])
        out.tool_calls.append((call["name"], json.loads(call["arguments"])))
    return out


def _ollama_stream(raw: str) -> Decoded:
    out = Decoded()
    for line in raw.split("\n"):
        if not line:
            continue
        unit = _json_or_raw(line)
        out.units.append(unit)
        if not isinstance(unit, dict) or "message" not in unit:
            continue
        message = unit["message"]
        if message.get("content"):
            out.text += message["content"]
            out.text_units += 1
        for call in message.get("tool_calls") or []:
            out.tool_calls.append((call["function"]["name"], call["function"]["arguments"]))
        if unit.get("done") is True:
            out.ended = True
            out.finish = unit["done_reason"]
            out.usage = {k: unit[k] for k in ("prompt_eval_count", "eval_count")}
    return out


def decode_reply(dialect: str, body: dict[str, Any]) -> Decoded:
    """Decode a reply that was not streamed."""
    out = Decoded(ended=True)
    if dialect in ("ren", "anthropic"):
        for block in body["content"]:
            if block["type"] == "text":
                out.text += block["text"]
            elif block["type"] == "tool_use":
                out.tool_ids.append(block["id"])
                out.tool_calls.append((block["name"], block["input"]))
        out.finish, out.usage = body["stop_reason"], body["usage"]
    elif dialect == "openai":
        choice = body["choices"][0]
        out.text = choice["message"]["content"] or ""
        for call in choice["message"].get("tool_calls") or []:
            out.tool_ids.append(call["id"])
            out.tool_calls.append(
                (call["function"]["name"], json.loads(call["function"]["arguments"]))
            )
        out.finish, out.usage = choice["finish_reason"], body["usage"]
    else:
        out.text = body["message"]["content"]
        for call in body["message"].get("tool_calls") or []:
            out.tool_calls.append((call["function"]["name"], call["function"]["arguments"]))
        out.finish = body["done_reason"]
        out.usage = {k: body[k] for k in ("prompt_eval_count", "eval_count")}
    return out


def error_message(dialect: str, body: Any) -> str:
    """The message of an error body, checking the body has the dialect's shape."""
    if dialect in ("ren", "anthropic"):
        assert body["type"] == "error" and set(body["error"]) == {"type", "message"}
        return str(body["error"]["message"])
    if dialect == "openai":
        assert set(body["error"]) == {"message", "type", "param", "code"}
        return str(body["error"]["message"])
    assert set(body) == {"error"} and isinstance(body["error"], str)
    return str(body["error"])
