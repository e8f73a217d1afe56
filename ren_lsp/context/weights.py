"""How much each signal of the ranking counts (``rank.py``), and by whom it was chosen.

The question's weights were fitted by ``bench/context_dev.py`` on the retrieval development set
(120 commits of six public repositories) and the project's own cases, with cross-validation by
repository; the editor's weights (selection, imports, …) were set by hand on the project's cases
(``bench/context_quality.py``).
"""

from __future__ import annotations

import attrs

from ren_lsp.context import kinds

#: the question's signals, each scaled to 0..1 over the matching files
QUESTION_SIGNALS = ("body", "defs", "path", "notes", "question_names", "size", "fan_in",
                    "neighbours", "tested", "passage", "phrase", "definition", "coverage")


@attrs.frozen
class Weights:
    """How much each signal counts (each is scaled to 0..1 over the files of a query first)."""

    # -- the question's words (fitted: bench/context_dev.py) --
    body: float = 0.222
    defs: float = 0.318
    path: float = 0.329
    notes: float = 0.105
    question_names: float = 0.225
    size: float = 0.276
    fan_in: float = 0.155
    neighbours: float = 0.026
    #: a test named after the file matches the question
    tested: float = 0.309
    #: the file's best passage (``passages.py``), and the question's phrases in it
    passage: float = 0.382
    phrase: float = 0.317
    #: the file's best definition: its name and signature match the question
    definition: float = 0.129
    #: the share of the question's distinct terms the file matches
    coverage: float = 0.205
    # -- the question part of a file's score is multiplied by its kind's factor unless the
    # request is about that kind
    test: float = 0.0
    #: set, not fitted: declarations rank a little below the implementation beside them
    stub: float = 0.75
    doc: float = 0.1
    example: float = 0.3
    tooling: float = 0.3
    generated: float = 0.3
    vendored: float = 0.2
    config: float = 0.1
    other: float = 0.1
    # -- the editor's context --
    selection: float = 1.6
    imports: float = 0.9
    importers: float = 0.5
    references: float = 0.5
    open: float = 0.3
    folder: float = 0.15
    #: tests named after the current file (test_edits.py for edits.py)
    tests: float = 0.5

    def kind_factor(self, kind: str, wanted: frozenset[str]) -> float:
        """What the question part of a ``kind`` file's score is multiplied by."""
        if kind in wanted or kind == kinds.SOURCE:
            return 1.0
        return float(getattr(self, kind, self.other))
