"""`ren-lsp architecture [PATH] [--json]`: the analysis ``ren.analyzeArchitecture`` runs, in the
terminal. The report (Markdown) goes to stdout, or with ``--json`` one object
(``Analysis.to_json``); a summary line goes to stderr."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    """Add the ``architecture`` subcommand to the ``ren-lsp`` parser."""
    parser = subparsers.add_parser(
        "architecture", help="analyse a folder's architecture (imports, cycles, dependencies)",
        description="Analyse a folder's source files locally: the import graph by each "
        "language's rules, import cycles and how to break them, third-party and standard "
        "library dependencies checked against the manifests, entry points. Prints the report "
        "ren.analyzeArchitecture shows, or with --json the full analysis.")
    parser.add_argument("path", nargs="?", type=Path, default=None, metavar="PATH",
                        help="the folder to analyse (default: the current directory)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object: root, language_of, modules, edges, cycles, "
                        "externals, declared_unused, entry_points (paths relative to root)")
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write the index cache")


def run(args: argparse.Namespace) -> int:
    """Index the folder, analyse it, print; 2 when the folder is not one or has no code."""
    from ren_lsp.architecture import analyze_index
    from ren_lsp.architecture.report import render
    from ren_lsp.config import load_settings
    from ren_lsp.context import ContextEngine

    folder = (args.path or Path.cwd()).expanduser()
    if not folder.is_dir():
        sys.stderr.write(f"ren-lsp: {folder} is not a folder: give the folder to analyse\n")
        return 2
    folder = folder.resolve()
    engine = ContextEngine([folder], load_settings().settings, use_cache=not args.no_cache)
    engine.build_sync()
    analysis = analyze_index(engine.index)
    if analysis is None:
        sys.stderr.write(f"ren-lsp: no source files to analyse in {folder} (ignored, "
                         "excluded and secret files are never read)\n")
        return 2
    if args.json:
        sys.stdout.write(json.dumps(analysis.to_json(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render(analysis, title=f"Architecture of {folder.name or folder}"))
    sys.stderr.write(f"ren-lsp: {len(analysis.files)} files, {len(analysis.edges)} imports, "
                     f"{len(analysis.cycles)} cycles\n")
    return 0
