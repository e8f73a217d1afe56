"""Scripted multi-turn tool-use conversations: which reply a request gets from a script.

A conversation is a persistent list of `Step`s (set by `Emulator.converse`, kept until
`reset`). Unlike a `Fault`, nothing is consumed: the reply is chosen from the request alone, so
the same request always gets the same reply and a client may retry freely. The step played is
the one whose index is the number of assistant turns already in the request; past the last
step, the last step's text (or, when the last step is a tool call, the plain canned reply).

Everything here works on the internal (Anthropic-shaped) body, so every dialect shares it once
its request has been converted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import attrs

from ren_lsp.emulator.replies import comment_prefix

__all__ = ["Played", "Step", "last_tool_result", "parse_steps", "play"]

_PLACEHOLDER = re.compile(r"\{last_(result|error)\}")


def _opt_step(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Step):
        raise TypeError(f"unless_error must be a step, got {value!r}")


@attrs.frozen(kw_only=True)
class Step:
    """One scripted turn: a tool call with exactly `input`, or a final `text`.

    `unless_error` (only with a tool call) is the step played instead when the request's last
    tool result was an error. A text may contain `{last_result}` (the text of the request's last
    tool result) and `{last_error}` (`yes` or `no`: whether that result was an error).
    """

    tool: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(str))
    )
    input: dict[str, Any] = attrs.field(factory=dict, validator=attrs.validators.instance_of(dict))
    text: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(str))
    )
    unless_error: Step | None = attrs.field(default=None, validator=_opt_step)

    def __attrs_post_init__(self) -> None:
        if (self.tool is None) == (self.text is None):
            raise ValueError("a step has exactly one of 'tool' (with 'input') or 'text'")
        if self.text is not None and (self.input or self.unless_error is not None):
            raise ValueError("a text step takes no 'input' or 'unless_error'")
        if self.tool is not None and not self.tool:
            raise ValueError("'tool' must name a tool")

    @classmethod
    def from_dict(cls, data: Any) -> Step:
        """A step from its JSON form (`{"tool", "input", "unless_error"?}` or `{"text"}`).

        Raises TypeError/ValueError naming what is wrong, so a bad script is refused up front.
        """
        if isinstance(data, Step):
            return data
        if not isinstance(data, dict):
            raise TypeError(f"a step must be a JSON object, got {data!r}")
        unknown = set(data) - {"tool", "input", "text", "unless_error", "unlessError"}
        if unknown:
            raise ValueError(
                f"unknown step field(s) {sorted(unknown)}; known: tool, input, text, unless_error"
            )
        alternative = data.get("unless_error", data.get("unlessError"))
        return cls(
            tool=data.get("tool"),
            input=data.get("input", {}),
            text=data.get("text"),
            unless_error=None if alternative is None else cls.from_dict(alternative),
        )

    def to_dict(self) -> dict[str, Any]:
        """The step's JSON form (what `from_dict` reads)."""
        if self.text is not None:
            return {"text": self.text}
        data: dict[str, Any] = {"tool": self.tool, "input": self.input}
        if self.unless_error is not None:
            data["unless_error"] = self.unless_error.to_dict()
        return data


def parse_steps(items: Any) -> list[Step]:
    """A conversation from a JSON list of steps; the error names the step that is wrong."""
    if not isinstance(items, list):
        raise TypeError(f"a conversation must be a JSON list of steps, got {items!r}")
    steps = []
    for index, item in enumerate(items):
        try:
            steps.append(Step.from_dict(item))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"step {index}: {exc}") from None
    return steps


@attrs.frozen
class Played:
    """What a conversation answers: a text, or a call of `tool` with `input`."""

    text: str | None = None
    tool: str | None = None
    input: dict[str, Any] = attrs.field(factory=dict)


def last_tool_result(body: dict[str, Any]) -> tuple[str, bool] | None:
    """The text of the request's last tool result and whether it was an error, or None."""
    for message in reversed(body.get("messages") or []):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in reversed(content):
            if isinstance(block, dict) and block.get("type") == "tool_result":
                return _result_text(block.get("content", "")), block.get("is_error") is True
    return None


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = [b.get("text", "") for b in content if isinstance(b, dict)] if content else []
    return "\n".join(str(p) for p in parts)


def _assistant_turns(body: dict[str, Any]) -> int:
    return sum(
        1
        for m in body.get("messages") or []
        if isinstance(m, dict) and m.get("role") == "assistant"
    )


def play(steps: Sequence[Step], body: dict[str, Any]) -> Played | None:
    """The reply the conversation gives to `body`; None for a plain canned reply."""
    if not steps:
        return None
    index = _assistant_turns(body)
    result = last_tool_result(body)
    result_text, was_error = result if result is not None else ("", False)
    if index >= len(steps):
        last = steps[-1]
        if last.text is None:
            return None
        step = last
    else:
        step = steps[index]
    while step.unless_error is not None and was_error:
        step = step.unless_error
    if step.text is not None:
        # One pass, so a tool result that itself contains "{last_error}" is left as it is.
        fields = {"result": result_text, "error": "yes" if was_error else "no"}
        return Played(text=_PLACEHOLDER.sub(lambda m: fields[m.group(1)], step.text))
    offered = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
    if step.tool not in offered:
        listed = ", ".join(f"`{name}`" for name in offered) if offered else "none"
        return Played(
            text=(
                f"Ren emulator conversation, step {index}: the script calls the tool "
                f"`{step.tool}`, but the request did not offer it (tools offered: {listed})."
            )
        )
    return Played(tool=step.tool, input=dict(step.input))


_TASK_PATH = re.compile(r"(?<![\w/.-])([\w][\w./-]*\.[A-Za-z]{1,5})\b")
DEFAULT_EDIT_NOTE = "edited by the Ren emulator (canned, not AI)"


def default_agent(body: dict[str, Any]) -> Played | None:
    """Without a scripted conversation, a request of ren-lsp's agent (a first turn that starts
    with "Task:", with `read_file` and `edit_file` offered) gets a plausible agent: it reads the
    file the task names, marks its first line (unique in the file) with a comment, and finishes.
    None for every other request (a plain canned reply)."""
    offered = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
    messages = body.get("messages") or []
    first = messages[0].get("content") if messages and isinstance(messages[0], dict) else None
    task = first if isinstance(first, str) else _result_text(first or [])
    if not {"read_file", "edit_file"} <= offered or not task.startswith("Task:"):
        return None
    found = _TASK_PATH.search(task.splitlines()[0])
    if found is None:
        return Played(text="Ren emulator (canned, not AI): the task names no file, so I changed "
                      "nothing.")
    path = found.group(1)
    index = _assistant_turns(body)
    result = last_tool_result(body)
    if index == 0:
        return Played(tool="read_file", input={"path": path})
    if index == 1 and result is not None and not result[1]:
        lines = [line for line in result[0].splitlines() if line.strip()]
        line = next((x for x in lines if result[0].count(x) == 1), None)
        if line is not None:
            marker = comment_prefix(path.rsplit(".", 1)[-1])
            edited = f"{line}  {marker} {DEFAULT_EDIT_NOTE}"
            return Played(tool="edit_file",
                          input={"path": path, "old_text": line, "new_text": edited})
    outcome = "edited it" if result is not None and not result[1] else \
        f"could not edit it ({result[0][:200] if result else 'nothing read'})"
    return Played(text=f"Ren emulator (canned, not AI): I read `{path}` and {outcome}.")
