"""Documents a command points at: a URI's file, its path in the workspace, a checked range."""

from __future__ import annotations

import functools
from pathlib import Path, PurePath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from ren_lsp.text import offset_at, split_lines

if TYPE_CHECKING:
    import cattrs
    from pygls.workspace import TextDocument

    from ren_lsp.lsp.protocol import Server

#: lines of code around a selection that go with it, so Astra sees where it sits
SURROUNDING_LINES = 30
#: characters of a selection (or file) one request may carry (about 50,000 tokens)
MAX_TEXT = 200_000


@functools.cache
def converter() -> cattrs.Converter:
    """lsprotocol's converter (camelCase aware), built once: ``get_converter()`` builds a new
    one on each call, registering hooks for every LSP type (6 ms, and hundreds of reference
    cycles for the garbage collector) — once per codeAction was most of its latency."""
    from lsprotocol import converters

    return converters.get_converter()


def invalid(message: str) -> JsonRpcInvalidParams:
    """The error a command answers for a bad argument (InvalidParams, naming the field)."""
    return JsonRpcInvalidParams(message=message)


def uri_path(uri: str) -> Path | None:
    """The file a ``file:`` URI names (None for other schemes)."""
    parts = urlsplit(uri)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


def display_path(ls: Server, uri: str) -> str:
    """The document's path relative to the workspace root where it is inside it."""
    path = uri_path(uri)
    shown = str(path) if path is not None else uri
    root = ls.workspace.root_path
    if root and shown.startswith(root.rstrip("/") + "/"):
        return shown[len(root.rstrip("/")) + 1:]
    return shown


def secret_file(ls: Server, uri: str) -> str | None:
    """The name a document is shown by when it looks like a file of secrets (``.env``, a key,
    credentials: the context engine's rules and the ``secretFiles`` setting), else None."""
    from ren_lsp.context import is_secret_file

    path = uri_path(uri)
    if path is None:
        return None
    shown, extra = display_path(ls, uri), ls.settings.secret_files
    return shown if is_secret_file(shown, extra) or is_secret_file(path.name, extra) else None


def document(ls: Server, uri: str) -> TextDocument:
    """The open document, or the file on disk, to send a part of; InvalidParams naming the uri
    when it is neither, or when it looks like a file of secrets (never sent)."""
    shown = secret_file(ls, uri)
    if shown is not None:
        name = PurePath(shown).name
        raise invalid(f"uri: {shown} looks like a file of secrets (.env, keys, credentials), "
                      "so none of its text is sent to Astra. If it holds no secrets, add "
                      f"\"!{name}\" to the secretFiles setting.")
    doc = ls.workspace.get_text_document(uri)
    try:
        doc.source  # noqa: B018 - reads the file when the document is not open
    except (OSError, ValueError) as exc:
        raise invalid(f"uri: {uri} is not an open document nor a readable file "
                      f"({type(exc).__name__})") from None
    return doc


@attrs.frozen
class Target:
    """A checked document range: its text, where it is, and the code around it."""

    uri: str
    path: str
    version: int | None
    range: types.Range
    text: str
    first_line: int  # 1-based, for prompts
    surrounding: str


def target(ls: Server, uri: str, rng: types.Range) -> Target:
    """The text a command works on; InvalidParams if the range is not in the document."""
    doc = document(ls, uri)
    source = doc.source
    lines = split_lines(source)
    count = len(lines)
    for name, pos in (("start", rng.start), ("end", rng.end)):
        # The position just after a final newline is line `count`, character 0.
        if pos.line > count or (pos.line == count and pos.character > 0):
            raise invalid(f"range.{name}: line {pos.line} is outside the document "
                          f"({count} lines, numbered from 0)")
    if (rng.end.line, rng.end.character) < (rng.start.line, rng.start.character):
        raise invalid("range: end comes before start")
    start = offset_at(source, rng.start.line, rng.start.character, ls.encoding)
    end = offset_at(source, rng.end.line, rng.end.character, ls.encoding)
    first = max(0, rng.start.line - SURROUNDING_LINES)
    last = min(count, rng.end.line + SURROUNDING_LINES + 1)
    if end - start > MAX_TEXT:
        raise invalid(f"range: the selection is too large ({(end - start) // 1000} KB; at most "
                      f"{MAX_TEXT // 1000} KB): select a smaller part")
    return Target(uri=uri, path=display_path(ls, uri), version=doc.version, range=rng,
                  text=source[start:end], first_line=rng.start.line + 1,
                  surrounding="".join(lines[first:last]))


def line_range(first: int, last: int) -> types.Range:
    """Whole lines ``first`` to ``last`` (0-based, inclusive)."""
    return types.Range(start=types.Position(line=first, character=0),
                       end=types.Position(line=last + 1, character=0))
