"""Architecture analysis: a folder's import graph by each language's own rules, labelled edges,
runtime cycles with the imports that close them and the fewest that break them, externals split
into the standard library and third-party and checked against the manifests, grounded entry
points, and a report people can read (``report.py``) or a JSON object (``Analysis.to_json``).

``ren.analyzeArchitecture`` (``report_of``) and ``ren-lsp architecture`` (``cli.py``) share it::

    analysis = analyze_index(engine.index, "src/")   # None: no code files there
    text = report_of(engine.index, "src/", title="Architecture of src")

Importing this package is cheap: the parts load when a function runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ren_lsp.architecture.analysis import Listed
    from ren_lsp.architecture.model import Analysis
    from ren_lsp.context.index import FileRecord, Index

__all__ = ["analyze_index", "modules_of", "report_of"]

#: default-excluded folders (``context/files.py``) whose code the user may not expect to lose
_BUILD_FOLDERS = ("build", "dist", "out", "target", "vendor", "third_party", "_vendor")


def modules_of(index: Index) -> tuple[list[Listed], dict[str, FileRecord]]:
    """The indexed files of the workspace (by key), and their records by key."""
    from ren_lsp.architecture.analysis import Listed

    with index.lock:
        # Files outside every workspace folder (opened from elsewhere) are not part of it.
        records = {r.key: r for r in index.records.values() if r.root >= 0}
    listed = [Listed(key, r.language, len(r.definitions), r.imports)
              for key, r in sorted(records.items())]
    return listed, records


def analyze_index(index: Index, prefix: str = "") -> Analysis | None:
    """The analysis of the indexed folder ``prefix`` ("" or ``"dir/"``); None without code."""
    from ren_lsp.architecture.analysis import analyze, is_code

    listed, records = modules_of(index)
    if not any(is_code(item) and item.path.startswith(prefix) for item in listed):
        return None

    def read(key: str) -> str | None:
        return index.text_of(key) if key in records else None

    def approximate(path: str, spec: str) -> set[str]:
        return index.graph.resolve(records[path], spec)

    root = _folder_path(index, prefix)
    return analyze(str(root) if root else prefix.rstrip("/") or ".", listed, read, approximate,
                   _left_out(root) if root else [], within=prefix)


def report_of(index: Index, prefix: str = "", *, title: str = "Architecture") -> str | None:
    """The Markdown report of the indexed folder ``prefix``; None when it holds no code."""
    from ren_lsp.architecture.report import render

    analysis = analyze_index(index, prefix)
    return None if analysis is None else render(analysis, title=title)


def _folder_path(index: Index, prefix: str) -> Path | None:
    """The folder on disk (the only root, or the root named by the prefix)."""
    if len(index.roots) == 1:
        return index.roots[0] / prefix if prefix else index.roots[0]
    return None


def _left_out(folder: Path) -> list[str]:
    """Notes on build and vendored folders the ignore rules leave out, so none goes silently."""
    notes = []
    for name in _BUILD_FOLDERS:
        path = folder / name
        if not path.is_dir():
            continue
        count = 0
        for _, _, names in os.walk(path):
            count += sum(n.endswith((".py", ".ts", ".tsx", ".js", ".mjs", ".go")) for n in names)
            if count > 10_000:
                break
        if count:
            notes.append(f"`{name}/` ({count} code files) is left out, like every build or "
                         f"vendored folder; the `ignoreFiles` setting `!{name}/` brings it in.")
    return notes
