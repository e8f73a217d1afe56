"""`POST /v1/messages`: the Ren API (`ren`) and Anthropic's Messages API (`anthropic`).

Both are one wire format (`shared/ren-api.md`); only the key travels differently: Ren sends
`Authorization: Bearer <key>`, Anthropic `x-api-key: <key>` with a required `anthropic-version`
header. Recent Ollama and llama.cpp servers serve the anthropic dialect at this path too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ren_lsp.emulator.dialects.base import MODEL, Dialect, Keys, Refusal
from ren_lsp.emulator.faults import Fault, error_type_for
from ren_lsp.emulator.schemas import REQUEST_SCHEMA, request_error
from ren_lsp.emulator.stream import Encoded, Reply, messages_stream

__all__ = ["AnthropicDialect", "RenDialect", "messages_dialect"]


class RenDialect(Dialect):
    """The Ren API: a bearer key; the body and events of `shared/ren-api.md`."""

    name = "ren"
    schema = REQUEST_SCHEMA

    def authenticate(self, headers: Mapping[str, str], keys: Keys) -> Refusal | None:
        """401 unless `Authorization: Bearer <key>` carries an acceptable key."""
        scheme, _, key = headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            message = (
                "Missing API key: send 'Authorization: Bearer <key>' (or, as Anthropic's API, "
                "'x-api-key: <key>' with 'anthropic-version') (Ren emulator)"
            )
            return Refusal(status=401, message=message)
        if not keys.key_matches(key.strip()):
            return Refusal(status=401, message="Invalid API key (Ren emulator)")
        return None

    def check(self, body: Any) -> Refusal | None:
        """400 naming the field (the schema, and roles alternating from `user`)."""
        problem = request_error(body)
        if problem is None:
            return None
        return Refusal(status=400, message=f"{problem} (Ren emulator)")

    def to_internal(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body itself: the internal request is this format."""
        return body

    def unknown_model(self, model: str) -> Refusal:
        """404 `not_found_error` naming the model the emulator serves."""
        message = f"model: {model!r} not found; the Ren emulator serves {MODEL!r}"
        return Refusal(status=404, message=message)

    def default_error_type(self, status: int) -> str:
        """The `error.type` of the error table of ren-api.md."""
        return error_type_for(status)

    def error_body(self, refusal: Refusal) -> dict[str, Any]:
        """`{"type": "error", "error": {"type", "message"}}`."""
        error_type = refusal.error_type or error_type_for(refusal.status)
        return {"type": "error", "error": {"type": error_type, "message": refusal.message}}

    def message(self, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
        """The message object of a reply without streaming."""
        return reply.message()

    def stream(self, reply: Reply, body: dict[str, Any], fault: Fault) -> Encoded:
        """The server-sent events of ren-api.md."""
        return messages_stream(reply, fault)


class AnthropicDialect(RenDialect):
    """Anthropic's Messages API: `x-api-key` and `anthropic-version` headers."""

    name = "anthropic"

    def authenticate(self, headers: Mapping[str, str], keys: Keys) -> Refusal | None:
        """401 for an unacceptable `x-api-key`; 400 without `anthropic-version`.

        Without a configured key a request with no `x-api-key` passes, as a local server's does.
        """
        key = headers.get("x-api-key", "").strip()
        if key and not keys.key_matches(key):
            return Refusal(status=401, message="Invalid API key in 'x-api-key' (Ren emulator)")
        if not key and keys.key_configured:
            message = "Missing API key: send 'x-api-key: <key>' (Ren emulator)"
            return Refusal(status=401, message=message)
        if not headers.get("anthropic-version", "").strip():
            message = (
                "anthropic-version: header is required (for example "
                "'anthropic-version: 2023-06-01') (Ren emulator)"
            )
            return Refusal(status=400, message=message, error_type="invalid_request_error")
        return None


_REN = RenDialect()
_ANTHROPIC = AnthropicDialect()


def messages_dialect(headers: Mapping[str, str]) -> RenDialect:
    """Which dialect a request to `/v1/messages` speaks, from its headers.

    `x-api-key` makes it anthropic; so does `anthropic-version` without an `Authorization`
    header (a keyless client of a local server). Anything else is ren.
    """
    if "x-api-key" in headers:
        return _ANTHROPIC
    if "anthropic-version" in headers and "Authorization" not in headers:
        return _ANTHROPIC
    return _REN
