"""What a backend module provides: its wire format behind one small interface.

A ``Dialect`` knows its URL path, headers, request body, how its stream is framed and decoded,
and how its error bodies read. Everything else (retries, timeouts, the key, cancellation) is
shared code in ``ren_lsp.models.client``, written once for every backend.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from ren_lsp.models import errors
from ren_lsp.models.types import Event, Reply, Request, ToolCall, Usage

SETTINGS_HELP = ("in your editor's ren-lsp settings or in the ren-lsp config.toml (run "
                 "`ren-lsp doctor` to see where settings come from)")


class Decoder:
    """The state of one streamed reply: bytes in, typed events out.

    Subclasses parse their frames and call ``_text``/``_tool``/... which keep the reply.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.text_parts: list[str] = []
        self.tool_calls: list[ToolCall] = []
        self.reply_id = ""
        self.model = ""
        self.stop_reason: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        self.done = False

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def feed(self, chunk: bytes) -> list[Event]:
        """Decode a chunk of the response body into the events it completes."""
        raise NotImplementedError

    @property
    def pending(self) -> bool:
        """Whether an unfinished frame is waiting for more bytes."""
        return False

    def reply(self) -> Reply:
        return Reply(id=self.reply_id, model=self.model, text=self.text,
                     tool_calls=list(self.tool_calls), stop_reason=self.stop_reason,
                     usage=Usage(self.input_tokens, self.output_tokens))

    def malformed(self, what: str, why: str) -> errors.MalformedEventError:
        return errors.MalformedEventError(
            f"{self.dialect.speaker_cap} sent a malformed {what} ({why}); the answer so far is "
            "kept. Try again; if it persists, report it with `ren-lsp doctor`.",
            partial_text=self.text)

    def stream_error(self, error_type: str, detail: str) -> errors.StreamErrorEvent:
        said = f" ({detail})" if detail else ""
        return errors.StreamErrorEvent(
            f"{self.dialect.speaker_cap} stopped with an error mid-answer: {error_type}{said}. "
            "The answer so far is kept; try again.",
            error_type=error_type, partial_text=self.text)

    def parse_tool_input(self, raw: str) -> dict[str, Any]:
        try:
            value = json.loads(raw or "{}")
        except ValueError:
            raise self.malformed("tool call", "its input is not JSON") from None
        if not isinstance(value, dict):
            raise self.malformed("tool call", "its input is not an object")
        return value


class Dialect:
    """One wire format. Subclasses set the class attributes and implement the methods."""

    #: the provider setting's value
    name: ClassVar[str]
    #: what the user reads in messages: "the Ren API", "Ollama"
    service: ClassVar[str]
    #: who answers, in messages: "Astra", "the model"
    speaker: ClassVar[str] = "the model"
    #: the provider's usual environment variable for its key (None: no key at all)
    key_env: ClassVar[str | None] = None
    #: whether a key is needed even on a loopback address (the Ren API always checks it)
    key_on_loopback: ClassVar[bool] = False
    default_base_url: ClassVar[str]
    #: the model used when the settings name none (None: the user must name one)
    default_model: ClassVar[str | None] = None
    supports_tools: ClassVar[bool] = True
    path: ClassVar[str]
    content_types: ClassVar[tuple[str, ...]] = ("text/event-stream",)

    @property
    def speaker_cap(self) -> str:
        return self.speaker[0].upper() + self.speaker[1:]

    @property
    def service_cap(self) -> str:
        return self.service[0].upper() + self.service[1:]

    def key_help(self) -> str:
        if self.key_env is None:
            return f"{self.service} takes no key"
        return (f"set {self.key_env}, or apiKeyCommand in the ren-lsp config.toml, or apiKey "
                f"{SETTINGS_HELP}")

    def headers(self, key: str | None) -> dict[str, str]:
        raise NotImplementedError

    def body(self, request: Request, *, model: str, max_tokens: int,
             temperature: float | None, context_tokens: int) -> dict[str, Any]:
        raise NotImplementedError

    def decoder(self) -> Decoder:
        raise NotImplementedError

    def error_detail(self, body: bytes) -> tuple[str, str]:
        """(error type, message) from an error response's body; ("", "") when unreadable."""
        try:
            payload = json.loads(body)
        except ValueError:
            return "", body[:200].decode("utf-8", "replace").strip()
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict):
            return str(error.get("type") or error.get("code") or ""), str(
                error.get("message", ""))
        if isinstance(error, str):
            return "", error
        return "", ""

    # -- messages, one per error status: the same for every backend, in its own words -------

    def status_message(self, cls: type[errors.APIStatusError], detail: str, *,
                       base_url: str, model: str) -> str:
        said = f" ({detail})" if detail else ""
        service, speaker = self.service_cap, self.speaker_cap
        messages: Mapping[type[errors.APIStatusError], str] = {
            errors.BadRequestError: f"{speaker} rejected the request as invalid{said}. If this "
            "keeps happening it is a ren-lsp bug: please report it with the output of "
            "`ren-lsp doctor`.",
            errors.AuthenticationError: f"{service} did not accept the API key{said}: "
            f"{self.key_help()}.",
            errors.PermissionDeniedError: f"This API key may not do that{said}: check its "
            f"permissions with {self.service}.",
            errors.NotFoundError: f"{service} at {base_url} answered 'not found'{said}: check "
            f"the baseUrl setting and that the model '{model}' exists.",
            errors.RequestTooLargeError: f"The request was too large for {self.speaker}{said}: "
            "select less code or lower the context budget.",
            errors.RateLimitError: f"{service} is rate limiting this key{said}: wait a minute "
            "and try again.",
            errors.ServerError: f"{service} had an internal error{said}: try again shortly.",
            errors.OverloadedError: f"{speaker} is overloaded right now{said}: try again "
            "shortly.",
        }
        return messages.get(cls, f"{service} answered an error{said}.")
