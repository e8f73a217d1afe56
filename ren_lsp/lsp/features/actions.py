"""textDocument/codeAction: the Astra actions on offer here. Local and quick: no network.

Each action carries its `command`, so no `codeAction/resolve` round trip is needed (Helix runs
the unresolved action's command, and a slow resolve would freeze its UI).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ren_lsp.lsp.documents import converter, line_range
from ren_lsp.text import split_lines

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server

EXPLAIN = "refactor.ren.explain"
REFACTOR = "refactor.rewrite.ren"
FIX = "quickfix.ren"
GENERATE = "refactor.rewrite.ren.generate"
COMPLETE = "refactor.rewrite.ren.complete"
KINDS = [FIX, REFACTOR, GENERATE, COMPLETE, EXPLAIN]

#: a comment line: #, //, --, /*, *, ;, % (Python, C family, Lua/SQL, Lisp, TeX…); the marker
#: is followed by a blank, so `#include`, `#!`, `*ptr = 1;` and `--flag` are not comments.
_COMMENT = re.compile(
    r"^\s*(?:#+|//+|--+|/\*+|\*+|;+|%+)(?=\s|$)\s*(?P<text>.*?)\s*(?:\*+/)?\s*$")
_TODO = re.compile(r"^(?:TODO|FIXME)\b[:\s]*(?P<text>.*)", re.IGNORECASE)


def _range_dict(r: types.Range) -> dict[str, Any]:
    """A range as a command argument carries it (JSON, as the editor sends it back)."""
    unstructured: dict[str, Any] = converter().unstructure(r)
    return unstructured


def block_around(lines: Sequence[str], line: int) -> types.Range:
    """The paragraph (non-blank lines) around a cursor line, for Explain with no selection."""
    if line >= len(lines) or not lines[line].strip():
        line = min(line, len(lines))
        end = min(line + 1, len(lines))
        return types.Range(start=types.Position(line=line, character=0),
                           end=types.Position(line=end, character=0))
    first = line
    while first > 0 and lines[first - 1].strip():
        first -= 1
    last = line
    while last + 1 < len(lines) and lines[last + 1].strip():
        last += 1
    return types.Range(start=types.Position(line=first, character=0),
                       end=types.Position(line=last + 1, character=0))


def generation_request(line: str) -> str | None:
    """The instruction in a comment line that asks for code ("TODO: parse the header")."""
    comment = _COMMENT.match(line)
    if not comment:
        return None
    text = comment["text"].strip()
    todo = _TODO.match(text)
    if todo:
        text = todo["text"].strip()
    # A comment's closing line (` */`) or a rule of dashes asks for nothing.
    return text if any(c.isalpha() for c in text) else None


def _action(title: str, kind: str, command: str, arg: dict[str, Any],
            diagnostics: list[types.Diagnostic] | None = None) -> types.CodeAction:
    return types.CodeAction(title=title, kind=kind, diagnostics=diagnostics,
                            command=types.Command(title=title, command=command, arguments=[arg]))


def code_actions(ls: Server, params: types.CodeActionParams) -> list[types.CodeAction]:
    """textDocument/codeAction: the actions on offer for the range (no network)."""
    uri, rng = params.text_document.uri, params.range
    doc = ls.workspace.get_text_document(uri)
    try:
        lines = split_lines(doc.source)
    except OSError:
        return []
    empty = rng.start == rng.end
    actions = []
    explain_range = block_around(lines, rng.start.line) if empty else rng
    if any(line.strip() for line in lines[explain_range.start.line:explain_range.end.line + 1]):
        actions.append(_action("Astra: Explain", EXPLAIN, "ren.explain",
                               {"uri": uri, "range": _range_dict(explain_range)}))
    if not empty:
        actions.append(_action("Astra: Refactor", REFACTOR, "ren.refactor",
                               {"uri": uri, "range": _range_dict(rng)}))
    if params.context.diagnostics:
        fix_range = rng if not empty else block_around(lines, rng.start.line)
        unstructure = converter().unstructure
        actions.insert(0, _action(
            "Astra: Fix", FIX, "ren.fix",
            {"uri": uri, "range": _range_dict(fix_range),
             "diagnostics": [unstructure(d) for d in params.context.diagnostics]},
            diagnostics=list(params.context.diagnostics)))
    if rng.start.line < len(lines):
        instruction = generation_request(lines[rng.start.line])
        if instruction:
            line = rng.start.line
            actions.append(_action(
                "Astra: Generate from this comment", GENERATE, "ren.generate",
                {"uri": uri, "instruction": instruction,
                 "range": _range_dict(line_range(line, line))}))
    text_caps = ls.client_capabilities.text_document
    if empty and rng.start.line < len(lines) and (
            text_caps is None or text_caps.inline_completion is None):
        # Editors without inline completion (Helix) get it as an action: one edit.
        actions.append(_action("Astra: Complete here", COMPLETE, "ren.complete",
                               {"uri": uri, "position": {"line": rng.start.line,
                                                         "character": rng.start.character}}))
    only = params.context.only
    if only:
        actions = [a for a in actions if any(str(a.kind).startswith(str(k)) for k in only)]
    return actions


def register(server: Server) -> None:
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                   types.CodeActionOptions(code_action_kinds=KINDS))(code_actions)
