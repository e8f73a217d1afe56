"""The wire formats the emulator speaks, one module each, all answered from one plan.

- `messages`: `POST /v1/messages`, as the Ren API (`ren`, a bearer key) and as Anthropic's API
  (`anthropic`, `x-api-key` and `anthropic-version`);
- `openai`: `POST /v1/chat/completions`, OpenAI's Chat Completions;
- `ollama`: `POST /api/chat`, Ollama's native chat.
"""

from __future__ import annotations

from ren_lsp.emulator.dialects.base import MODEL, Dialect, Refusal
from ren_lsp.emulator.dialects.messages import AnthropicDialect, RenDialect, messages_dialect
from ren_lsp.emulator.dialects.ollama import OllamaDialect
from ren_lsp.emulator.dialects.openai import OpenAIDialect

__all__ = [
    "MODEL",
    "AnthropicDialect",
    "Dialect",
    "OllamaDialect",
    "OpenAIDialect",
    "Refusal",
    "RenDialect",
    "messages_dialect",
]
