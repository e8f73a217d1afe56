"""Checking a command's argument and finding the text it points at."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from ren_lsp.edits import offset_at, split_lines

if TYPE_CHECKING:
    from collections.abc import Callable

    from pygls.workspace import TextDocument

    from ren_lsp.models import Request
    from ren_lsp.server import RenLanguageServer
    from ren_lsp.sessions import RequestMaker, Session, Sink

SCHEMA = "commands.schema.json"
#: lines of code around a selection that go with it, so Astra sees where it sits
SURROUNDING_LINES = 30
#: characters of a selection (or file) one request may carry (about 50,000 tokens)
MAX_TEXT = 200_000


def invalid(message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(message=message)


def check_argument(command: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """The command's one argument object, checked against `schemas/commands.schema.json`."""
    from jsonschema.exceptions import best_match  # on first use: jsonschema is slow to import

    from ren_lsp import jsonschemas

    schema = jsonschemas.load(SCHEMA)["commands"][command]
    fields = ", ".join(f"{k}{'' if k in schema.get('required', []) else '?'}"
                       for k in schema["properties"])
    if len(args) == 0 and not schema.get("required"):
        return {}
    if len(args) != 1 or not isinstance(args[0], dict):
        raise invalid(f"{command} takes one argument, an object {{{fields}}}; got "
                      f"{len(args)} argument(s)")
    error = best_match(jsonschemas.validator(SCHEMA, f"commands/{command}").iter_errors(args[0]))
    if error is not None:
        path = ".".join(str(p) for p in error.absolute_path)
        raise invalid(f"{command}: {path + ': ' if path else ''}{error.message} "
                      f"(the argument is {{{fields}}})")
    return args[0]


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


def display_path(ls: RenLanguageServer, uri: str) -> str:
    """The document's path relative to the workspace root where it is inside it."""
    parts = urlsplit(uri)
    path = unquote(parts.path) if parts.scheme == "file" else uri
    root = ls.workspace.root_path
    if root and path.startswith(root.rstrip("/") + "/"):
        return path[len(root.rstrip("/")) + 1:]
    return path


def document(ls: RenLanguageServer, uri: str) -> TextDocument:
    """The open document, or the file on disk; InvalidParams naming the uri otherwise."""
    doc = ls.workspace.get_text_document(uri)
    try:
        doc.source  # noqa: B018 - reads the file when the document is not open
    except (OSError, ValueError) as exc:
        raise invalid(f"uri: {uri} is not an open document nor a readable file "
                      f"({type(exc).__name__})") from None
    return doc


def to_range(value: dict[str, Any]) -> types.Range:
    return types.Range(
        start=types.Position(line=value["start"]["line"], character=value["start"]["character"]),
        end=types.Position(line=value["end"]["line"], character=value["end"]["character"]))


def target(ls: RenLanguageServer, uri: str, raw_range: dict[str, Any]) -> Target:
    """The text a command works on; InvalidParams if the range is not in the document."""
    doc = document(ls, uri)
    rng = to_range(raw_range)
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


def current_text(ls: RenLanguageServer, uri: str, start: tuple[int, int],
                 end: tuple[int, int]) -> str:
    """The document's text between two positions, now."""
    source = ls.workspace.get_text_document(uri).source
    a = offset_at(source, start[0], start[1], ls.encoding)
    b = offset_at(source, end[0], end[1], ls.encoding)
    return source[a:b]


@attrs.frozen
class Context:
    """What the repository adds to a request: the rendered text and the files it came from."""

    text: str = ""
    files: tuple[str, ...] = ()

    def note(self) -> str:
        """A line for an output document, so the user sees what left their machine."""
        if not self.files:
            return ""
        shown = ", ".join(f"`{f}`" for f in self.files[:12])
        more = f" and {len(self.files) - 12} more" if len(self.files) > 12 else ""
        return f"> Context sent to Astra: {shown}{more}\n\n"


async def context_for(ls: RenLanguageServer, *, question: str = "", uri: str | None = None,
                      selection: str = "") -> Context:
    """The repository context for a request (from what is indexed so far)."""
    result = await ls.indexing.query(question=question, uri=uri, selection=selection)
    if result is None or not result.text.strip():
        return Context()
    return Context(result.text, tuple(f.path for f in result.files))


def with_context(ls: RenLanguageServer, sink: Sink, build: Callable[[str], Request], *,
                 question: str = "", uri: str | None = None,
                 selection: str = "") -> RequestMaker:
    """A request made inside the session, once the repository context is chosen: the command
    answers the editor first, and the user sees (and the history keeps) what was sent."""

    async def make(session: Session) -> Request:
        context = await context_for(ls, question=question, uri=uri, selection=selection)
        session.history["context_files"] = list(context.files)
        if context.files:
            sink.note(context.note())
        return build(context.text)

    return make
