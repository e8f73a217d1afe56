"""The Ren API client. Knows nothing of LSP; the only code that speaks the wire format."""

from ren_lsp.astra.client import AstraClient, MessageStream, RetryPolicy, Timeouts, collect
from ren_lsp.astra.errors import AstraError
from ren_lsp.astra.events import Event, MessageStart, MessageStop, TextDelta, ToolUse, Usage
from ren_lsp.astra.wire import Message, MessageRequest

__all__ = [
    "AstraClient",
    "AstraError",
    "Event",
    "Message",
    "MessageRequest",
    "MessageStart",
    "MessageStop",
    "MessageStream",
    "RetryPolicy",
    "TextDelta",
    "Timeouts",
    "ToolUse",
    "Usage",
    "collect",
]
