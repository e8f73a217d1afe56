"""Framing of streamed replies: server-sent events and newline-delimited JSON, from raw bytes.

Written here rather than read through httpx-sse's line iterator because a stream is read a
network chunk at a time: one timeout and one parse pass per chunk, not per line, is what keeps
the client close to bare httpx (``bench/stream.py``). The SSE rules followed are the WHATWG
ones the wire formats use: lines end at CRLF, LF or CR; a blank line ends an event; ``:``
starts a comment; one space after a field's colon is dropped; ``data`` lines join with LF.
"""

from __future__ import annotations


class SSEFramer:
    """Bytes in, complete ``(event, data)`` pairs out; a partial event waits for more bytes."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        buffer = self._buffer + chunk
        # A CR at the very end may be the first half of a CRLF: keep it for the next chunk.
        held = b""
        if buffer.endswith(b"\r"):
            buffer, held = buffer[:-1], b"\r"
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *blocks, rest = buffer.split(b"\n\n")
        self._buffer = rest + held
        events = []
        for block in blocks:
            event = _parse_block(block)
            if event is not None:
                events.append(event)
        return events

    @property
    def pending(self) -> bool:
        """Whether bytes of an unfinished event are waiting."""
        return bool(self._buffer.strip())


def _parse_block(block: bytes) -> tuple[str, str] | None:
    name, data, has_data = "", [], False
    for raw in block.split(b"\n"):
        if not raw or raw.startswith(b":"):
            continue
        field, _, value = raw.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if field == b"data":
            data.append(value.decode("utf-8", "replace"))
            has_data = True
        elif field == b"event":
            name = value.decode("utf-8", "replace")
    if not has_data and not name:
        return None
    return name or "message", "\n".join(data)


class LineFramer:
    """Bytes in, complete non-blank lines out (NDJSON)."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[str]:
        *lines, self._buffer = (self._buffer + chunk).split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines if line.strip()]

    @property
    def pending(self) -> bool:
        return bool(self._buffer.strip())
