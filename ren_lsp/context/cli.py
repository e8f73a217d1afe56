"""`ren-lsp context`: the context a request would carry, for a look or for evaluation.

``--json`` prints one object, ``{"files": [{"path", "score", "reasons"}, ...], "tokens",
"context"}``, files best first, paths posix and relative to the workspace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ren_lsp.config import Settings


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


def run_context(args: argparse.Namespace, settings: Settings) -> int:
    """Index the workspace (reusing the cache), rank and render, print; 2 for bad arguments."""
    from ren_lsp.context import ContextEngine

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
    engine = ContextEngine([workspace], settings, use_cache=not args.no_cache)
    asyncio.run(engine.build())
    result = engine.query(question=args.query, current=current, selection=selection,
                          budget=args.budget)
    if args.json:
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(result.text)
        _say(f"{len(result.files)} files ranked, ~{result.tokens} tokens")
    return 0
