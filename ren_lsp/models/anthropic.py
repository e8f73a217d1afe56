"""Anthropic's Messages API (also served at ``/v1/messages`` by recent Ollama and llama.cpp):
the Messages format with ``x-api-key`` and ``anthropic-version`` headers."""

from __future__ import annotations

from ren_lsp.models.messages import MessagesDialect

API_VERSION = "2023-06-01"


class AnthropicDialect(MessagesDialect):
    name = "anthropic"
    service = "Anthropic's API"
    key_env = "ANTHROPIC_API_KEY"
    default_base_url = "https://api.anthropic.com"

    def headers(self, key: str | None) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION, "Accept": "text/event-stream"}
        if key is not None:
            headers["x-api-key"] = key
        return headers
