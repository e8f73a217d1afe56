"""The index service: the workspace's context engine, kept current from the editor. It is
built in the background after `initialized` (with its own "Indexing workspace" progress) and
updated file by file from didOpen / didChange / didSave / didClose and watched-file changes.
Requests never wait for it: they use what is indexed so far.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ren_lsp.lsp.documents import uri_path
from ren_lsp.text import plural

if TYPE_CHECKING:
    from ren_lsp.context import ContextEngine, ContextResult
    from ren_lsp.lsp.protocol import Server

log = logging.getLogger(__name__)

#: seconds of quiet after a keystroke before the file is indexed again
DEBOUNCE = 0.3
#: a large build's worker processes run this much below the server: requests come first
WORKER_NICENESS = 5
#: seconds after a request parsed files on demand before the cache is written with them
SAVE_DELAY = 20.0
#: the third generation's threshold while a build runs: no automatic full collection
NO_FULL_COLLECTION = 2**31 - 1


class QuietCollector:
    """Keeps the cyclic garbage collector's full collections away from a build.

    A full collection walks every tracked object and holds the interpreter's lock meanwhile:
    with a large index in memory that is 100-400 ms (measured on 50,000 files) during which
    no request is answered. The records are made to live as long as the index, so they go to
    the permanent generation (``gc.freeze``, which costs nothing) as each burst that makes
    them ends (``context/quiet.py``: a cache's records, a batch's), and while a build runs the
    full collections are off; young ones still run, so the short-lived cycles of requests are
    still collected. Builds may overlap (one waits for the other): the
    thresholds come back when the last one ends.
    """

    def __init__(self) -> None:
        self._builds = 0
        self._thresholds = gc.get_threshold()

    def __enter__(self) -> QuietCollector:
        if not self._builds:
            self._thresholds = gc.get_threshold()
            # What the server made since it started (modules, types, the converter) stays
            # too: out of every later collection's walk.
            gc.freeze()
            gc.set_threshold(self._thresholds[0], self._thresholds[1], NO_FULL_COLLECTION)
            from ren_lsp.context import quiet  # here: the server starts without the engine

            quiet.freeze_after_bursts(True)
        self._builds += 1
        return self

    def __exit__(self, *_: object) -> None:
        self._builds -= 1
        if not self._builds:
            from ren_lsp.context import quiet

            quiet.freeze_after_bursts(False)  # a request's parse on demand: collected as usual
            gc.collect(1)  # the young cycles of the build's last steps: not kept forever
            gc.freeze()
            gc.set_threshold(*self._thresholds)


class Indexing:
    """Owns the server's ContextEngine and feeds it the editor's changes."""

    def __init__(self, ls: Server) -> None:
        self.ls = ls
        self.engine: ContextEngine | None = None
        self.task: asyncio.Task[None] | None = None
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._builds: set[asyncio.Task[None]] = set()
        self._save: asyncio.TimerHandle | None = None
        self._collector = QuietCollector()
        from ren_lsp.lsp.output import state_dir

        self._state_dir = state_dir()

    def _ours(self, path: Path) -> bool:
        """Our own output documents: answers, not the user's code (never context)."""
        return path.is_relative_to(self._state_dir)

    def roots(self) -> list[Path]:
        folders = [uri_path(f.uri) for f in self.ls.workspace.folders.values()]
        roots = [p for p in folders if p is not None]
        if not roots and self.ls.workspace.root_path:
            roots = [Path(self.ls.workspace.root_path)]
        return roots

    def start(self) -> None:
        """Create the engine for the workspace's folders and build it in the background."""
        from ren_lsp.context import ContextEngine

        self.engine = ContextEngine(self.roots(), self.ls.settings,
                                    worker_niceness=WORKER_NICENESS)
        self._rebuild()

    async def _build(self) -> None:
        from ren_lsp.lsp.progress import Progress

        assert self.engine is not None
        if not self.engine.roots:
            return  # no folder: requests still get the current file's context
        progress = Progress(self.ls, "Indexing workspace")
        await progress.begin("listing files…")
        # A small build parses in a worker thread, which holds the GIL in long stretches: hand
        # it back to the thread answering the editor more often while indexing (5 ms by
        # default). A large one parses in worker processes.
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, 0.0005))
        last = [0]

        def report(done: int, total: int) -> None:
            if done == total or done - last[0] >= 200:
                last[0] = done
                progress.report_message(f"{done}/{total} files")

        try:
            with self._collector:
                await self.engine.build(progress=report)
        except Exception:  # the index is a help, never a reason to fail
            log.exception("indexing the workspace failed")
            progress.end("Indexing failed (see the log); requests carry less context")
            return
        finally:
            sys.setswitchinterval(switch)
        stats = self.engine.stats
        progress.end(f"{plural(stats.parsed, 'file')} indexed, {stats.from_cache} from the cache"
                     + (f" ({plural(stats.workers, 'worker process', 'worker processes')})"
                        if stats.workers else ""))

    async def ready(self) -> None:
        """Wait for the background build (for work that needs the whole index)."""
        if self.task is not None and not self.task.done():
            await asyncio.shield(self.task)

    def configure(self) -> None:
        """New settings: new file rules mean listing (or indexing) the workspace again."""
        if self.engine is None:
            return
        before = self.engine.index
        self.engine.configure(self.ls.settings)
        if self.engine.index is not before or self.engine.index.stale:
            self._rebuild()

    def _rebuild(self) -> None:
        """Build (again) once any running build is done (builds run one after the other)."""
        self.task = asyncio.get_running_loop().create_task(self._build(), name="ren-index")
        self._builds.add(self.task)  # the loop holds tasks weakly
        self.task.add_done_callback(self._builds.discard)

    # -- the editor's changes ----------------------------------------------------------------

    def changed(self, uri: str, *, from_buffer: bool = True, delay: float = DEBOUNCE) -> None:
        """Index ``uri`` again once the user pauses (one parse per pause, not per keystroke)."""
        path = uri_path(uri)
        if self.engine is None or path is None or self._ours(path):
            return
        if (handle := self._pending.pop(uri, None)) is not None:
            handle.cancel()
        loop = asyncio.get_running_loop()
        self._pending[uri] = loop.call_later(delay, self._update, uri, from_buffer)

    def _update(self, uri: str, from_buffer: bool, *, now: bool = False) -> None:
        """Index one file again: in a worker thread (parsing, and `git check-ignore` for a new
        file, must not hold up the editor), or ``now`` when a request is about to read it."""
        self._pending.pop(uri, None)
        path = uri_path(uri)
        if self.engine is None or path is None:
            return
        text = None
        if from_buffer:
            doc = self.ls.workspace.text_documents.get(uri)
            text = doc.source if doc is not None else None
        if now:
            self._update_file(path, text)
            return
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, self._update_file, path, text).add_done_callback(
            lambda _: self._after_update())

    def _update_file(self, path: Path, text: str | None) -> None:
        assert self.engine is not None
        try:
            self.engine.update(path, text)
        except Exception:
            log.exception("indexing %s failed", path)

    def _after_update(self) -> None:
        # A changed .gitignore or .renignore changes which files count: list them again.
        if self.engine is not None and self.engine.index.stale and (
                self.task is None or self.task.done()):
            self._rebuild()

    def flush(self) -> None:
        """Index now what waits for a pause in typing: a request sees every keystroke."""
        for uri, handle in list(self._pending.items()):
            handle.cancel()
            self._update(uri, True, now=True)

    def watched(self, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            path = uri_path(change.uri)
            if self.engine is None or path is None:
                continue
            if change.type == types.FileChangeType.Deleted:
                self.engine.remove(path)
            elif change.uri not in self.ls.workspace.text_documents:
                self.changed(change.uri, from_buffer=False, delay=0)

    # -- what a request carries ---------------------------------------------------------------

    def definitions(self, names: list[str], *, uri: str | None = None,
                    limit: int = 8) -> list[str]:
        """Signatures of where ``names`` are defined in other indexed files ("sig  # path:line"),
        for inline completion: dictionary lookups only, quick enough for every keystroke.
        Secret and ignored files are never indexed, so never quoted."""
        if self.engine is None or not names:
            return []
        index = self.engine.index
        current = uri_path(uri) if uri else None
        own = index.key_of(current) if current is not None else None
        found: list[str] = []
        with index.lock:
            for name in names:
                for key in sorted(index.definers(name)):
                    record = index.records.get(key)
                    if record is None or key == own:
                        continue
                    for definition in record.definitions:
                        if definition.name == name:
                            found.append(f"{definition.signature}  # {record.rel}:"
                                         f"{definition.line + 1}")
                            break
                    if len(found) >= limit:
                        return found
        return found

    async def query(self, *, question: str = "", uri: str | None = None,
                    selection: str = "") -> ContextResult | None:
        """The context for a request, from what is indexed so far; None without an engine.

        Ranking a large workspace takes tens of milliseconds: it runs in a worker thread, so
        the editor is answered meanwhile.
        """
        if self.engine is None:
            return None
        self.flush()
        current = uri_path(uri) if uri else None
        open_files = [p for u in list(self.ls.workspace.text_documents)
                      if u != uri and (p := uri_path(u)) is not None and not self._ours(p)]
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, functools.partial(
                self.engine.query, question=question, current=current, selection=selection,
                open_files=open_files))
        except Exception:
            log.exception("building the context failed; sending the request without it")
            return None
        self._save_later()
        return result

    def _save_later(self) -> None:
        """Write the cache a while after a request that parsed files on demand (once for many
        requests), so that a restart does not parse them again; while a build runs, after it."""
        if self.engine is None or not self.engine.index.changed_since_saved or (
                self._save is not None):
            return
        loop = asyncio.get_running_loop()

        def save() -> None:
            self._save = None
            if self.engine is None or not self.engine.index.changed_since_saved:
                return
            if self.task is not None and not self.task.done():
                self._save_later()  # a build runs: try again after a while
                return
            loop.run_in_executor(None, self.engine.index.save_cache)

        self._save = loop.call_later(SAVE_DELAY, save)
