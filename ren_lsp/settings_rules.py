"""How each setting is checked: a rule names what it expects (for the user) and parses a value,
from a file or an editor (JSON types) or from the environment (a string to convert first)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

import attrs


@attrs.frozen
class Rule:
    """How one setting is checked: what the user is told it expects, and the parser.

    ``parse(value, from_env)`` returns the typed value or raises TypeError/ValueError; with
    ``from_env`` the value is a string to convert first.
    """

    expected: str
    parse: Callable[[Any, bool], Any]


def integer(low: int, high: int | None = None) -> Rule:
    def parse(value: Any, from_env: bool) -> int:
        if from_env:
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON Schema counts 4096.0 as an integer, so do we
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(value)
        if value < low or (high is not None and value > high):
            raise ValueError(value)
        return value

    expected = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"
    return Rule(expected, parse)


def number(low: float, high: float, *, above: bool = False) -> Rule:
    """A finite number in [low, high], or in (low, high] when ``above``."""

    def parse(value: Any, from_env: bool) -> float:
        if from_env:
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(value)
        value = float(value)  # raises OverflowError for an int beyond float range
        if not math.isfinite(value) or value > high or value < low or (above and value == low):
            raise ValueError(value)
        return value

    bound = f"> {low:g} and <= {high:g}" if above else f"from {low:g} to {high:g}"
    return Rule(f"a number {bound}", parse)


#: What a URL setting must look like; ``schemas/settings.schema.json`` uses the same pattern.
URL_PATTERN = r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(:[0-9]{1,5})?([/?#]\S*)?$"


def text(value: Any, from_env: bool) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value.strip()


def url(value: Any, from_env: bool) -> str:
    found = text(value, from_env)
    if not re.fullmatch(URL_PATTERN, found):
        raise ValueError(found)
    return found.rstrip("/")


def boolean(value: Any, from_env: bool) -> bool:
    if from_env:
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(value)
    if not isinstance(value, bool):
        raise TypeError(value)
    return value


def regex(pattern: str) -> None:
    try:
        compiled = re.compile(pattern)
    except (re.error, RecursionError) as exc:
        raise ValueError(pattern) from exc
    if compiled.match(""):
        raise ValueError(pattern)  # would redact everything


def string_list(check: Callable[[str], None] | None = None, what: str = "strings") -> Rule:
    """A list of non-blank strings; in the environment, a JSON array or a single string."""

    def parse(value: Any, from_env: bool) -> tuple[str, ...]:
        if from_env:
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [text]
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
            raise TypeError(value)
        items = []
        for item in value:
            if not isinstance(item, str):
                raise TypeError(item)
            item = item.strip()
            if not item:
                raise ValueError(item)
            if check is not None:
                check(item)
            items.append(item)
        return tuple(items)

    return Rule(f"a list of {what}", parse)





def one_of(names: Iterable[str]) -> Rule:
    """One of ``names`` (any case)."""
    allowed = tuple(names)

    def parse(value: Any, from_env: bool) -> str:
        name = text(value, from_env).lower()
        if name not in allowed:
            raise ValueError(name)
        return name

    return Rule(f"one of {', '.join(allowed)}", parse)
