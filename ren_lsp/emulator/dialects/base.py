"""What every dialect provides, and the parts they share.

A dialect is one wire format of a model API. The emulator answers every dialect the same way:
authenticate, validate against the dialect's schema, convert the body to the internal
(Anthropic-shaped) request, plan the reply once (`stream.plan_reply`), and encode the reply, or
the refusal, in the dialect's own words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

import attrs
from aiohttp import web

from ren_lsp.emulator.faults import Fault
from ren_lsp.emulator.stream import Encoded, Reply

__all__ = [
    "MODEL",
    "UNKNOWN_FIELD",
    "Dialect",
    "Keys",
    "Refusal",
    "Turns",
    "compact",
    "looks_like_error",
    "tool_to_internal",
]

MODEL = "astra"
#: The top-level field an `unknown_event` fault adds to the first chunk or line of an OpenAI or
#: Ollama stream (clients must ignore it; the Ren API's fault is a whole unknown event instead).
UNKNOWN_FIELD = "ren_emulator_future_field"

# OpenAI's and Ollama's tool messages have no error flag: a result that starts with the word
# "error" (as "Error: no such file") is taken as one, which is what `{last_error}` and
# `unless_error` of a conversation see.
_ERROR_RESULT = re.compile(r"\s*error\b", re.IGNORECASE)


def looks_like_error(content: str) -> bool:
    """Whether a tool message's text reports an error (it starts with the word "error")."""
    return bool(_ERROR_RESULT.match(content))


def compact(data: Any) -> str:
    """`data` as compact JSON, non-ASCII kept (what the emulator writes on the wire)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


@attrs.frozen(kw_only=True)
class Refusal:
    """Why a request gets an error status instead of a reply, before any dialect's wording.

    `error_type` and `code` are filled in by the dialect from `status` when not given; `param`
    names the offending field where the dialect reports one (OpenAI).
    """

    status: int
    message: str
    error_type: str | None = None
    code: str | None = None
    param: str | None = None


class Keys(Protocol):
    """The emulator's key rules, as a dialect's authentication needs them."""

    @property
    def key_configured(self) -> bool:
        """Whether one key was configured (else any key, or for some dialects none, passes)."""
        ...

    def key_matches(self, given: str) -> bool:
        """Whether `given` is acceptable: any non-empty key, or exactly the configured one."""
        ...


class Dialect:
    """One wire format. Subclasses set the class attributes and override what differs."""

    name: ClassVar[str]
    #: prefixes (and separator) of the ids this dialect hands out: `msg_emu_000001`
    message_prefix: ClassVar[tuple[str, str]] = ("msg", "_")
    tool_prefix: ClassVar[tuple[str, str]] = ("toolu", "_")
    schema: ClassVar[str]

    def streams(self, body: Any) -> bool:
        """Whether the request asks for a streamed reply (false when absent)."""
        return isinstance(body, dict) and body.get("stream") is True

    def authenticate(self, headers: Mapping[str, str], keys: Keys) -> Refusal | None:
        """A 401 (or 400) for headers that do not carry an acceptable key, else None."""
        raise NotImplementedError

    def check(self, body: Any) -> Refusal | None:
        """A 400 naming the field for a body that is not a valid request, else None."""
        raise NotImplementedError

    def to_internal(self, body: dict[str, Any]) -> dict[str, Any]:
        """The internal (Anthropic-shaped) request for a valid body."""
        raise NotImplementedError

    def unknown_model(self, model: str) -> Refusal:
        """The 404 for a model the emulator does not serve."""
        raise NotImplementedError

    def default_error_type(self, status: int) -> str:
        """The error type this dialect names a status with (for a scripted fault)."""
        raise NotImplementedError

    def scripted(self, fault: Fault) -> Refusal:
        """The refusal a fault with a `status` stands for."""
        assert fault.status is not None
        error_type = fault.error_type or self.default_error_type(fault.status)
        message = fault.message or f"Scripted {fault.status} {error_type} (Ren emulator)"
        return Refusal(status=fault.status, message=message, error_type=fault.error_type)

    def error_response(
        self, refusal: Refusal, request_id: str, retry_after: float | None
    ) -> web.Response:
        """`refusal` as this dialect's error body, with `request-id` and any `retry-after`."""
        headers = {"request-id": request_id}
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        body = self.error_body(refusal)
        return web.json_response(body, status=refusal.status, headers=headers)

    def error_body(self, refusal: Refusal) -> dict[str, Any]:
        """The JSON body of an error response."""
        raise NotImplementedError

    def reply_headers(self, request_id: str) -> dict[str, str]:
        """The headers of a successful reply."""
        return {"request-id": request_id}

    def message(self, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
        """The whole reply, for a request that is not streamed."""
        raise NotImplementedError

    def stream(self, reply: Reply, body: dict[str, Any], fault: Fault) -> Encoded:
        """The reply as this dialect streams it."""
        raise NotImplementedError


def tool_to_internal(function: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI/Ollama `function` tool as an internal tool (`name`, `input_schema`)."""
    tool: dict[str, Any] = {
        "name": function["name"],
        "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
    }
    if "description" in function:
        tool["description"] = function["description"]
    return tool


class Turns:
    """Builds internal messages: consecutive turns of one role merge into one message."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.system: list[str] = []

    def add(self, role: str, content: str | list[dict[str, Any]]) -> None:
        """Append a turn; a string stays a string unless it has to merge with a neighbour."""
        if self.messages and self.messages[-1]["role"] == role:
            last = self.messages[-1]
            last["content"] = _blocks(last["content"]) + _blocks(content)
        else:
            self.messages.append({"role": role, "content": content})

    def body(self, model: str, stream: bool, **extra: Any) -> dict[str, Any]:
        """The internal request; `extra` fields that are None are left out."""
        body: dict[str, Any] = {"model": model, "messages": self.messages, "stream": stream}
        if self.system:
            body["system"] = "\n\n".join(self.system)
        body.update({k: v for k, v in extra.items() if v is not None})
        return body


def _blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
