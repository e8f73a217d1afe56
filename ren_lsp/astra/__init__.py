"""The Ren API client. Knows nothing of LSP; the only code that speaks the wire format.

Names are imported on first use (PEP 562), so importing ``ren_lsp.astra.errors`` or building a
``MessageRequest`` does not pay for httpx: the language server starts before it needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ren_lsp.astra.client import AstraClient, MessageStream, RetryPolicy, Timeouts, collect
    from ren_lsp.astra.errors import AstraError
    from ren_lsp.astra.events import (
        Event,
        MessageStart,
        MessageStop,
        TextDelta,
        ToolUse,
        Usage,
    )
    from ren_lsp.astra.wire import Message, MessageRequest

_WHERE = {
    "AstraClient": "client", "MessageStream": "client", "RetryPolicy": "client",
    "Timeouts": "client", "collect": "client", "AstraError": "errors", "Event": "events",
    "MessageStart": "events", "MessageStop": "events", "TextDelta": "events",
    "ToolUse": "events", "Usage": "events", "Message": "wire", "MessageRequest": "wire",
}

__all__ = [
    "AstraClient", "AstraError", "Event", "Message", "MessageRequest", "MessageStart",
    "MessageStop", "MessageStream", "RetryPolicy", "TextDelta", "Timeouts", "ToolUse", "Usage",
    "collect",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"ren_lsp.astra.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ren_lsp.astra' has no attribute {name!r}")
