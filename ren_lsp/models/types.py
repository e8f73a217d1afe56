"""The neutral model interface's data: a request of turns, and the events of a reply.

Nothing here knows a wire format. A backend module turns a ``Request`` into its own body and
its own stream back into these events; features only ever see these types.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs


@attrs.frozen
class Text:
    """Text in a turn."""

    text: str


@attrs.frozen
class ToolCall:
    """The model asks for a tool: a content block of an assistant turn, and a stream event
    (complete: its input is joined and parsed before it is yielded)."""

    id: str
    name: str
    input: dict[str, Any]


@attrs.frozen
class ToolResult:
    """What a tool gave back, in a user turn; ``name`` is the tool's (some wires need it)."""

    tool_call_id: str
    content: str
    is_error: bool = False
    name: str = ""


Block = Text | ToolCall | ToolResult
Role = Literal["user", "assistant"]


@attrs.frozen
class Turn:
    """One turn of the conversation: the user's (text, tool results) or the model's."""

    role: Role
    content: tuple[Block, ...]

    @classmethod
    def user(cls, *content: str | Block) -> Turn:
        return cls("user", tuple(Text(c) if isinstance(c, str) else c for c in content))

    @classmethod
    def assistant(cls, *content: str | Block) -> Turn:
        return cls("assistant", tuple(Text(c) if isinstance(c, str) else c for c in content))

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.content if isinstance(b, Text))

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [b for b in self.content if isinstance(b, ToolCall)]

    @property
    def tool_results(self) -> list[ToolResult]:
        return [b for b in self.content if isinstance(b, ToolResult)]


@attrs.frozen
class Tool:
    """A tool the model may call; ``input_schema`` is a JSON Schema object."""

    name: str
    description: str
    input_schema: dict[str, Any]


@attrs.define(kw_only=True)
class Request:
    """What a feature asks a model. The client fills in the model and its defaults."""

    turns: list[Turn]
    system: str | None = None
    tools: list[Tool] = attrs.Factory(list)
    max_tokens: int | None = None
    temperature: float | None = None
    stop_sequences: list[str] = attrs.Factory(list)

    @classmethod
    def ask(cls, text: str, *, system: str | None = None, **kw: Any) -> Request:
        """One user turn: the common case."""
        return cls(turns=[Turn.user(text)], system=system, **kw)

    def then(self, *turns: Turn) -> Request:
        """The same request with more turns (the next step of a conversation)."""
        return attrs.evolve(self, turns=[*self.turns, *turns])

    def text_chars(self) -> int:
        """Characters of text the request carries (for a rough token estimate)."""
        total = len(self.system or "")
        for turn in self.turns:
            for block in turn.content:
                total += len(block.text if isinstance(block, Text) else
                             block.content if isinstance(block, ToolResult) else
                             str(block.input))
        return total

    def transcript(self) -> dict[str, Any]:
        """The request as the history keeps it (a plain, wire-neutral shape)."""
        messages: list[dict[str, Any]] = []
        for turn in self.turns:
            if all(isinstance(b, Text) for b in turn.content):
                messages.append({"role": turn.role, "content": turn.text})
            else:
                messages.append({"role": turn.role,
                                 "content": [_block_dict(b) for b in turn.content]})
        out: dict[str, Any] = {"system": self.system, "messages": messages}
        if self.tools:
            out["tools"] = [t.name for t in self.tools]
        return out


def _block_dict(block: Block) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": block.text}
    if isinstance(block, ToolCall):
        return {"type": "tool_call", "id": block.id, "name": block.name, "input": block.input}
    return {"type": "tool_result", "tool_call_id": block.tool_call_id,
            "content": block.content, "is_error": block.is_error}


# -- the events of one streamed reply -----------------------------------------------------------


@attrs.frozen
class Start:
    """The reply began (``model``: the model that answers, as the server names it)."""

    id: str
    model: str
    input_tokens: int = 0


@attrs.frozen
class TextDelta:
    text: str


@attrs.frozen
class Usage:
    input_tokens: int
    output_tokens: int


StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use"]


@attrs.frozen
class Stop:
    """The reply is complete; ``reason`` normalised across backends (None: not said)."""

    reason: str | None


Event = Start | TextDelta | ToolCall | Usage | Stop


@attrs.define(kw_only=True)
class Reply:
    """A complete reply (or, after an error, what arrived of it)."""

    id: str = ""
    model: str = ""
    text: str = ""
    tool_calls: list[ToolCall] = attrs.Factory(list)
    stop_reason: str | None = None
    usage: Usage = Usage(0, 0)

    def turn(self) -> Turn:
        """The reply as the assistant turn of the next request."""
        content: list[Block] = [Text(self.text)] if self.text else []
        return Turn("assistant", (*content, *self.tool_calls))
