"""Repository context: which files and snippets a request to Astra should carry.

The engine lists the workspace's files (honouring ``.gitignore``, ``.renignore`` and never reading
secret files), indexes their definitions, imports and words in the background, ranks them for a
request (the current file, its imports and importers, the selection's identifiers, the question's
words, the open files) and renders the best within a token budget, secrets redacted::

    engine = ContextEngine([workspace], settings)
    await engine.build(progress=report)          # in the background; queries work meanwhile
    engine.update(path, text)                    # didOpen / didChange / didSave / watched files
    result = engine.query(question="…", current=path, selection="…")
    result.text, result.files, result.tokens

Importing this package is cheap: tree-sitter loads with the first parse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from ren_lsp.context.files import is_secret_file
from ren_lsp.context.secrets import redact

if TYPE_CHECKING:
    from ren_lsp.config import Settings
    from ren_lsp.context.index import Index, IndexStats

__all__ = ["ContextEngine", "ContextResult", "RankedFile", "default_cache_dir", "is_secret_file",
           "redact"]

DEFAULT_BUDGET = 6000
#: during a build, the files whose definitions a query reads at once, best first
CANDIDATES = 20


@attrs.frozen
class RankedFile:
    """One file of a result: its path (posix, relative to its workspace root), score and why."""

    path: str
    score: float
    reasons: tuple[str, ...]
    #: what the file is for: source, test, doc, example, tooling, generated, vendored, config,
    #: other (``ren_lsp.context.kinds``)
    kind: str = "source"


@attrs.frozen
class ContextResult:
    """What a request should carry: the ranked files (best first) and the rendered text.

    ``text`` is secret-redacted; ``tokens`` is its estimated size (characters / 4).
    """

    files: list[RankedFile]
    tokens: int
    text: str
    #: secrets replaced in ``text``
    redactions: int = 0
    #: how much of the workspace the ranking saw: files read, files listed (equal once the
    #: index is built)
    indexed: int = 0
    total: int = 0

    @property
    def partial(self) -> bool:
        """Whether the index was still being built when this was ranked."""
        return self.indexed < self.total

    def coverage_note(self) -> str:
        """What a partial result says of itself ("" once the index is complete)."""
        if self.indexed < self.total:
            return f"indexed {self.indexed} of {self.total} files so far"
        return ""

    def to_json(self) -> dict[str, object]:
        """The result as ``ren-lsp context --json`` prints it; with an ``index`` entry saying
        how much was indexed when the index was still being built."""
        result: dict[str, object] = {
            "files": [{"path": f.path, "score": f.score, "kind": f.kind,
                       "reasons": list(f.reasons)} for f in self.files],
            "tokens": self.tokens, "context": self.text}
        if self.partial:
            result["index"] = {"indexed": self.indexed, "total": self.total,
                               "note": self.coverage_note()}
        return result


def default_cache_dir() -> Path:
    """Where indexes are cached: ``<user cache dir>/ren-lsp/context``."""
    import platformdirs

    return platformdirs.user_cache_path("ren-lsp") / "context"


class ContextEngine:
    """The context engine of one workspace (any number of roots, none included)."""

    def __init__(self, roots: Sequence[Path], settings: Settings | None = None,
                 cache_dir: Path | None = None, *, use_cache: bool = True,
                 workers: int | None = None, worker_niceness: int = 0) -> None:
        self.roots = [Path(root) for root in roots]
        self._configure(settings)
        cache = (cache_dir or default_cache_dir()) if use_cache else None
        #: worker processes of a large build (None: one per core, 0: none) and their priority
        #: below this process's
        self.workers, self.worker_niceness = workers, worker_niceness
        self.index: Index = self._new_index(cache)

    def _new_index(self, cache: Path | None) -> Index:
        from ren_lsp.context.index import Index

        index = Index(self.roots, cache_dir=cache, extra_ignores=self._ignores,
                      extra_secrets=self._secrets, secret_patterns=self._patterns,
                      workers=self.workers)
        index.worker_niceness = self.worker_niceness
        return index

    def _configure(self, settings: Settings | None) -> None:
        self.budget = settings.context_budget if settings is not None else DEFAULT_BUDGET
        self._ignores = tuple(settings.ignore_files) if settings is not None else ()
        self._secrets = tuple(settings.secret_files) if settings is not None else ()
        self._patterns = tuple(settings.secret_patterns) if settings is not None else ()

    def configure(self, settings: Settings) -> None:
        """New settings: changed file rules take effect with the next ``build``."""
        before = (self._ignores, self._secrets, self._patterns)
        self._configure(settings)
        if (self._ignores, self._secrets, self._patterns) == before:
            return
        if self._patterns != before[2]:  # every record was made from differently redacted text
            self.index = self._new_index(self.index.cache_dir)
            return
        self.index.extra_ignores, self.index.extra_secrets = self._ignores, self._secrets
        self.index.stale = True

    @property
    def stats(self) -> IndexStats:
        """Counters: files parsed, reused from the cache, listed, skipped by reason."""
        return self.index.stats

    async def build(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Index the workspace, or what changed in it since the last build (or the last run).

        Safe to run as a background task: the work runs in the default executor, a batch at a
        time, and ``progress(indexed, total)`` is called after each batch.
        """
        await self.index.build(progress)

    def build_sync(self, progress: Callable[[int, int], None] | None = None) -> None:
        """``build`` without an event loop (command line, benchmarks)."""
        self.index.build_sync(progress)

    def update(self, path: Path, text: str | None = None) -> bool:
        """Index one file again, from an open buffer's ``text`` or from disk.

        For didOpen / didChange (with the buffer's text), didSave and watched-file changes
        (without). Returns whether the file is indexed; secret, ignored and excluded files never
        are. Parses that one file only, in the caller's thread.
        """
        return self.index.update(path, text)

    def remove(self, path: Path) -> None:
        """Forget one file (deleted). After didClose, call ``update(path)`` instead."""
        self.index.remove(path)

    def query(self, *, question: str = "", current: Path | None = None, selection: str = "",
              open_files: Sequence[Path] = (), budget: int | None = None) -> ContextResult:
        """The context for one request, from what is indexed so far (never waits for a build).

        ``current`` is the file the request is about (indexed now if it is not yet), its
        ``selection`` the selected text, ``open_files`` the editor's other open files.
        """
        from ren_lsp.context.rank import Request, rank
        from ren_lsp.context.render import render

        index = self.index
        current_key = None
        if current is not None:
            current_key = index.key_of(current)
            if current_key not in index.records:
                index.update(current)
        request = Request(question=question, current=current_key, selection=selection,
                          open_files=tuple(index.key_of(p) for p in open_files))
        if current_key is not None:
            index.ensure_symbols([current_key])
        coverage = index.coverage()
        ranked = rank(index, request)
        if index.ensure_symbols([r.key for r in ranked[:CANDIDATES]]):
            # A large build sketches definitions: the candidates' are parsed now, so the files
            # this request carries rank, and show their signatures, by what a parse finds.
            coverage = index.coverage()
            ranked = rank(index, request)
        rendered = render(index, ranked, question=question + "\n" + selection,
                          budget=self.budget if budget is None else budget,
                          secret_patterns=self._patterns)
        files = [RankedFile(r.key, r.score, r.reasons, r.kind) for r in ranked]
        return ContextResult(files, rendered.tokens, rendered.text, rendered.redactions,
                             *coverage)
