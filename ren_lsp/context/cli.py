"""`ren-lsp context`: the context a request would carry, for a look or for evaluation.

``--json`` prints one object, ``{"files": [{"path", "score", "reasons"}, ...], "tokens",
"context"}``, files best first, paths posix and relative to the workspace.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ren_lsp.text import plural

if TYPE_CHECKING:
    from ren_lsp.config import Settings
    from ren_lsp.context import ContextResult


def _say(message: str) -> None:
    sys.stderr.write(f"ren-lsp: {message}\n")


def _usage(message: str) -> int:
    _say(message)
    return 2


def _selection(file: Path, lines: str) -> str:
    from ren_lsp.text import parse_lines  # `ren-lsp ask --lines` takes the same A-B

    text = file.read_text(encoding="utf-8", errors="replace").splitlines()
    first, last = parse_lines(lines, len(text))
    return "\n".join(text[first - 1:last])


class _Progress:
    """"indexing 1200/50000 files" on a terminal's stderr, rewritten in place a few times a
    second, and wiped at the end (nothing when stderr is a file or a pipe)."""

    def __init__(self) -> None:
        self._shown = 0.0
        # Listing a large tree takes a while before the first count: say so at once.
        sys.stderr.write("ren-lsp: listing the workspace's files…")
        sys.stderr.flush()

    def __call__(self, indexed: int, total: int) -> None:
        now = time.monotonic()
        if now - self._shown >= 0.1 or indexed == total:
            self._shown = now
            sys.stderr.write(f"\r\033[Kren-lsp: indexing {indexed}/{plural(total, 'file')}")
            sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def context_for(workspace: Path, question: str, settings: Settings | None = None, *,
                current: Path | None = None, selection: str = "", budget: int | None = None,
                use_cache: bool = True, progress: bool = False) -> ContextResult:
    """The context one request carries, from a command line: index ``workspace`` (reusing the
    cache), then rank and render exactly as the language server does. ``progress``: show the
    indexing's progress on stderr (for a terminal).

    For ``ren-lsp context`` and ``ren-lsp ask``, so that both show what an editor request sends.
    """
    from ren_lsp.context import ContextEngine

    engine = ContextEngine([workspace], settings, use_cache=use_cache)
    shown = _Progress() if progress else None
    try:
        engine.build_sync(shown)
    finally:
        if shown is not None:
            shown.done()
    result = engine.query(question=question, current=current, selection=selection,
                          budget=budget)
    if engine.index.changed_since_saved:  # files parsed for this request: the next one reuses
        engine.index.save_cache()
    return result


def run_context(args: argparse.Namespace, settings: Settings) -> int:
    """Index the workspace (reusing the cache), rank and render, print; 2 for bad arguments."""
    workspace = (args.workspace or Path.cwd()).resolve()
    if not workspace.is_dir():
        return _usage(f"--workspace {workspace} is not a folder")
    current = None
    if args.file is not None:
        # as typed in a shell: relative to the current directory, else to the workspace
        current = args.file if args.file.is_absolute() or args.file.exists() else (
            workspace / args.file)
        current = current.resolve()
        if not current.is_file():
            return _usage(f"--file {args.file} is not a file")
    selection = ""
    if args.lines:
        if current is None:
            return _usage("--lines needs --file")
        try:
            selection = _selection(current, args.lines)
        except ValueError as exc:
            return _usage(str(exc).removeprefix("ren-lsp: "))
    if args.budget is not None and args.budget < 1:
        return _usage("--budget must be at least 1")
    result = context_for(workspace, args.query, settings, current=current, selection=selection,
                         budget=args.budget, use_cache=not args.no_cache,
                         progress=sys.stderr.isatty())
    if args.json:
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(result.text)
        _say(f"{plural(len(result.files), 'file')} ranked, ~{plural(result.tokens, 'token')}")
    return 0
