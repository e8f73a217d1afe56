"""The LSP base protocol on a byte stream: ``Content-Length`` frames in, with limits.

pygls's own reader waits forever on a header it cannot parse (the server stays alive but
deaf, so the editor never restarts it) and allocates whatever length a header claims (a
MemoryError). Here a stream that cannot be parsed any more raises ``FramingError`` with a
one-line reason, and the server ends on it (see ``stdio``): an editor restarts a server that
exits, never one that merely stops answering.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

#: The largest message accepted: 64 MiB. A real one is far smaller (didOpen of a large file
#: is a few MB), and reading a claimed length means holding that many bytes in memory.
MAX_CONTENT_LENGTH = 64 * 1024 * 1024
#: A header line longer than this is not a header (the stream lost its framing).
MAX_HEADER_LINE = 1024
#: Headers per message; LSP defines two (Content-Length, Content-Type).
MAX_HEADERS = 16

# RFC 7230 token: what a header name is made of. Body text read as a header (after a
# length that lied) has quotes or braces in it, so it fails here rather than being guessed at.
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class FramingError(Exception):
    """The stream cannot be parsed any more; the message is the one-line reason."""


def read_frames(stream: BinaryIO) -> Iterator[bytes]:
    """Each message body of ``stream`` in turn; returns at a clean end of the stream (between
    messages), raises ``FramingError`` where the stream stops making sense.

    Header lines may end in CRLF (the protocol) or a bare LF (what a hand-written client
    sends): either way the end of the header block is unambiguous, so both are read.
    """
    while True:
        length = _read_header(stream)
        if length is None:
            return
        body = stream.read(length)
        if len(body) != length:
            raise FramingError(f"the stream ended {len(body)} bytes into a message of "
                               f"{length} bytes (its Content-Length)")
        yield body


def _read_header(stream: BinaryIO) -> int | None:
    """The Content-Length of the next message; None at a clean end of the stream."""
    length: int | None = None
    lines = 0
    while True:
        line = stream.readline(MAX_HEADER_LINE + 1)
        if not line:
            if lines == 0:
                return None
            raise FramingError("the stream ended inside a message header")
        if not line.endswith(b"\n"):
            if len(line) > MAX_HEADER_LINE:
                raise FramingError(f"a header line longer than {MAX_HEADER_LINE} bytes "
                                   "(the stream is not LSP frames)")
            raise FramingError("the stream ended inside a message header")
        text = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        if not text:
            if lines == 0:
                continue  # a stray line break between messages: nothing is lost
            if length is None:
                raise FramingError("a message header without Content-Length")
            return length
        lines += 1
        if lines > MAX_HEADERS:
            raise FramingError(f"a message header of more than {MAX_HEADERS} lines")
        name, colon, value = text.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            # Its bytes are not shown: after a length that lied they are the user's text.
            raise FramingError(f"a malformed header line ({len(text)} bytes, not 'Name: value')")
        if name.lower() == b"content-length":
            length = _content_length(value.strip(b" \t"), length)


def _content_length(value: bytes, seen: int | None) -> int:
    if not value.isdigit() or not value.isascii():
        raise FramingError("a Content-Length that is not a number")
    # Digits first: a length of thousands of digits is not even converted.
    length = int(value) if len(value) <= 20 else MAX_CONTENT_LENGTH + 1
    if length > MAX_CONTENT_LENGTH:
        size = f"{length} bytes" if len(value) <= 20 else f"a {len(value)}-digit length"
        raise FramingError(f"a message of {size}, over the limit of {MAX_CONTENT_LENGTH} bytes")
    if length == 0:
        raise FramingError("a message of 0 bytes (Content-Length: 0)")
    if seen is not None and seen != length:
        raise FramingError("two different Content-Length headers in one message")
    return length
