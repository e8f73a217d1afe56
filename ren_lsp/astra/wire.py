"""The Ren API's wire format: the one module that knows it.

ren-api.md assumes the Ren API speaks the shape of Anthropic's Messages API. Everything that
follows from that assumption (URL, headers, body, event names, error bodies) lives here, so if
the real API differs, this file changes and nothing else does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from ren_lsp import __version__
from ren_lsp.astra import errors
from ren_lsp.astra.events import Event, MessageStart, MessageStop, TextDelta, ToolUse, Usage

MESSAGES_PATH = "/v1/messages"
USER_AGENT = f"ren-lsp/{__version__}"


@attrs.define(kw_only=True)
class MessageRequest:
    """What a caller asks Astra; the client fills in model and defaults from its settings."""

    messages: list[dict[str, Any]]
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    stop_sequences: list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None

    @classmethod
    def ask(cls, text: str, *, system: str | None = None, **kw: Any) -> MessageRequest:
        """One user turn: the common case."""
        return cls(messages=[{"role": "user", "content": text}], system=system, **kw)


@attrs.define(kw_only=True)
class Message:
    """A complete (non-streamed, or fully consumed) reply."""

    id: str
    model: str
    text: str
    tool_uses: list[ToolUse]
    stop_reason: str | None
    usage: Usage


def request_body(request: MessageRequest, *, model: str, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": request.messages, "stream": stream}
    for name in ("system", "max_tokens", "temperature", "stop_sequences", "tools",
                 "tool_choice", "metadata"):
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    return body


def request_headers(api_key: str, *, stream: bool) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if stream else "application/json",
        "User-Agent": USER_AGENT,
    }


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP date: rare for APIs; the client falls back to its backoff


def error_from_response(
    status: int, body: bytes, headers: Mapping[str, str], *, base_url: str, model: str
) -> errors.APIStatusError:
    """Turn an error response into the matching error, with a message a user can act on."""
    error_type, detail = "", ""
    try:
        payload = json.loads(body)
        error_type = str(payload["error"]["type"])
        detail = str(payload["error"]["message"])
    except (ValueError, KeyError, TypeError):
        detail = body[:200].decode("utf-8", "replace").strip()
    cls = errors.STATUS_ERRORS.get(status)
    if cls is None:
        cls = errors.ServerError if status >= 500 else errors.BadRequestError
    error_type = error_type or cls.error_type
    said = f" ({detail})" if detail else ""
    messages = {
        errors.BadRequestError: f"Astra rejected the request as invalid{said}. If this keeps "
        "happening it is a ren-lsp bug: please report it with the output of `ren-lsp doctor`.",
        errors.AuthenticationError: f"The Ren API did not accept the API key{said}: "
        f"{errors.KEY_HELP}.",
        errors.PermissionDeniedError: f"This API key may not do that{said}: check its "
        "permissions in your Ren API console.",
        errors.NotFoundError: f"The Ren API at {base_url} answered 'not found'{said}: check the "
        f"baseUrl setting and that the model '{model}' exists.",
        errors.RequestTooLargeError: f"The request was too large for Astra{said}: select less "
        "code or lower the context budget.",
        errors.RateLimitError: f"The Ren API is rate limiting this key{said}: wait a minute "
        "and try again.",
        errors.ServerError: f"The Ren API had an internal error{said}: try again shortly.",
        errors.OverloadedError: f"Astra is overloaded right now{said}: try again shortly.",
    }
    message = f"{messages.get(cls, f'The Ren API answered an error{said}.')} [HTTP {status}]"
    return cls(
        message,
        status_code=status,
        error_type=error_type,
        request_id=headers.get("request-id"),
        retry_after=_retry_after(headers),
    )


@attrs.define
class _Block:
    kind: str
    id: str = ""
    name: str = ""
    json_parts: list[str] = attrs.Factory(list)


class EventDecoder:
    """Turns the SSE events of one reply into typed events, keeping the reply's state.

    Unknown event types and pings are ignored (forward compatibility). An ``error`` event
    or data that does not parse raises, carrying the text that arrived so far.
    """

    def __init__(self) -> None:
        self.text_parts: list[str] = []
        self.tool_uses: list[ToolUse] = []
        self.message_id = ""
        self.model = ""
        self.stop_reason: str | None = None
        self.stop_sequence: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.done = False
        self._blocks: dict[int, _Block] = {}

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def _malformed(self, name: str, why: str) -> errors.MalformedEventError:
        return errors.MalformedEventError(
            f"Astra sent a malformed '{name}' event ({why}); the answer so far is kept. "
            "Try again; if it persists, report it with `ren-lsp doctor`.",
            partial_text=self.text,
        )

    def feed(self, name: str, data: str) -> Event | None:
        """Decode one SSE event; returns a typed event or None for events with nothing to say."""
        try:
            payload = json.loads(data) if data else {}
        except ValueError:
            raise self._malformed(name, "its data is not JSON") from None
        if not isinstance(payload, dict):
            raise self._malformed(name, "its data is not an object")
        kind = payload.get("type", name)
        try:
            return self._dispatch(kind, payload)
        except (KeyError, TypeError, AttributeError) as exc:
            raise self._malformed(kind, f"missing or wrong field {exc}") from None

    def _dispatch(self, kind: str, p: dict[str, Any]) -> Event | None:
        if kind == "content_block_delta":
            delta = p["delta"]
            dtype = delta["type"]
            if dtype == "text_delta":
                text = delta["text"]
                if not isinstance(text, str):
                    raise TypeError("delta.text")
                self.text_parts.append(text)
                return TextDelta(index=p["index"], text=text)
            if dtype == "input_json_delta":
                self._blocks[p["index"]].json_parts.append(delta["partial_json"])
            return None
        if kind == "message_start":
            message = p["message"]
            self.message_id = message["id"]
            self.model = message.get("model", "")
            self.input_tokens = int(message.get("usage", {}).get("input_tokens", 0))
            return MessageStart(id=self.message_id, model=self.model,
                                input_tokens=self.input_tokens)
        if kind == "content_block_start":
            block = p["content_block"]
            self._blocks[p["index"]] = _Block(kind=block["type"], id=block.get("id", ""),
                                              name=block.get("name", ""))
            return None
        if kind == "content_block_stop":
            block_state = self._blocks.pop(p["index"], None)
            if block_state is None or block_state.kind != "tool_use":
                return None
            raw = "".join(block_state.json_parts) or "{}"
            try:
                tool_input = json.loads(raw)
            except ValueError:
                raise self._malformed("content_block_stop", "tool input is not JSON") from None
            tool = ToolUse(index=p["index"], id=block_state.id, name=block_state.name,
                           input=tool_input)
            self.tool_uses.append(tool)
            return tool
        if kind == "message_delta":
            self.stop_reason = p.get("delta", {}).get("stop_reason")
            self.stop_sequence = p.get("delta", {}).get("stop_sequence")
            self.output_tokens = int(p.get("usage", {}).get("output_tokens", 0))
            return Usage(input_tokens=self.input_tokens, output_tokens=self.output_tokens)
        if kind == "message_stop":
            self.done = True
            return MessageStop(stop_reason=self.stop_reason, stop_sequence=self.stop_sequence)
        if kind == "error":
            error = p.get("error", {})
            etype = str(error.get("type", "api_error"))
            detail = str(error.get("message", "")).strip()
            said = f" ({detail})" if detail else ""
            raise errors.StreamErrorEvent(
                f"Astra stopped with an error mid-answer: {etype}{said}. The answer so far "
                "is kept; try again.",
                error_type=etype,
                partial_text=self.text,
            )
        return None  # ping, and event types this client does not know yet

    def message(self) -> Message:
        return Message(
            id=self.message_id,
            model=self.model,
            text=self.text,
            tool_uses=list(self.tool_uses),
            stop_reason=self.stop_reason,
            usage=Usage(input_tokens=self.input_tokens, output_tokens=self.output_tokens),
        )


def parse_message(body: bytes) -> Message:
    """Parse a non-streamed reply."""
    try:
        payload = json.loads(body)
        text = "".join(b["text"] for b in payload["content"] if b["type"] == "text")
        tools = [
            ToolUse(index=i, id=b["id"], name=b["name"], input=b.get("input") or {})
            for i, b in enumerate(payload["content"])
            if b["type"] == "tool_use"
        ]
        usage = payload.get("usage", {})
        return Message(
            id=payload["id"],
            model=payload.get("model", ""),
            text=text,
            tool_uses=tools,
            stop_reason=payload.get("stop_reason"),
            usage=Usage(input_tokens=int(usage.get("input_tokens", 0)),
                        output_tokens=int(usage.get("output_tokens", 0))),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.MalformedEventError(
            f"Astra's reply was not in the expected format ({exc}). Try again; if it persists, "
            "report it with `ren-lsp doctor`."
        ) from None
