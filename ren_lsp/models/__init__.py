"""Models: one neutral interface (turns, tool calls and results, streamed events) over every
backend. Knows nothing of LSP.

- ``types``: the request and the events; ``errors``: one error tree for every backend;
- ``client``: retries, timeouts, cancellation and key rules, written once;
- one module per wire format: ``ren`` (the Ren API), ``anthropic``, ``openai`` (and every
  OpenAI-compatible server), ``ollama``; ``messages`` is the format ren and anthropic share.

Backends are imported when first used, so importing ``ren_lsp.models`` does not pay for httpx.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from ren_lsp.models.errors import ModelError
from ren_lsp.models.types import (
    Event,
    Reply,
    Request,
    Start,
    Stop,
    Text,
    TextDelta,
    Tool,
    ToolCall,
    ToolResult,
    Turn,
    Usage,
)

if TYPE_CHECKING:
    from ren_lsp.config import Settings
    from ren_lsp.models.backend import Dialect
    from ren_lsp.models.client import HTTPModelClient, ModelClient

__all__ = [
    "PROVIDERS", "Event", "ModelError", "Reply", "Request", "Start", "Stop", "Text",
    "TextDelta", "Tool", "ToolCall", "ToolResult", "Turn", "Usage", "client_from_settings",
    "dialect",
]

#: provider setting -> (module, dialect class)
PROVIDERS = {
    "ren": ("ren", "RenDialect"),
    "anthropic": ("anthropic", "AnthropicDialect"),
    "openai": ("openai", "OpenAIDialect"),
    "ollama": ("ollama", "OllamaDialect"),
}

#: what a model is used for; each role may name its own model, else ``model`` answers
ROLES = ("default", "completion", "agent")


def dialect(provider: str) -> Dialect:
    """The wire format of a provider (``PROVIDERS``)."""
    module, name = PROVIDERS[provider]
    cls: type[Dialect] = getattr(importlib.import_module(f"ren_lsp.models.{module}"), name)
    return cls()


def model_for(settings: Settings, role: str = "default") -> str | None:
    """The model a role uses: its own setting, else ``model``, else the provider's default."""
    own = {"completion": settings.completion_model, "agent": settings.agent_model}.get(role)
    return own or settings.model or dialect(settings.provider).default_model


def client_from_settings(settings: Settings, *, role: str = "default",
                         api_key: str | Callable[[], str | None] | None = None,
                         **overrides: object) -> HTTPModelClient:
    """A client for the settings' provider; the key is resolved lazily (``api_key`` may be a
    function), and only ever from the provider's own key settings."""
    from ren_lsp.keys import resolve_api_key
    from ren_lsp.models.client import HTTPModelClient, RetryPolicy, Timeouts

    kwargs: dict[str, object] = dict(
        base_url=settings.base_url,
        api_key=api_key if api_key is not None else (lambda: resolve_api_key(settings)),
        model=model_for(settings, role),
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        context_tokens=settings.context_budget,
        timeouts=Timeouts(settings.connect_timeout, settings.first_byte_timeout,
                          settings.event_timeout),
        retry=RetryPolicy(max_retries=settings.max_retries),
    )
    kwargs.update(overrides)
    return HTTPModelClient(dialect(settings.provider), **kwargs)  # type: ignore[arg-type]


ModelFactory = Callable[["Settings", str], "ModelClient"]
