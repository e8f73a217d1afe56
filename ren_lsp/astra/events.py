"""Typed events of one streamed reply, as the client yields them (independent of the wire)."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class MessageStart:
    id: str
    model: str
    input_tokens: int = 0


@attrs.frozen
class TextDelta:
    index: int
    text: str


@attrs.frozen
class ToolUse:
    """A complete tool_use block: its JSON input joined and parsed at content_block_stop."""

    index: int
    id: str
    name: str
    input: dict[str, Any]


@attrs.frozen
class Usage:
    input_tokens: int
    output_tokens: int


@attrs.frozen
class MessageStop:
    """The reply is complete. ``stop_reason``: end_turn, max_tokens, stop_sequence or tool_use."""

    stop_reason: str | None
    stop_sequence: str | None = None


Event = MessageStart | TextDelta | ToolUse | Usage | MessageStop
