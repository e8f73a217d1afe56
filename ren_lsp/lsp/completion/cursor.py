"""The text around the cursor that one completion is about, and the small cache of answers."""

from __future__ import annotations

from collections import OrderedDict

import attrs

#: characters of text before / after the cursor a request carries at most, whatever the lines
MAX_PREFIX_CHARS = 12_000
MAX_SUFFIX_CHARS = 4_000


@attrs.frozen
class Cursor:
    """One place to complete: the document's text before and after the cursor (bounded, cut
    at line boundaries), and whether the completion there may be a block."""

    uri: str
    path: str
    language: str
    version: int | None
    prefix: str
    suffix: str
    block: bool


def window(text: str, offset: int, lines: int) -> tuple[str, str]:
    """The text before ``offset`` from the start of the line ``lines`` lines up, and after it
    to the end of the line ``lines // 2`` lines down; at most MAX_*_CHARS either way."""
    start = text.rfind("\n", 0, offset) + 1  # the cursor's line
    for _ in range(lines):
        if start == 0:
            break
        start = text.rfind("\n", 0, start - 1) + 1
    end = offset
    for _ in range(max(lines // 2, 1) + 1):
        found = text.find("\n", end)
        if found < 0:
            end = len(text)
            break
        end = found + 1
    prefix, suffix = text[start:offset], text[offset:end]
    if len(prefix) > MAX_PREFIX_CHARS:  # very long lines: keep the part nearest the cursor
        cut = prefix.find("\n", len(prefix) - MAX_PREFIX_CHARS)
        prefix = prefix[cut + 1:] if 0 <= cut < len(prefix) - 1 else prefix[-MAX_PREFIX_CHARS:]
    if len(suffix) > MAX_SUFFIX_CHARS:
        cut = suffix.rfind("\n", 0, MAX_SUFFIX_CHARS)
        suffix = suffix[:cut + 1] if cut > 0 else suffix[:MAX_SUFFIX_CHARS]
    return prefix, suffix


class AnswerCache:
    """Recent answers by place: the same text around the cursor asks the model nothing, and
    typing into a shown suggestion keeps showing the rest of it."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._answers: OrderedDict[tuple[str, str, str, bool], str] = OrderedDict()

    def get(self, cursor: Cursor) -> str | None:
        """The answer for this place, or what remains of one the user is typing into."""
        key = (cursor.uri, cursor.prefix, cursor.suffix, cursor.block)
        if key in self._answers:
            self._answers.move_to_end(key)
            return self._answers[key]
        for (uri, prefix, suffix, _), middle in reversed(self._answers.items()):
            if uri != cursor.uri or suffix != cursor.suffix or not middle:
                continue
            if len(cursor.prefix) > len(prefix) and cursor.prefix.startswith(prefix):
                typed = cursor.prefix[len(prefix):]
                if middle.startswith(typed) and len(middle) > len(typed):
                    return middle[len(typed):]
        return None

    def put(self, cursor: Cursor, middle: str) -> None:
        self._answers[(cursor.uri, cursor.prefix, cursor.suffix, cursor.block)] = middle
        self._answers.move_to_end((cursor.uri, cursor.prefix, cursor.suffix, cursor.block))
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)

    def forget(self, uri: str) -> None:
        for key in [k for k in self._answers if k[0] == uri]:
            del self._answers[key]
