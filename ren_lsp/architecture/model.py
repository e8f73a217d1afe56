"""What the analysis finds, as plain frozen records: files, labelled edges, cycles, externals,
entry points, and the whole ``Analysis`` with its JSON form (``ren-lsp architecture --json``)."""

from __future__ import annotations

from typing import Any

import attrs

#: edge kinds: imported when the module loads, only for type checkers, or inside a function
RUNTIME, TYPE, LAZY = "runtime", "type", "lazy"


@attrs.frozen
class Import:
    """One import in a file: its specifier as written, its line (1-based) and kind.

    For a Python ``from X import a, b``, ``spec`` is ``X`` (dots kept) and ``names`` ``(a, b)``.
    """

    spec: str
    line: int
    kind: str = RUNTIME
    names: tuple[str, ...] = ()


@attrs.frozen
class SourceFile:
    """One code file of the analysed folder (``path`` is posix, relative to it)."""

    path: str
    language: str
    lines: int
    definitions: int
    imports: tuple[Import, ...]
    #: has ``if __name__ == "__main__"`` (Python) or is ``package main`` (Go)
    main: bool = False
    #: the Go package clause's name
    package: str = ""
    #: a test file (never an entry point, never a hub)
    test: bool = False
    #: resolved by rules that only approximate the language's own
    approximate: bool = False


@attrs.frozen
class Edge:
    """``source`` imports ``target`` at ``line``; ``kind`` is runtime, type or lazy."""

    source: str
    target: str
    line: int
    kind: str


@attrs.frozen
class Cycle:
    """Files that import each other at run time (a strongly connected component).

    ``closing_edges`` are the runtime edges between its files; ``cut`` is the smallest set of
    them whose removal leaves no cycle (``cut_exact`` False: a small set found greedily).
    """

    files: tuple[str, ...]
    closing_edges: tuple[Edge, ...]
    cut: tuple[Edge, ...]
    cut_exact: bool = True


@attrs.frozen
class External:
    """A module from outside the folder: standard library (or Node built-in) or third-party."""

    name: str
    kind: str  # "stdlib" | "third-party"
    declared: bool
    used_by: tuple[str, ...]


@attrs.frozen
class EntryPoint:
    file: str
    why: str


@attrs.frozen
class Analysis:
    """The whole analysis of one folder."""

    root: str
    files: dict[str, SourceFile]
    edges: tuple[Edge, ...]
    cycles: tuple[Cycle, ...]
    #: cycles that exist only through type-checking or function-level imports
    deferred_cycles: tuple[tuple[str, ...], ...]
    externals: tuple[External, ...]
    declared_unused: tuple[str, ...]
    entry_points: tuple[EntryPoint, ...]
    #: manifests read (paths relative to the root)
    manifests: tuple[str, ...]
    #: what is approximate or worth a warning, in sentences
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The object ``ren-lsp architecture --json`` prints (paths relative to ``root``)."""
        return {
            "root": self.root,
            "language_of": {path: f.language for path, f in sorted(self.files.items())},
            "modules": sorted(self.files),
            "edges": [{"from": e.source, "to": e.target, "line": e.line, "kind": e.kind}
                      for e in self.edges],
            "cycles": [{"files": list(c.files),
                        "closing_edges": [{"from": e.source, "to": e.target, "line": e.line}
                                          for e in c.closing_edges],
                        "cut": [{"from": e.source, "to": e.target} for e in c.cut],
                        "cut_exact": c.cut_exact} for c in self.cycles],
            "externals": [{"name": x.name, "kind": x.kind, "declared": x.declared,
                           "used_by": list(x.used_by)} for x in self.externals],
            "declared_unused": list(self.declared_unused),
            "entry_points": [{"file": p.file, "why": p.why} for p in self.entry_points],
            "manifests": list(self.manifests),
            "approximate": sorted(p for p, f in self.files.items() if f.approximate),
            "notes": list(self.notes),
        }
